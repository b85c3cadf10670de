import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { fixQuotes } from "../../src/data/quotes.ts";
import { parseJsonArray, parseJsonLines, rowProblem, validateRows } from "../../src/data/validate.ts";
import { DataError, ExitCode } from "../../src/errors.ts";

const FIXTURES = join(import.meta.dir, "..", "fixtures");
const devText = await Bun.file(join(FIXTURES, "musique_ans_dev_sample150.jsonl")).text();
const devRecords = devText
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => JSON.parse(line) as Record<string, unknown>);
const first = devRecords[0] as Record<string, unknown>;

function withParagraph(index: number, change: Record<string, unknown>): Record<string, unknown> {
  const paragraphs = (first.paragraphs as Array<Record<string, unknown>>).map((paragraph, position) =>
    position === index ? { ...paragraph, ...change } : paragraph,
  );
  return { ...first, paragraphs };
}

function problemOf(value: unknown): { field: string; reason: string } {
  const result = rowProblem(value);
  if ("example" in result) throw new Error("row was accepted");
  return result;
}

describe("rows → Example", () => {
  test("the dev sample validates: 150 examples, 109/23/18 by hop count", () => {
    const { examples, skipped } = validateRows(parseJsonLines(devText), { source: "dev", unit: "line" }, false);
    expect(examples.length).toBe(150);
    expect(skipped).toBe(0);
    const byHops = [2, 3, 4].map((hops) => examples.filter((example) => example.nHops === hops).length);
    expect(byHops).toEqual([109, 23, 18]);
  });

  test("supportingIds are the idx strings of supporting paragraphs in paragraph order; nHops counts them", () => {
    const result = rowProblem(first);
    if (!("example" in result)) throw new Error(result.reason);
    expect(result.example.supportingIds).toEqual(["1", "8"]);
    expect(result.example.nHops).toBe(2);
    expect(result.example.shape).toBe("2hop");
    expect(result.example.paragraphs[8]).toMatchObject({ idx: 8, isSupporting: true });
  });

  test("the shape comes from the id prefix (3hop1, 4hop3, …)", () => {
    const shapes = new Set(
      devRecords.map((record) => {
        const result = rowProblem(record);
        return "example" in result ? result.example.shape : "invalid";
      }),
    );
    expect([...shapes].sort()).toEqual(["2hop", "3hop1", "3hop2", "4hop1", "4hop2", "4hop3"]);
  });

  test("answers are [answer, ...answer_aliases]", () => {
    const record = { ...first, answer: "Stanley", answer_aliases: ["Stanley, ND", "Stanley, North Dakota"] };
    const result = rowProblem(record);
    if (!("example" in result)) throw new Error(result.reason);
    expect(result.example.answers).toEqual(["Stanley", "Stanley, ND", "Stanley, North Dakota"]);
  });

  test("fix_quotes is applied to paragraph_text (not to titles)", () => {
    const result = rowProblem(withParagraph(0, { paragraph_text: "he said ``hello'' twice", title: "``T''" }));
    if (!("example" in result)) throw new Error(result.reason);
    expect(result.example.paragraphs[0]?.text).toBe(fixQuotes("he said ``hello'' twice"));
    expect(result.example.paragraphs[0]?.text).toBe('he said "hello" twice');
    expect(result.example.paragraphs[0]?.title).toBe("``T''");
  });

  test("Parquet's BigInt integers become numbers", () => {
    const record = {
      ...withParagraph(3, { idx: 3n }),
      question_decomposition: [{ id: 574419n, question: "q", answer: "a", paragraph_support_idx: 8n }],
    };
    const result = rowProblem(record);
    if (!("example" in result)) throw new Error(result.reason);
    expect(result.example.paragraphs[3]?.idx).toBe(3);
    expect(typeof result.example.paragraphs[3]?.idx).toBe("number");
    expect(result.example.decomposition[0]).toEqual({ id: 574419, question: "q", answer: "a", paragraphSupportIdx: 8 });
  });

  test("a null paragraph_support_idx is allowed (MuSiQue-Full)", () => {
    const record = { ...first, question_decomposition: [{ id: 1, question: "q", answer: "a", paragraph_support_idx: null }] };
    const result = rowProblem(record);
    expect("example" in result && result.example.decomposition[0]?.paragraphSupportIdx).toBeNull();
  });
});

