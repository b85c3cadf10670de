/**
 * What the store keeps so reports need not reconstruct it (migration 8: each run example's question
 * and supporting paragraph ids), the stored trajectory's one schema (src/store/trajectory.ts), and
 * the Store as a disposable. Runs recorded before the migration still report the same numbers.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadRunReport, worstExamples } from "../../src/report/data.ts";
import { openReadOnly, openStore } from "../../src/store/index.ts";
import { readTrajectory, trajectoryOf } from "../../src/store/trajectory.ts";
import { ROOT } from "../helpers/cli.ts";
import { evaluateDatabase } from "../report/fixtures.ts";
import { programResult, temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory();
afterAll(() => directory.remove());

let database: string;
beforeAll(async () => {
  database = directory.database("evaluated.db");
  copyFileSync((await evaluateDatabase()).database, database);
}, 300_000);

interface SampleRecord {
  id: string;
  question: string;
  paragraphs: { idx: number; is_supporting: boolean }[];
}

const SAMPLE = new Map(
  readFileSync(join(ROOT, "src", "data", "sample", "musique_ans_dev_sample150.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as SampleRecord)
    .map((record) => [record.id, record]),
);

describe("what a run stores about its examples", () => {
  test("musique evaluate records each example's question and supporting paragraph ids with the run", () => {
    const db = new Database(database, { readonly: true });
    const rows = db
      .query("SELECT example_id AS id, question, supporting_ids_json AS supporting FROM run_examples WHERE run_id = (SELECT id FROM runs WHERE name = 'a')")
      .all() as { id: string; question: string | null; supporting: string | null }[];
    db.close();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const record = SAMPLE.get(row.id);
      const supporting = record?.paragraphs.filter((paragraph) => paragraph.is_supporting).map((paragraph) => String(paragraph.idx));
      expect({ id: row.id, question: row.question, supporting: JSON.parse(row.supporting ?? "null") as unknown }).toEqual({
        id: row.id,
        question: record?.question ?? "",
        supporting,
      });
    }
  });

  test("a run recorded before they were stored reports the same scores, recall curve and questions (reconstructed)", () => {
    const older = directory.database("older.db");
    copyFileSync(database, older);
    const db = new Database(older);
    db.run("UPDATE run_examples SET question = NULL, supporting_ids_json = NULL");
    db.close();
    const read = (path: string) => {
      using store = openReadOnly(path);
      const report = loadRunReport(store, "b");
      return { scores: report.scores, recallAtHop: report.recallAtHop, questions: worstExamples(store, "b", 100).map((example) => [example.id, example.question]) };
    };
    const stored = read(database);
    expect(stored.questions.every(([, question]) => typeof question === "string" && question.length > 0)).toBe(true);
    expect(read(older)).toEqual(stored);
  });
});

describe("the stored trajectory", () => {
  test("what trajectoryOf writes, readTrajectory reads back", () => {
    const result = programResult("Paris", {
      hops: [
        {
          hop: 0,
          query: "first",
          retrieved: [{ id: "3", title: "T", body: "B", text: "# T\nB", score: 1.5, isSupporting: true }],
          documentsText: "",
          keyInformation: "fact",
        },
      ],
      failure: { kind: "format", module: "generate_answer", message: "no answer field" },
    });
    const written = trajectoryOf(result);
    expect(readTrajectory(JSON.stringify(written))).toEqual(written);
  });

  test("NULL, text that is not JSON and another shape read as no trajectory; missing optional fields get defaults", () => {
    expect(readTrajectory(null)).toBeNull();
    expect(readTrajectory("{oops")).toBeNull();
    expect(readTrajectory('{"hops": 3}')).toBeNull();
    expect(readTrajectory('{"hops": [{"query": "q", "retrieved": [{"id": "1"}]}]}')).toEqual({
      hops: [{ hop: 0, query: "q", retrieved: [{ id: "1", title: "", body: "", score: null, isSupporting: false }], keyInformation: "" }],
      collectedInfo: [],
      failure: null,
    });
  });
});

describe("the Store", () => {
  test("is disposable: `using` closes it at the end of the block", () => {
    const path = directory.database("disposable.db");
    let escaped: ReturnType<typeof openStore> | undefined;
    {
      using store = openStore(path);
      escaped = store;
      expect(store.database.query("SELECT 1 AS one").get()).toEqual({ one: 1 });
    }
    expect(() => escaped?.database.query("SELECT 1").get()).toThrow();
  });
});
