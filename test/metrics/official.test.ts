import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataError } from "../../src/errors.ts";
import { evaluateOfficialFiles } from "../../src/metrics/official-files.ts";
import { pythonRound } from "../../src/text/python.ts";
import { runCli } from "../helpers/cli.ts";

const GOLD = join(import.meta.dir, "..", "fixtures", "musique_ans_dev_sample150.jsonl");
const directory = mkdtempSync(join(tmpdir(), "musique-score-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

interface GoldLine {
  id: string;
  answer: string;
  paragraphs: { idx: number; is_supporting: boolean }[];
}

async function goldLines(): Promise<GoldLine[]> {
  const text = await Bun.file(GOLD).text();
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as GoldLine);
}

function supportOf(record: GoldLine): number[] {
  return record.paragraphs.filter((paragraph) => paragraph.is_supporting).map((paragraph) => paragraph.idx);
}

async function writePredictions(name: string, rows: object[]): Promise<string> {
  const path = join(directory, name);
  await Bun.write(path, rows.map((row) => JSON.stringify(row)).join("\n") + "\n");
  return path;
}

async function goldPredictions(): Promise<object[]> {
  return (await goldLines()).map((record) => ({
    id: record.id,
    predicted_answer: record.answer,
    predicted_support_idxs: supportOf(record),
    predicted_answerable: true,
  }));
}

describe("official evaluation (evaluate_v1.0.py)", () => {
  test("predictions equal to the gold answers and support score 1.0", async () => {
    const path = await writePredictions("gold.jsonl", await goldPredictions());
    expect(await evaluateOfficialFiles(GOLD, path)).toEqual({ answer_f1: 1, answer_em: 1, support_f1: 1 });
  });

  test("mixed predictions match the numbers of the Python reference implementation", async () => {
    // Every third answer right, every third half right, every third wrong; every other support set off by one.
    const rows = (await goldLines()).map((record, index) => {
      const support = supportOf(record);
      const answer = index % 3 === 0 ? record.answer : index % 3 === 1 ? `${record.answer.split(" ")[0]} foo` : "xyz";
      const predicted = index % 2 === 0 ? support : [support[0] ?? 0, support.includes(19) ? 18 : 19];
      return { id: record.id, predicted_answer: answer, predicted_support_idxs: predicted, predicted_answerable: true };
    });
    const path = await writePredictions("mixed.jsonl", rows);
    const result = await evaluateOfficialFiles(GOLD, path, { detailed: true });
    expect(result).toEqual({
      answer_f1: 0.498,
      answer_em: 0.333,
      support_f1: 0.733,
      by_hops: {
        "2": { answer_f1: 0.504, answer_em: 0.339, support_f1: 0.748, count: 109 },
        "3": { answer_f1: 0.517, answer_em: 0.304, support_f1: 0.687, count: 23 },
        "4": { answer_f1: 0.439, answer_em: 0.333, support_f1: 0.704, count: 18 },
      },
    });
  });

  test("predictions in a different order fail with the first mismatching line and ids", async () => {
    const rows = await goldPredictions();
    const swapped = [rows[1], rows[0], ...rows.slice(2)] as object[];
    const path = await writePredictions("swapped.jsonl", swapped);
    const ids = (await goldLines()).map((record) => record.id);
    const error = await evaluateOfficialFiles(GOLD, path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toBe(
      `predictions do not line up with the gold file: prediction line 1 has id ${ids[1]}, gold line 1 has id ${ids[0]}`,
    );
    expect((error as DataError).hint).toContain("0 gold id(s) missing from the predictions, 0 extra");
  });

  test("missing and extra predictions are counted", async () => {
    const rows = (await goldPredictions()).slice(0, 148);
    rows.push({ id: "2hop__nope", predicted_answer: "x", predicted_support_idxs: [], predicted_answerable: true });
    const path = await writePredictions("short.jsonl", rows);
    const error = (await evaluateOfficialFiles(GOLD, path).catch((caught: unknown) => caught)) as DataError;
    expect(error.message).toContain("prediction line 149 has id 2hop__nope");
    expect(error.hint).toContain("2 gold id(s) missing from the predictions, 1 extra prediction id(s), 150 gold vs 149 prediction lines");
  });

  test("a malformed line names the file and line", async () => {
    const path = join(directory, "broken.jsonl");
    await Bun.write(path, '{"id": "a", "predicted_answer": "x", "predicted_support_idxs": []}\n{oops\n');
    const error = (await evaluateOfficialFiles(GOLD, path).catch((caught: unknown) => caught)) as DataError;
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toStartWith(`${path} line 2: not valid JSON`);
  });

  test("support indices must be integers", async () => {
    const path = await writePredictions("bad-support.jsonl", [{ id: "a", predicted_answer: "x", predicted_support_idxs: ["1"] }]);
    const error = (await evaluateOfficialFiles(GOLD, path).catch((caught: unknown) => caught)) as DataError;
    expect(error.message).toBe(`${path} line 1: field predicted_support_idxs[0] must be an integer, got "1"`);
  });

  test("means round like Python's round(): exact halves to even", () => {
    expect(pythonRound(0.0625, 3)).toBe(0.062);
    expect(pythonRound(0.1875, 3)).toBe(0.188);
    expect(pythonRound(2 / 3, 3)).toBe(0.667);
    expect(pythonRound(0.0005, 3)).toBe(0.001); // 0.0005 is slightly above a half in binary
  });
});

describe("musique score", () => {
  test("prints the official JSON, with a per-hop breakdown when --detailed", async () => {
    const path = await writePredictions("cli.jsonl", await goldPredictions());
    const result = await runCli(["score", "--gold", GOLD, "--predictions", path, "--detailed"]);
    expect(result.exitCode).toBe(0);
    const printed = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({ answer_f1: 1, answer_em: 1, support_f1: 1 });
    expect(Object.keys(printed.by_hops as object)).toEqual(["2", "3", "4"]);
  });

  test("a mismatched predictions file exits 3 with the mismatch on stderr", async () => {
    const rows = await goldPredictions();
    const path = await writePredictions("cli-swapped.jsonl", [rows[1], rows[0], ...rows.slice(2)] as object[]);
    const result = await runCli(["score", "--gold", GOLD, "--predictions", path]);
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("predictions do not line up with the gold file: prediction line 1");
  });
});