describe("bad rows", () => {
  test("a wrong field type names the field path and what it got", () => {
    expect(problemOf(withParagraph(2, { is_supporting: "yes" }))).toEqual({
      field: "paragraphs[2].is_supporting",
      reason: 'must be true or false, got "yes"',
    });
  });

  test("a missing field is reported as missing", () => {
    const { answer: _answer, ...rest } = first;
    expect(problemOf(rest)).toEqual({ field: "answer", reason: "is missing" });
  });

  test("a non-integer idx is rejected", () => {
    expect(problemOf(withParagraph(4, { idx: 1.5 })).field).toBe("paragraphs[4].idx");
    expect(problemOf(withParagraph(4, { idx: "4" })).reason).toContain("must be an integer");
  });

  test("a row that is not an object is rejected", () => {
    expect(problemOf([1, 2])).toEqual({ field: "(row)", reason: "must be a JSON object, got a list" });
  });

  test("a bad row stops validation with a DataError naming source, line, field and reason (exit 3)", () => {
    const lines = [JSON.stringify(first), JSON.stringify(withParagraph(2, { is_supporting: "yes" }))].join("\n");
    let caught: unknown;
    try {
      validateRows(parseJsonLines(lines), { source: "bad.jsonl", unit: "line" }, false);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DataError);
    expect((caught as DataError).exitCode).toBe(ExitCode.data);
    expect((caught as DataError).message).toBe('bad.jsonl line 2: field paragraphs[2].is_supporting must be true or false, got "yes"');
    expect((caught as DataError).describe()).toContain("--skip-invalid");
  });

  test("a malformed JSON line is a bad row too, with its 1-based line number (blank lines count)", () => {
    const lines = [JSON.stringify(first), "", '{"id": "2hop__1_2", "paragraphs": [', JSON.stringify(first)].join("\n");
    expect(() => validateRows(parseJsonLines(lines), { source: "bad.jsonl", unit: "line" }, false)).toThrow(/^bad\.jsonl line 3: not valid JSON/);
  });

  test("--skip-invalid skips and counts bad rows, keeping the good ones", () => {
    const lines = [JSON.stringify(first), "not json", JSON.stringify({ ...first, answer: 3 }), JSON.stringify(devRecords[1])].join("\n");
    const { examples, skipped } = validateRows(parseJsonLines(lines), { source: "bad.jsonl", unit: "line" }, true);
    expect(skipped).toBe(2);
    expect(examples.map((example) => example.id)).toEqual([String(first.id), String(devRecords[1]?.id)]);
  });

  test("a .json file must be one array; its records are numbered from 1", () => {
    expect(() => parseJsonArray('{"id": 1}', "x.json")).toThrow("x.json: expected a JSON array of records");
    expect(() => parseJsonArray("[1,", "x.json")).toThrow(/^x\.json: not valid JSON/);
    expect(parseJsonArray("[1, 2]", "x.json")).toEqual([
      { row: 1, value: 1 },
      { row: 2, value: 2 },
    ]);
  });
});

describe("speed", () => {
  test("2,400 records parse and validate (measured, printed)", () => {
    const many = Array.from({ length: 16 }, () => devText).join("");
    const started = performance.now();
    const { examples } = validateRows(parseJsonLines(many), { source: "x", unit: "line" }, false);
    const elapsed = performance.now() - started;
    expect(examples.length).toBe(2400);
    console.log(`parse + validate 2,400 records: ${elapsed.toFixed(0)} ms`);
  });
});
