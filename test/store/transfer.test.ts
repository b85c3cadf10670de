/**
 * `musique export` / `musique import` (README "Managing runs") on runs recorded by the real
 * `musique evaluate` and `musique train`: a copy reproduces every row of every run (row counts and
 * a content hash per table, computed here without the code under test), a second import adds
 * nothing, clashing names are refused unless renamed, and the source file is never changed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync } from "node:fs";
import { MIGRATIONS } from "../../src/store/schema.ts";
import { addTags, createRun, findRun, openStore, recordExampleResult, updateRunStatus } from "../../src/store/index.ts";
import { recordTrainerLog } from "../../src/store/trainer-logs.ts";
import { runCli } from "../helpers/cli.ts";
import { evaluateDatabase, trainDatabase } from "../report/fixtures.ts";
import { programResult, scoreOf, temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory();
afterAll(() => directory.remove());

let evaluated: string;
let trained: string;

beforeAll(async () => {
  // Copies, so nothing here can change the fixtures other test files read.
  evaluated = directory.database("node1.db");
  trained = directory.database("node2.db");
  copyFileSync((await evaluateDatabase()).database, evaluated);
  copyFileSync((await trainDatabase()).database, trained);
  // The rows no fixture writes: tags, and the trainer's log (HF's log_history, read from a checkpoint).
  const store = openStore(trained, { notices: false });
  try {
    const run = findRun(store, "trained");
    if (run === null) throw new Error("the train fixture has no run named trained");
    addTags(store, [run.id], ["paper", "grpo"]);
    const entries = [1, 2, 3].map((globalStep) => ({
      globalStep,
      step: globalStep,
      loss: 0.5 / globalStep,
      kl: 0.01 * globalStep,
      gradNorm: 1.5,
      learningRate: 1e-5,
      entry: { step: globalStep, loss: 0.5 / globalStep, kl: 0.01 * globalStep, grad_norm: 1.5, learning_rate: 1e-5 },
    }));
    recordTrainerLog(store, run.id, { jobId: "grpo-job-1", path: "/ckpt/checkpoint-3/trainer_state.json", entries: 3, problem: null }, entries);
  } finally {
    store.close();
  }
}, 300_000);

type Digests = Record<string, { rows: number; sha256: string }>;

/** Per table, the rows of one run in recording order, without row ids, run ids and the run's name. */
function runContent(path: string, name: string): Digests {
  const db = new Database(path, { readonly: true });
  try {
    const run = db.query("SELECT * FROM runs WHERE name = ?").get(name) as Record<string, unknown> | null;
    if (!run) throw new Error(`no run ${name} in ${path}`);
    const { id, name: _name, ...rest } = run;
    const out: Digests = { runs: { rows: 1, sha256: createHash("sha256").update(JSON.stringify(rest)).digest("hex") } };
    const tables = db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'runs' AND sql LIKE '%run_id%' ORDER BY name").all() as {
      name: string;
    }[];
    for (const { name: table } of tables) {
      const rows = db.query(`SELECT * FROM ${table} WHERE run_id = ? ORDER BY rowid`).all(id as number) as Record<string, unknown>[];
      const hash = createHash("sha256");
      for (const { id: _rowId, run_id: _runId, ...row } of rows) hash.update(JSON.stringify(row) + "\n");
      out[table] = { rows: rows.length, sha256: hash.digest("hex") };
    }
    return out;
  } finally {
    db.close();
  }
}

function runNames(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.query("SELECT name FROM runs ORDER BY name").all() as { name: string }[]).map((row) => row.name);
  } finally {
    db.close();
  }
}

function tableCounts(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
    return Object.fromEntries(tables.map(({ name }) => [name, (db.query(`SELECT COUNT(*) AS n FROM ${name}`).get() as { n: number }).n]));
  } finally {
    db.close();
  }
}

/** A database holding one small evaluate run per name (1 prediction, 5 module calls). */
function smallDatabase(path: string, names: readonly string[], answer = "Paris"): void {
  const store = openStore(path);
  try {
    for (const name of names) {
      const run = createRun(store, { name, kind: "evaluate", config: { runName: name }, toolVersion: "test" });
      const result = programResult(answer);
      recordExampleResult(store, run.id, { exampleId: "2hop__1_2", nHops: 2, goldAnswers: ["Paris"], result, score: scoreOf(result) });
      updateRunStatus(store, run.id, "completed");
    }
  } finally {
    store.close();
  }
}

