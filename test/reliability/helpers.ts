/**
 * Shared pieces of the reliability suite (`bun run test:faults`): starting musique as a child
 * process (the compiled binary when MUSIQUE_BIN is set), waiting for database state, reading the
 * results database, the one-line per-scenario report, and the README "What happens when…" rows.
 */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAIN, ROOT, cleanEnv, compiledBinary, runCli, type CliResult } from "../helpers/cli.ts";

const FIXTURES = join(ROOT, "test", "fixtures");
export const DEV_FILE = join(FIXTURES, "musique_ans_dev_sample150.jsonl");
export const TRAIN_FILE = join(FIXTURES, "musique_ans_train_sample100.jsonl");

export function temporaryDirectory(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `musique-${prefix}-`));
}

/** The command that runs musique: the compiled binary, or `bun src/cli/main.ts`. */
export function musiqueCommand(args: readonly string[]): string[] {
  const binary = compiledBinary();
  return binary ? [binary, ...args] : [process.execPath, MAIN, ...args];
}

/** Run musique under `ulimit -f` (1 KiB blocks), as on a full disk: writes past the limit fail with EFBIG. */
export async function runWithFileLimit(blocks: number, args: readonly string[]): Promise<CliResult> {
  const quoted = musiqueCommand(args)
    .map((word) => `'${word.replaceAll("'", "'\\''")}'`)
    .join(" ");
  return runCli(["-c", `trap '' XFSZ; ulimit -f ${blocks}; exec ${quoted}`], { binary: "/bin/bash" });
}

export interface Child {
  process: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** Resolves when the child exits: its code (null when killed by a signal) and output. */
  done: Promise<{ exitCode: number | null; signal: string | null; stdout: string; stderr: string }>;
}

