/**
 * README "What happens when…": one row per situation, each run through the CLI as a user would.
 * Every row must give one clear message (what failed, the cause, the fix), its documented exit
 * code (src/errors.ts ExitCode), and leave no half-written file and no run marked completed.
 * Deeper unit tests of the same cases: test/data/{cli,hub,validate}.test.ts,
 * test/store/{open,query}.test.ts, test/lm/{client,preflight}.test.ts,
 * test/retrieval/{rerank-client,retrieve-cli}.test.ts.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readRecords, startFakeHub, type FakeHub } from "../fakes/hub.ts";
import { startFakeOpenAI, type FakeOpenAI } from "../fakes/openai.ts";
import { closedUrl } from "../fakes/tei.ts";
import { runCli } from "../helpers/cli.ts";
import { openStore } from "../../src/store/database.ts";
import { DEV_FILE, auditRun, describeSituations, evaluateArgs, queryAll, runWithFileLimit, temporaryDirectory, type SituationRow } from "./helpers.ts";

const directory = temporaryDirectory("bad-input");
const outputDir = join(directory, "out");
let lm: FakeOpenAI;
let hub: FakeHub;
let closed: string;
const dev = await readRecords(DEV_FILE);

beforeAll(async () => {
  lm = await startFakeOpenAI({});
  hub = startFakeHub({ splits: [{ name: "bdsaglam/musique", config: "answerable", split: "validation", records: dev.slice(0, 5) }] });
  closed = await closedUrl();
});
afterAll(async () => {
  await lm.stop();
  await hub.stop();
  rmSync(directory, { recursive: true, force: true });
});

/** A dataset file with these lines. */
function datasetFile(name: string, lines: string[]): string {
  const path = join(directory, name);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

/** `evaluate` on the fixture split with a fresh database per row. */
function evaluate(run: string, extra: string[] = [], baseUrl = lm.baseUrl): string[] {
  return evaluateArgs({ database: join(directory, `${run}.db`), outputDir, run, baseUrl, limit: 3, extra });
}

/** Bytes of files that a command must leave exactly as they were. */
const snapshots = new Map<string, Buffer>();

/** The file is byte for byte what it was, and no journal, WAL or shared-memory file appeared beside it. */
function expectUntouched(path: string): void {
  expect(readFileSync(path).equals(snapshots.get(path) ?? Buffer.alloc(0))).toBe(true);
  for (const suffix of ["-journal", "-wal", "-shm"]) expect(existsSync(path + suffix)).toBe(false);
}

/** Runs in a database that no command may have created or finished. */
function runsIn(database: string): Array<{ name: string; status: string }> {
  return existsSync(database) ? queryAll(database, "SELECT name, status FROM runs") : [];
}

/** Temporary files (writeFileAtomic's *.tmp-PID) left anywhere under the output folder. */
function temporaryFiles(): string[] {
  if (!existsSync(outputDir)) return [];
  return readdirSync(outputDir, { recursive: true, encoding: "utf8" }).filter((name) => name.includes(".tmp-"));
}

const good = JSON.stringify(dev[0]);
const paragraphs = (dev[1]?.paragraphs ?? []) as Array<Record<string, unknown>>;
const wrongType = JSON.stringify({ ...dev[1], paragraphs: paragraphs.map((p, i) => (i === 0 ? { ...p, is_supporting: "yes" } : p)) });

/** KiB a new database takes once migrated (its largest file: the WAL the migrations wrote), rounded up. */
function freshDatabaseKib(): number {
  const path = join(directory, "fresh.db");
  const store = openStore(path);
  const bytes = Math.max(...["", "-wal"].map((suffix) => (existsSync(path + suffix) ? statSync(path + suffix).size : 0)));
  store.close();
  return Math.ceil(bytes / 1024);
}

const ROWS: SituationRow[] = [
  {
    situation: "a dataset line is not valid JSON",
    exitCode: 3,
    says: ["line 2: not valid JSON", "--skip-invalid"],
    run: () => runCli(evaluate("malformed-line", ["--datasets", datasetFile("malformed.jsonl", [good, '{"id": "2hop__1"'])])),
    after: () => expect(runsIn(join(directory, "malformed-line.db"))).toEqual([]),
  },
  {
    situation: "a dataset field has the wrong type",
    exitCode: 3,
    says: ["line 2: field paragraphs[0].is_supporting must be true or false", "--skip-invalid"],
    run: () => runCli(evaluate("wrong-type", ["--datasets", datasetFile("wrong-type.jsonl", [good, wrongType])])),
    after: () => expect(runsIn(join(directory, "wrong-type.db"))).toEqual([]),
  },
  ...(
    [
      ["dataset", "nobody/nothing,answerable,validation", 'unknown dataset "nobody/nothing"'],
      ["config", "bdsaglam/musique,full,validation", 'unknown config "full"'],
      ["split", "bdsaglam/musique,answerable,dev", 'unknown split "dev"'],
    ] as const
  ).map(
    ([what, spec, says]): SituationRow => ({
      situation: `an unknown ${what} on the Hub`,
      exitCode: 3,
      says: [says, "fix:"],
      run: () => runCli(["data", spec], { env: { HF_ENDPOINT: hub.url, HF_HOME: join(directory, `hf-${what}`), HF_HUB_OFFLINE: undefined } }),
      after: () => expect(existsSync(join(directory, `hf-${what}`, "musique"))).toBe(false),
    }),
  ),
  {
    situation: "HF_HUB_OFFLINE=1 and the split is not in the cache",
    exitCode: 3,
    says: ["is not in the cache and HF_HUB_OFFLINE=1 forbids downloading it", "run once online"],
    run: () => runCli(["data", "bdsaglam/musique,answerable,validation"], { env: { HF_HOME: join(directory, "hf-offline") } }),
  },
  ...(
    [
      ["query", "<sql>"],
      ["report", "<run>"],
      ["compare", "<runs>"],
    ] as const
  ).map(
    ([command, argument]): SituationRow => ({
      situation: `a missing argument (musique ${command})`,
      exitCode: 2,
      says: [`missing argument ${argument}`, "fix:"],
      run: () => runCli([command, "--db", join(directory, "never-created.db")]),
      after: () => expect(existsSync(join(directory, "never-created.db"))).toBe(false),
    }),
  ),
  {
    situation: "SQL that starts with a comment (-- …), with or without -- before it",
    exitCode: 0,
    says: [],
    run: async () => {
      const path = join(directory, "comment.db");
      openStore(path).close();
      const bare = await runCli(["query", "-- how many runs\nSELECT COUNT(*) AS n FROM runs", "--db", path, "--format", "csv"]);
      const separated = await runCli(["query", "--db", path, "--format", "csv", "--", "--x\nSELECT 1 AS n"]);
      expect([bare.exitCode, bare.stdout, bare.stderr]).toEqual([0, "n\n0\n", ""]);
      expect([separated.exitCode, separated.stdout]).toEqual([0, "n\n1\n"]);
      return separated;
    },
  },
  {
    situation: "--json on failure: a JSON error document on stdout",
    exitCode: 3,
    says: ["has no records"],
    run: () => runCli(["data", datasetFile("empty-json.jsonl", []), "--json"]),
    after: async () => {
      const result = await runCli(["data", datasetFile("empty-json.jsonl", []), "--json"]);
      expect(JSON.parse(result.stdout)).toEqual({
        error: {
          message: `${join(directory, "empty-json.jsonl")} has no records`,
          cause: "the file or split is empty",
          fix: "check the spec (musique data SPEC describes it), or pass another --datasets",
          exitCode: 3,
          kind: "data",
        },
      });
    },
  },
  {
    situation: "a flag value out of range (--concurrency 0)",
    exitCode: 2,
    says: ["--concurrency"],
    run: () => runCli(evaluate("bad-flag", ["--concurrency", "0"])),
    after: () => expect(existsSync(join(directory, "bad-flag.db"))).toBe(false),
  },
  {
    situation: "a flag value of the wrong kind (--request-timeout soon)",
    exitCode: 2,
    says: ["--request-timeout"],
    run: () => runCli(evaluate("bad-number", ["--request-timeout", "soon"])),
  },
  {
    situation: "a misspelt flag (--nosie-rate)",
    exitCode: 2,
    says: ["--nosie-rate", "--noise-rate"],
    run: () => runCli(evaluate("misspelt", ["--nosie-rate", "0.5"])),
  },
  {
    situation: "the LM server is unreachable",
    exitCode: 4,
    says: ["cannot reach", "/v1", "--base-url"],
    run: () => runCli(evaluate("lm-down", [], `${closed}/v1`)),
    after: () => expect(runsIn(join(directory, "lm-down.db"))).toEqual([]),
  },
  {
    situation: "the rerank service is unreachable",
    exitCode: 4,
    says: ["rerank service is not available", "/health", "docker compose up rerank"],
    run: () => runCli(evaluate("rerank-down", ["--retriever", "semantic", "--rerank-url", closed])),
    after: () => expect(runsIn(join(directory, "rerank-down.db"))).toEqual([]),
  },
  {
    situation: "the LM server refuses the API key (401)",
    exitCode: 5,
    says: ["refused the API key (HTTP 401)", "--api-key"],
    run: async () => {
      const guarded = await startFakeOpenAI({ apiKey: "the-right-key" });
      try {
        return await runCli(evaluate("wrong-key", ["--api-key", "a-wrong-key"], guarded.baseUrl));
      } finally {
        await guarded.stop();
      }
    },
    after: () => expect(runsIn(join(directory, "wrong-key.db"))).toEqual([]),
  },
  {
    situation: "the model is not served (404, vLLM lists other models)",
    exitCode: 5,
    says: ['model "Qwen/Qwen2.5-7B-Instruct" is not served', "meta-llama/Llama-3.1-8B-Instruct", "--model"],
    run: async () => {
      const other = await startFakeOpenAI({ models: ["meta-llama/Llama-3.1-8B-Instruct"] });
      try {
        return await runCli(evaluate("no-model", [], other.baseUrl));
      } finally {
        await other.stop();
      }
    },
  },
  {
    situation: "the model is not served (404 on chat, Arbor without /models)",
    exitCode: 5,
    says: ["is not served", "(HTTP 404)", "--model"],
    run: async () => {
      const arbor = await startFakeOpenAI({ flavor: "arbor", models: ["some/other-model"] });
      try {
        return await runCli(evaluate("no-model-arbor", [], arbor.baseUrl));
      } finally {
        await arbor.stop();
      }
    },
  },
  {
    situation: "the database is locked by another process",
    exitCode: 6,
    says: ["is locked: another process holds it", "--db"],
    run: async () => {
      const path = join(directory, "locked.db");
      openStore(path).close();
      const holder = new Database(path);
      holder.run("BEGIN IMMEDIATE");
      holder.run("INSERT INTO lm_cache (key, model, response_json, created_at) VALUES ('k', 'm', '{}', 'now')");
      try {
        return await runCli(evaluateArgs({ database: path, outputDir, run: "locked", baseUrl: lm.baseUrl, limit: 2 }));
      } finally {
        holder.run("ROLLBACK");
        holder.close();
      }
    },
    after: () => expect(runsIn(join(directory, "locked.db"))).toEqual([]),
  },
  {
    situation: "the database was written by a newer musique",
    exitCode: 6,
    says: ["was written by a newer musique", "upgrade musique"],
    run: () => {
      const path = join(directory, "newer.db");
      const db = new Database(path);
      db.run("CREATE TABLE runs (id INTEGER PRIMARY KEY)");
      db.run("PRAGMA user_version = 99");
      db.close();
      snapshots.set(path, readFileSync(path));
      return runCli(evaluateArgs({ database: path, outputDir, run: "newer", baseUrl: lm.baseUrl, limit: 2 }));
    },
    after: () => expectUntouched(join(directory, "newer.db")), // journal mode included: header bytes 18–19
  },
  {
    situation: "--db is not a musique database (a text file)",
    exitCode: 6,
    says: ["is not a musique database"],
    run: () => runCli(["query", "SELECT 1", "--db", DEV_FILE]),
    after: () => expect(readFileSync(DEV_FILE, "utf8")).toStartWith("{"),
  },
  {
    situation: "--db is another program's SQLite database",
    exitCode: 6,
    says: ["is not a musique database (it holds other tables: notes)", "--db"],
    run: () => {
      const path = join(directory, "foreign.db");
      const db = new Database(path);
      db.run("CREATE TABLE notes (text TEXT)");
      db.run("INSERT INTO notes VALUES ('precious')");
      db.close();
      snapshots.set(path, readFileSync(path));
      return runCli(evaluateArgs({ database: path, outputDir, run: "foreign", baseUrl: lm.baseUrl, limit: 2 }));
    },
    after: () => expectUntouched(join(directory, "foreign.db")),
  },
  {
    situation: "--db is not a regular file (/dev/null)",
    exitCode: 6,
    says: ["--db /dev/null is a character device, not a database file", "pass --db with a file path"],
    run: () => runCli(evaluateArgs({ database: "/dev/null", outputDir, run: "dev-null", baseUrl: lm.baseUrl, limit: 2 })),
    after: () => {
      expect(existsSync("/dev/null-journal")).toBe(false);
      expect(existsSync("/dev/null-wal")).toBe(false);
      expect(existsSync(join(outputDir, "dev-null"))).toBe(false);
    },
  },
  {
    situation: "the folder of --db cannot be created",
    exitCode: 6,
    says: ["cannot open database /dev/null/musique.db", "--db"],
    run: () => runCli(evaluateArgs({ database: "/dev/null/musique.db", outputDir, run: "no-folder", baseUrl: lm.baseUrl, limit: 2 })),
  },
  {
    situation: "--output-dir cannot be written",
    exitCode: 6,
    says: ["cannot write /dev/null/out/unwritable", "--output-dir"],
    run: () =>
      runCli(evaluateArgs({ database: join(directory, "unwritable.db"), outputDir: "/dev/null/out", run: "unwritable", baseUrl: lm.baseUrl, limit: 2 })),
    after: () => expect(runsIn(join(directory, "unwritable.db"))).toEqual([{ name: "unwritable", status: "failed" }]),
  },
  {
    situation: "the disk fills up during a run (ulimit -f: EFBIG)",
    exitCode: 6,
    says: ["writing it failed", "the disk is full, a file-size limit (ulimit -f) was reached", "resume the run"],
    // The limit leaves room for a freshly migrated database (its WAL grows with every migration) and the
    // run's creation, not for its 40 examples: the disk fills during the run, whatever the schema's size.
    run: () =>
      runWithFileLimit(
        freshDatabaseKib() + 40,
        evaluateArgs({ database: join(directory, "full.db"), outputDir, run: "disk-full", baseUrl: lm.baseUrl, limit: 40 }),
      ),
    after: async () => {
      const database = join(directory, "full.db");
      expect(runsIn(database).map((run) => run.status)).not.toContain("completed");
      expect(existsSync(join(outputDir, "disk-full", "scores.json"))).toBe(false);
      expect(temporaryFiles()).toEqual([]);
      // With space again, --resume finishes the run: every example exactly once.
      const resumed = await runCli(["evaluate", "--resume", "disk-full", "--db", database, "--base-url", lm.baseUrl]);
      expect(resumed.exitCode).toBe(0);
      const audit = auditRun(database, "disk-full");
      expect([audit.status, audit.distinct, audit.predictions, audit.missing, audit.integrity]).toEqual(["completed", 40, 40, 0, "ok"]);
    },
  },
  {
    situation: "SQL that writes, through musique query",
    exitCode: 6,
    says: ["musique query is read-only"],
    run: async () => {
      const path = join(directory, "query.db");
      openStore(path).close();
      return runCli(["query", "DROP TABLE runs", "--db", path]);
    },
    after: () => expect(queryAll(join(directory, "query.db"), "SELECT name FROM sqlite_master WHERE name = 'runs'")).toHaveLength(1),
  },
];

describeSituations("What happens when… (README): one clear message, the documented exit code, nothing half-written", ROWS);