describe("musique export and musique import", () => {
  test("export → import into a fresh database reproduces every run's rows, table by table (row ids remapped)", async () => {
    const exported = directory.database("exported.db");
    const merged = directory.database("merged.db");
    const evaluateRuns = runNames(evaluated);
    expect(evaluateRuns.length).toBeGreaterThan(3);
    const exporting = await runCli(["export", ...evaluateRuns, "--to", exported, "--db", evaluated]);
    expect(exporting.stderr).toBe("");
    expect(exporting.exitCode).toBe(0);
    expect(exporting.stdout).toContain(`${evaluateRuns.length} copied, 0 updated, 0 unchanged in ${exported}`);
    // Two "nodes" merged into one fresh database: their run ids overlap and are remapped.
    const importing = await runCli(["import", exported, trained, "--db", merged]);
    expect(importing.exitCode).toBe(0);
    expect(runNames(merged)).toEqual([...evaluateRuns, "trained"].sort());
    for (const name of evaluateRuns) expect({ name, content: runContent(merged, name) }).toEqual({ name, content: runContent(evaluated, name) });
    const trainContent = runContent(trained, "trained");
    expect(runContent(merged, "trained")).toEqual(trainContent);
    // Every kind of row was there to copy: each table that belongs to a run (run_locks is this machine's).
    const copied = [trainContent, ...evaluateRuns.map((name) => runContent(evaluated, name))];
    const tables = Object.keys(trainContent).filter((table) => table !== "run_locks");
    expect(tables.length).toBeGreaterThanOrEqual(13);
    expect(tables.filter((table) => copied.every((content) => (content[table]?.rows ?? 0) === 0))).toEqual([]);
  });

  test("importing the same files again adds nothing", async () => {
    const merged = directory.database("twice.db");
    expect((await runCli(["import", evaluated, trained, "--db", merged])).exitCode).toBe(0);
    const before = tableCounts(merged);
    const contentBefore = runNames(merged).map((name) => runContent(merged, name));
    const again = await runCli(["import", evaluated, trained, "--db", merged]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain(`0 copied, 0 updated, ${runNames(merged).length} unchanged in ${merged}`);
    expect(tableCounts(merged)).toEqual(before);
    expect(runNames(merged).map((name) => runContent(merged, name))).toEqual(contentBefore);
  });

  test("the source database is not changed by export or import, byte for byte", async () => {
    const bytes = readFileSync(evaluated);
    expect((await runCli(["export", "a", "--to", directory.database("bytes-export.db"), "--db", evaluated])).exitCode).toBe(0);
    expect((await runCli(["import", evaluated, "--db", directory.database("bytes-import.db")])).exitCode).toBe(0);
    expect(readFileSync(evaluated).equals(bytes)).toBe(true);
  });

  test("a different run with a taken name is refused and nothing is copied; --rename or --prefix copies it", async () => {
    const first = directory.database("clash-1.db");
    const second = directory.database("clash-2.db");
    const target = directory.database("clash-target.db");
    smallDatabase(first, ["baseline", "only-first"]);
    smallDatabase(second, ["baseline", "only-second"], "Rome");
    const refused = await runCli(["import", first, second, "--db", target]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(`${target} already has a different run named "baseline"`);
    expect(refused.stderr).toContain("--rename baseline=NEW_NAME");
    expect(runNames(target)).toEqual([]);
    // --rename applies to every file given: renaming both baselines to one name clashes again.
    expect((await runCli(["import", first, second, "--db", target, "--rename", "baseline=baseline-node2"])).exitCode).toBe(2);
    expect(runNames(target)).toEqual([]);
    expect((await runCli(["import", first, "--db", target])).exitCode).toBe(0);
    const renamed = await runCli(["import", second, "--db", target, "--rename", "baseline=baseline-node2"]);
    expect(renamed.exitCode).toBe(0);
    expect(renamed.stdout).toContain("copied baseline as baseline-node2");
    expect(runNames(target)).toEqual(["baseline", "baseline-node2", "only-first", "only-second"]);
    const prefixed = directory.database("clash-prefix.db");
    expect((await runCli(["import", first, "--db", prefixed])).exitCode).toBe(0);
    expect((await runCli(["import", second, "--db", prefixed, "--prefix", "node2-"])).exitCode).toBe(0);
    expect(runNames(prefixed)).toEqual(["baseline", "node2-baseline", "node2-only-second", "only-first"]);
    expect(runContent(prefixed, "node2-baseline")).toEqual(runContent(second, "baseline"));
  });

  test("a --rename that names no copied run is refused (a typo would copy under the old name)", async () => {
    const source = directory.database("typo-source.db");
    smallDatabase(source, ["run-a"]);
    const result = await runCli(["import", source, "--db", directory.database("typo-target.db"), "--rename", "run-b=x"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--rename names "run-b", which is not among the runs copied');
    expect(runNames(directory.database("typo-target.db"))).toEqual([]);
  });

  test("a run that recorded more since it was imported is brought up to date, keeping its name and tags there", async () => {
    const node = directory.database("growing.db");
    const target = directory.database("growing-target.db");
    smallDatabase(node, ["growing"]);
    expect((await runCli(["import", node, "--db", target, "--prefix", "n1-"])).exitCode).toBe(0);
    expect((await runCli(["runs", "tag", "n1-growing", "--tag", "kept", "--db", target])).exitCode).toBe(0);
    const store = openStore(node);
    const run = store.database.query("SELECT id FROM runs WHERE name = 'growing'").get() as { id: number };
    const result = programResult("Rome");
    recordExampleResult(store, run.id, { exampleId: "3hop1__1_2_3", nHops: 3, goldAnswers: ["Rome"], result, score: scoreOf(result) });
    store.close();
    const update = await runCli(["import", node, "--db", target]);
    expect(update.exitCode).toBe(0);
    expect(update.stdout).toContain("updated growing as n1-growing");
    const { run_tags: tags, ...updated } = runContent(target, "n1-growing");
    const { run_tags: _none, ...recorded } = runContent(node, "growing");
    expect(updated).toEqual(recorded);
    expect(tags?.rows).toBe(1);
    const listed = JSON.parse((await runCli(["runs", "--json", "--db", target])).stdout) as { name: string; tags: string[] }[];
    expect(listed).toMatchObject([{ name: "n1-growing", tags: ["kept"] }]);
  });

  test("a database written by an older musique is read from a migrated copy and left untouched", async () => {
    const old = directory.database("schema-1.db");
    const raw = new Database(old, { create: true });
    raw.run(MIGRATIONS[0] ?? "");
    raw.run("PRAGMA user_version = 1");
    raw.run(
      `INSERT INTO runs (name, kind, status, started_at, config_json, config_hash, tool_version)
       VALUES ('old-run', 'evaluate', 'completed', '2025-01-01T00:00:00.000Z', '{}', 'h', '0.1.0')`,
    );
    raw.run(
      `INSERT INTO predictions (run_id, example_id, gold_answers_json, status, created_at)
       VALUES (1, '2hop__1_2', '["Paris"]', 'ok', '2025-01-01T00:00:00.000Z')`,
    );
    raw.close();
    const bytes = readFileSync(old);
    const target = directory.database("from-old.db");
    const result = await runCli(["import", old, "--db", target]);
    expect(result.exitCode).toBe(0);
    expect(runNames(target)).toEqual(["old-run"]);
    expect(runContent(target, "old-run").predictions?.rows).toBe(1);
    expect(readFileSync(old).equals(bytes)).toBe(true);
  });

  test("export --tag copies the runs carrying the tag", async () => {
    const source = directory.database("tagged-source.db");
    smallDatabase(source, ["t1", "t2", "t3"]);
    expect((await runCli(["runs", "tag", "t1", "t3", "--tag", "paper", "--db", source])).exitCode).toBe(0);
    const target = directory.database("tagged-target.db");
    const result = await runCli(["export", "--tag", "paper", "--to", target, "--db", source, "--json"]);
    expect(result.exitCode).toBe(0);
    const document = JSON.parse(result.stdout) as { database: string; runs: { source: string; action: string }[] };
    expect(document.runs.map((run) => [run.source, run.action])).toEqual([
      ["t1", "copied"],
      ["t3", "copied"],
    ]);
    expect(runNames(target)).toEqual(["t1", "t3"]);
  });
});
