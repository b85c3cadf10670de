/**
 * README "What happens when…", the dataset rows: repeated example ids, empty datasets, a folder
 * where a file was expected, records that cannot be scored, bytes that are not UTF-8 and corrupt
 * Parquet files. Each row runs the CLI as a user would and checks the message, the exit code, and
 * that no run was started.
 */
import { afterAll, expect } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { musiqueParquet, readRecords } from "../fakes/hub.ts";
import { runCli, type CliResult } from "../helpers/cli.ts";
import { DEV_FILE, describeSituations, queryAll, temporaryDirectory, type SituationRow } from "./helpers.ts";

const directory = temporaryDirectory("bad-data");
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const dev = await readRecords(DEV_FILE);

function file(name: string, content: string | Uint8Array): string {
  const path = join(directory, name);
  writeFileSync(path, content);
  return path;
}

function jsonl(name: string, records: readonly unknown[]): string {
  return file(name, records.map((record) => JSON.stringify(record)).join("\n") + "\n");
}

/** Runs in a database that no command may have started. */
function runsIn(database: string): unknown[] {
  return existsSync(database) ? queryAll(database, "SELECT name, status FROM runs") : [];
}

/** `evaluate` must refuse before it starts a run. */
function evaluate(datasets: string, database: string): Promise<CliResult> {
  return runCli([
    "evaluate",
    "--datasets",
    datasets,
    "--retriever",
    "lexical",
    "--base-url",
    "http://127.0.0.1:9/v1",
    "--db",
    database,
    "--output-dir",
    join(directory, "out"),
  ]);
}

const first = dev[0] ?? {};
const paragraphs = (first.paragraphs ?? []) as Array<Record<string, unknown>>;

const ROWS: SituationRow[] = [
  {
    situation: "two different records share an id",
    exitCode: 3,
    says: [`two different records have the id "${String(first.id)}"`, "a.jsonl line 1 and ", "b.jsonl line 2", "ids must be unique"],
    run: () => {
      const a = jsonl("a.jsonl", dev.slice(0, 2));
      const b = jsonl("b.jsonl", [dev[5], { ...first, answer: "something else" }]);
      return evaluate(`${a};${b}`, join(directory, "different.db"));
    },
    after: () => expect(runsIn(join(directory, "different.db"))).toEqual([]),
  },
  {
    situation: 'the same records twice (--datasets "sample;sample")',
    exitCode: 0,
    says: ["150 records appear twice with the same content", "sample (spec 1) line 1 and sample (spec 2) line 1", "kept once"],
    run: () => runCli(["data", "sample;sample", "--json"]),
    after: (result) => {
      const described = JSON.parse(result.stdout) as { examples: number; duplicates: Array<{ id: string; kept: string; dropped: string }> };
      expect(described.examples).toBe(150);
      expect(described.duplicates).toHaveLength(150);
      expect(described.duplicates[0]).toEqual({ id: String(first.id), kept: "sample (spec 1) line 1", dropped: "sample (spec 2) line 1" });
    },
  },
  {
    situation: "an empty dataset file",
    exitCode: 3,
    says: ["empty.jsonl has no records", "the file or split is empty"],
    run: () => evaluate(file("empty.jsonl", ""), join(directory, "empty.db")),
    after: () => expect(runsIn(join(directory, "empty.db"))).toEqual([]),
  },
  {
    situation: "a slice past the end of the data",
    exitCode: 3,
    says: ["sample[500:] has no records", "the slice starts past its end"],
    run: () => runCli(["data", "sample[500:]"]),
  },
  {
    situation: "a directory named like a dataset file (x.jsonl)",
    exitCode: 3,
    says: ["folder.jsonl is a directory, not a file"],
    run: () => {
      const path = join(directory, "folder.jsonl");
      mkdirSync(path, { recursive: true });
      return runCli(["data", path]);
    },
  },
  {
    situation: "a record with no paragraphs",
    exitCode: 3,
    says: ["no-paragraphs.jsonl line 2: field paragraphs is empty", "--skip-invalid"],
    run: () => runCli(["data", jsonl("no-paragraphs.jsonl", [first, { ...dev[1], paragraphs: [] }])]),
  },
  {
    situation: "an answerable record with no supporting paragraph",
    exitCode: 3,
    says: ["no-support.jsonl line 1: field paragraphs has no supporting paragraph", "--skip-invalid"],
    run: () => {
      const unsupported = { ...first, paragraphs: paragraphs.map((paragraph) => ({ ...paragraph, is_supporting: false })) };
      return evaluate(jsonl("no-support.jsonl", [unsupported, dev[1]]), join(directory, "no-support.db"));
    },
    after: () => expect(runsIn(join(directory, "no-support.db"))).toEqual([]),
  },
  {
    situation: "bytes that are not UTF-8 in a .jsonl file",
    exitCode: 0,
    says: ["latin1.jsonl line 2: bytes that are not valid UTF-8 were replaced by U+FFFD"],
    run: () => {
      const text = JSON.stringify(dev[0]) + "\n" + JSON.stringify({ ...dev[1], question: "Cafe question" }) + "\n";
      const bytes = new TextEncoder().encode(text);
      bytes[text.indexOf("Cafe question") + 3] = 0xe9; // Latin-1 "é" where the ASCII "e" was: not UTF-8
      return runCli(["data", file("latin1.jsonl", bytes)]);
    },
  },
  {
    situation: "bytes that are not UTF-8 in a .parquet file",
    exitCode: 0,
    says: ["latin1.parquet row 2: bytes that are not valid UTF-8 were replaced by U+FFFD"],
    run: () => {
      const bytes = musiqueParquet([dev[0], { ...dev[1], question: "Cafe question" }].filter((record) => record !== undefined));
      bytes[Buffer.from(bytes).indexOf("Cafe question") + 3] = 0xe9; // stored uncompressed enough to find? see below
      return runCli(["data", file("latin1.parquet", bytes)]);
    },
  },
  {
    situation: "a corrupt Parquet file",
    exitCode: 3,
    says: ["corrupt.parquet: cannot read it as Parquet: the file is corrupt"],
    run: () => {
      const bytes = musiqueParquet(dev.slice(0, 20));
      const middle = Math.floor(bytes.length * 0.3);
      for (let index = middle; index < middle + 64; index++) bytes[index] = ((bytes[index] ?? 0) * 31 + 7) & 255;
      return runCli(["data", file("corrupt.parquet", bytes)]);
    },
    after: (result) => expect(result.stderr).not.toMatch(/premature end of input|cannot copy from|undefined is not|TypeError|RangeError/),
  },
  {
    situation: "a Parquet file cut short",
    exitCode: 3,
    says: ["cut.parquet: cannot read it as Parquet: it is not a Parquet file or it is cut short"],
    run: () => {
      const bytes = musiqueParquet(dev.slice(0, 20));
      return runCli(["data", file("cut.parquet", bytes.subarray(0, bytes.length / 2))]);
    },
    after: (result) => expect(result.stderr).not.toContain("footer != PAR1"),
  },
];

describeSituations("What happens when… (README), datasets: one clear message, the documented exit code", ROWS);
