/**
 * One home for the official MuSiQue format (src/data/official.ts, official-files.ts): `musique
 * score --gold FILE` and `--datasets FILE` accept exactly the same rows, with the same message for
 * a bad one; predictions are checked field by field with line numbers; the writers' files read back;
 * one rule reads hops and shape from an id.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadExamples } from "../../src/data/index.ts";
import { readPredictionsFile } from "../../src/data/official-files.ts";
import { evaluateOfficialFiles } from "../../src/metrics/official-files.ts";
import { idShape, officialRow, RowSchema } from "../../src/data/official.ts";
import { toExample } from "../../src/data/validate.ts";
import * as v from "valibot";
import { runCli } from "../helpers/cli.ts";

const directory = mkdtempSync(join(tmpdir(), "musique-official-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const SAMPLE = join(import.meta.dir, "..", "fixtures", "musique_ans_dev_sample150.jsonl");
const record = JSON.parse(readFileSync(SAMPLE, "utf8").split("\n")[0] ?? "") as Record<string, unknown> & {
  paragraphs: Record<string, unknown>[];
};

type Variant = [name: string, row: unknown];

const withParagraph = (index: number, change: Record<string, unknown>) => ({
  ...record,
  paragraphs: record.paragraphs.map((paragraph, at) => (at === index ? { ...paragraph, ...change } : paragraph)),
});
const without = (key: string) => Object.fromEntries(Object.entries(record).filter(([field]) => field !== key));
const noSupport = { ...record, paragraphs: record.paragraphs.map((paragraph) => ({ ...paragraph, is_supporting: false })) };

const VARIANTS: Variant[] = [
  ["a record of the official dev file", record],
  ["extra fields", { ...record, source: "x" }],
  ["answer_aliases null", { ...record, answer_aliases: null }],
  ["no answer_aliases", without("answer_aliases")],
  ["no question_decomposition", without("question_decomposition")],
  ["unanswerable without supporting paragraph", { ...noSupport, answerable: false }],
  ["answerable without supporting paragraph", noSupport],
  ["no paragraphs", { ...record, paragraphs: [] }],
  ["no question", without("question")],
  ["no answer", without("answer")],
  ["an empty id", { ...record, id: "" }],
  ["a number as id", { ...record, id: 7 }],
  ["is_supporting as a string", withParagraph(1, { is_supporting: "yes" })],
  ["a paragraph without title", withParagraph(0, { title: undefined })],
  ["idx as a string", withParagraph(2, { idx: "2" })],
  ["a list instead of an object", [record]],
];

/** The outcome of one row through --datasets FILE: accepted, or the message. */
async function asDataset(path: string): Promise<string> {
  try {
    await loadExamples(path, { seed: 89, noiseRate: 1, skipInvalid: false });
    return "accepted";
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The outcome of one row as `musique score`'s gold file (with a matching prediction). */
async function asGold(path: string, id: unknown): Promise<string> {
  const predictions = `${path}.predictions.jsonl`;
  await Bun.write(predictions, JSON.stringify({ id, predicted_answer: "x", predicted_support_idxs: [0] }) + "\n");
  try {
    await evaluateOfficialFiles(path, predictions);
    return "accepted";
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

describe("musique score and --datasets accept the same rows", () => {
  test("every row variant gets the same verdict and message from both (accepted by one ⇔ accepted by the other)", async () => {
    const verdicts: Record<string, { dataset: string; gold: string }> = {};
    for (const [index, [name, row]] of VARIANTS.entries()) {
      const path = join(directory, `variant-${index}.jsonl`);
      await Bun.write(path, JSON.stringify(row) + "\n");
      const id = typeof row === "object" && row !== null && "id" in row ? row.id : undefined;
      verdicts[name] = { dataset: await asDataset(path), gold: await asGold(path, id) };
    }
    for (const [name, { dataset, gold }] of Object.entries(verdicts)) expect({ name, gold }).toEqual({ name, gold: dataset });
    const accepted = Object.entries(verdicts)
      .filter(([, verdict]) => verdict.dataset === "accepted")
      .map(([name]) => name);
    expect(accepted).toEqual([
      "a record of the official dev file",
      "extra fields",
      "answer_aliases null",
      "no answer_aliases",
      "no question_decomposition",
      "unanswerable without supporting paragraph",
    ]);
    expect(verdicts["is_supporting as a string"]?.gold).toEndWith('line 1: field paragraphs[1].is_supporting must be true or false, got "yes"');
  });

  test("the command line: score refuses the row data refuses, naming file, line and field (exit 3 both)", async () => {
    const path = join(directory, "cli-bad.jsonl");
    await Bun.write(path, JSON.stringify(record) + "\n" + JSON.stringify(withParagraph(0, { idx: "0" })) + "\n");
    const predictions = join(directory, "cli-bad-predictions.jsonl");
    await Bun.write(predictions, "");
    const data = await runCli(["data", path]);
    const score = await runCli(["score", "--gold", path, "--predictions", predictions]);
    expect([data.exitCode, score.exitCode]).toEqual([3, 3]);
    const says = `${path} line 2: field paragraphs[0].idx must be an integer, got "0"`;
    expect(data.stderr).toContain(says);
    expect(score.stderr).toContain(says);
  });

  test("a predictions line is checked field by field with its line number; predicted_answerable defaults to true", async () => {
    const path = join(directory, "predictions.jsonl");
    await Bun.write(
      path,
      '{"id": "2hop__1_2", "predicted_answer": "Paris", "predicted_support_idxs": [1, 3]}\n\n{"id": "x", "predicted_answer": 3, "predicted_support_idxs": []}\n',
    );
    const error = await readPredictionsFile(path).catch((caught: unknown) => caught);
    expect(error instanceof Error ? error.message : "").toBe(`${path} line 3: field predicted_answer must be a string, got 3`);
    await Bun.write(path, '{"id": "2hop__1_2", "predicted_answer": "Paris", "predicted_support_idxs": [1, 3]}\n');
    expect(await readPredictionsFile(path)).toEqual([{ id: "2hop__1_2", predictedAnswer: "Paris", predictedSupportIdxs: [1, 3], predictedAnswerable: true }]);
  });
});

describe("the official format's writers and the id rule", () => {
  test("officialRow writes what the row schema reads back to the same example, for all 150 sample records", () => {
    const rows = readFileSync(SAMPLE, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as unknown);
    for (const raw of rows) {
      const example = toExample(v.parse(RowSchema, raw));
      expect(toExample(v.parse(RowSchema, officialRow(example)))).toEqual(example);
    }
  });

  test("hops and shape come from the id prefix; other ids have none", () => {
    expect(idShape("2hop__6827_55848")).toEqual({ hops: 2, shape: "2hop" });
    expect(idShape("3hop1__9285_5188_23307")).toEqual({ hops: 3, shape: "3hop1" });
    expect(idShape("4hop3__1_2_3_4")).toEqual({ hops: 4, shape: "4hop3" });
    expect(idShape("my-question-7")).toBeNull();
    expect(idShape("2hopX")).toBeNull();
  });
});
