/**
 * What the store keeps so reports need not reconstruct it (migration 10: each run example's question
 * and supporting paragraph ids), the stored trajectory's one schema (src/store/trajectory.ts), and
 * the Store as a disposable. Runs recorded before the migration still report the same numbers.
 * Issue 15 item 2's rules, checked on the source: one row type per table in src/store/tables.ts
 * (exactly the table's columns), and no cast of a query result in src/store.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadRunReport, worstExamples } from "../../src/report/data.ts";
import { openReadOnly, openStore } from "../../src/store/index.ts";
import { MIGRATIONS } from "../../src/store/schema.ts";
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
      return {
        scores: report.scores,
        recallAtHop: report.recallAtHop,
        questions: worstExamples(store, "b", 100).map((example) => [example.id, example.question]),
      };
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

/** `run_examples` → `RunExampleRow`: the table's words in PascalCase, the last one singular. */
function rowTypeName(table: string): string {
  const words = table.split("_").map((word) => word.charAt(0).toUpperCase() + word.slice(1));
  const last = words.length - 1;
  words[last] = (words[last] ?? "").replace(/s$/, "");
  return `${words.join("")}Row`;
}

const camel = (column: string) => column.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());

describe("one row type per table (src/store/tables.ts)", () => {
  test("every table of the schema has its row type in tables.ts, with exactly the table's columns in camelCase", () => {
    const db = new Database(":memory:");
    for (const migration of MIGRATIONS) db.run(migration);
    const tables = (db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((row) => row.name);
    const source = readFileSync(join(ROOT, "src", "store", "tables.ts"), "utf8");
    const declared = new Map<string, string[]>();
    for (const match of source.matchAll(/^export interface (\w+) \{\n([\s\S]*?)^\}/gm)) {
      const fields = [...(match[2] ?? "").matchAll(/^  (\w+)\??:/gm)].map((field) => field[1] ?? "");
      declared.set(match[1] ?? "", fields);
    }
    const found = tables.map((table) => ({ table, type: rowTypeName(table), fields: declared.get(rowTypeName(table))?.sort() ?? "missing" }));
    const expected = tables.map((table) => ({
      table,
      type: rowTypeName(table),
      fields: (db.query("SELECT name FROM pragma_table_info(?)").all(table) as { name: string }[]).map((row) => camel(row.name)).sort(),
    }));
    db.close();
    expect(tables.length).toBeGreaterThanOrEqual(15);
    expect(found).toEqual(expected);
  });

  test("no query result is cast in src/store: no `) as T` and no `as unknown as`", () => {
    const folder = join(ROOT, "src", "store");
    const casts = readdirSync(folder)
      .filter((file) => file.endsWith(".ts"))
      .flatMap((file) =>
        readFileSync(join(folder, file), "utf8")
          .split("\n")
          .map((line, index) => ({ where: `src/store/${file}:${index + 1}`, line: line.trim() }))
          .filter(({ line }) => !line.startsWith("*") && !line.startsWith("//") && /\)\s*as\s+[A-Z{[]|as unknown as/.test(line)),
      );
    expect(casts).toEqual([]);
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