/** Start musique in the background; `limitMs` kills it (SIGKILL) so no test can hang. */
export function startMusique(args: readonly string[], options: { env?: Record<string, string | undefined>; limitMs?: number } = {}): Child {
  const child = Bun.spawn(musiqueCommand(args), { cwd: ROOT, env: cleanEnv(options.env), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.limitMs ?? 60_000);
  const done = (async () => {
    const [stdout, stderr] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
    await child.exited;
    clearTimeout(timer);
    return { exitCode: child.signalCode ? null : child.exitCode, signal: child.signalCode ? String(child.signalCode) : null, stdout, stderr };
  })();
  return { process: child, done };
}

/** Poll `check` until it holds; throws (failing the test) after `timeoutMs` instead of hanging. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Run one read query on a database file (read-only connection). */
export function queryAll<T>(database: string, sql: string, ...params: Array<string | number>): T[] {
  const db = new Database(database, { readonly: true });
  try {
    return db.query(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export function queryOne<T>(database: string, sql: string, ...params: Array<string | number>): T {
  const rows = queryAll<T>(database, sql, ...params);
  if (rows.length === 0) throw new Error(`no row for ${sql}`);
  return rows[0] as T;
}

/** Predictions recorded so far for a run (0 while the database or the run does not exist yet). */
export function predictionCount(database: string, run: string): number {
  if (!existsSync(database)) return 0;
  try {
    return queryOne<{ n: number }>(database, "SELECT COUNT(*) AS n FROM predictions WHERE run_id = (SELECT id FROM runs WHERE name = ?)", run).n;
  } catch {
    return 0; // the writer is creating the schema, or holds the lock for a moment
  }
}

export interface RunAudit {
  status: string;
  /** Examples the run was given (run_examples). */
  examples: number;
  /** Prediction rows, and distinct examples among them. */
  predictions: number;
  distinct: number;
  /** Examples of the run without a prediction. */
  missing: number;
  byStatus: Record<string, number>;
  calls: number;
  /** Sum of module_calls.attempts: every request the LM client sent. */
  attempts: number;
  /** Calls that got an answer (ok or parse_error). */
  answeredCalls: number;
  integrity: string;
}

/** Everything the reliability tests check about one evaluation run, straight from SQLite. */
export function auditRun(database: string, run: string, step = -1): RunAudit {
  const db = new Database(database, { readonly: true });
  try {
    const runRow = db.query("SELECT id, status FROM runs WHERE name = ?").get(run) as { id: number; status: string } | null;
    if (!runRow) throw new Error(`no run ${run} in ${database}`);
    const id = runRow.id;
    const one = (sql: string) => (db.query(sql).get(id, step) as { n: number | null }).n ?? 0;
    const byStatus: Record<string, number> = {};
    for (const row of db.query("SELECT status, COUNT(*) AS n FROM predictions WHERE run_id = ? AND step = ? GROUP BY status").all(id, step) as Array<{
      status: string;
      n: number;
    }>) {
      byStatus[row.status] = row.n;
    }
    return {
      status: runRow.status,
      examples: (db.query("SELECT COUNT(*) AS n FROM run_examples WHERE run_id = ?").get(id) as { n: number }).n,
      predictions: one("SELECT COUNT(*) AS n FROM predictions WHERE run_id = ? AND step = ?"),
      distinct: one("SELECT COUNT(DISTINCT example_id) AS n FROM predictions WHERE run_id = ? AND step = ?"),
      missing: one(
        "SELECT COUNT(*) AS n FROM run_examples e WHERE e.run_id = ?1 AND NOT EXISTS (SELECT 1 FROM predictions p WHERE p.run_id = e.run_id AND p.step = ?2 AND p.example_id = e.example_id)",
      ),
      byStatus,
      calls: one("SELECT COUNT(*) AS n FROM module_calls WHERE run_id = ? AND step = ?"),
      attempts: one("SELECT SUM(attempts) AS n FROM module_calls WHERE run_id = ? AND step = ?"),
      answeredCalls: one("SELECT COUNT(*) AS n FROM module_calls WHERE run_id = ? AND step = ? AND status IN ('ok', 'parse_error')"),
      integrity: (db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check,
    };
  } finally {
    db.close();
  }
}

/** The per-scenario line `bun run test:faults` prints. */
export function reportScenario(name: string, numbers: Record<string, number | string>): void {
  const text = Object.entries(numbers)
    .map(([key, value]) => `${key} ${value}`)
    .join(", ");
  console.log(`[faults] ${name}: ${text}`);
}

/** `evaluate` arguments for the fixture split against the given LM. */
export function evaluateArgs(options: {
  database: string;
  outputDir: string;
  /** --run-name; without it, musique names the run. */
  run?: string;
  baseUrl: string;
  limit: number;
  extra?: readonly string[];
}): string[] {
  return [
    "evaluate",
    "--datasets",
    DEV_FILE,
    "--retriever",
    "lexical",
    "--base-url",
    options.baseUrl,
    "--db",
    options.database,
    "--output-dir",
    options.outputDir,
    ...(options.run === undefined ? [] : ["--run-name", options.run]),
    "--limit",
    String(options.limit),
    ...(options.extra ?? []),
  ];
}

/** One row of README "What happens when…": a situation, what the user sees, the exit code. */
export interface SituationRow {
  situation: string;
  exitCode: number;
  /** What the user sees on stderr (every string must appear). */
  says: string[];
  run: () => Promise<CliResult>;
  /** Extra checks: nothing half-written, nothing marked completed, what stdout holds. */
  after?: (result: CliResult) => void | Promise<void>;
}

/**
 * One test per row: every `says` text on stderr, no "this is a bug", one error message (none on
 * success) rather than a cascade, the documented exit code, then the row's own checks.
 */
export function describeSituations(title: string, rows: readonly SituationRow[]): void {
  describe(title, () => {
    for (const row of rows) {
      test(`${row.situation} → exit ${row.exitCode}`, async () => {
        const result = await row.run();
        if (process.env.SHOW_STDERR) console.log(`--- ${row.situation}\n${result.stderr}`);
        for (const text of row.says) expect(result.stderr).toContain(text);
        expect(result.stderr).not.toContain("this is a bug");
        expect(result.stderr.match(/^\[error\]|ERROR /gm)?.length ?? 0).toBe(row.exitCode === 0 ? 0 : 1);
        expect(result.exitCode).toBe(row.exitCode);
        await row.after?.(result);
      }, 30_000);
    }
  });
}
