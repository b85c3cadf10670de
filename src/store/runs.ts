/** Runs: create, find, update status, list with headline scores, and the examples of a run. */
import { createHash } from "node:crypto";
import { UsageError } from "../errors.ts";
import { guarded, inTransaction, now, type Store } from "./database.ts";

export type RunKind = "evaluate" | "train" | "retrieve";
export type RunStatus = "running" | "completed" | "failed" | "interrupted";
export type ExampleRole = "train" | "dev" | "test";

export interface NewRun {
  name: string;
  kind: RunKind;
  /** The resolved options; stored as JSON with a hash for resume checks. */
  config: unknown;
  toolVersion: string;
  seed?: number | null;
  dataset?: string | null;
  model?: string | null;
  retriever?: string | null;
  outputDir?: string | null;
}

export interface RunRecord {
  id: number;
  name: string;
  kind: RunKind;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  configJson: string;
  configHash: string;
  toolVersion: string;
  seed: number | null;
  dataset: string | null;
  model: string | null;
  retriever: string | null;
  error: string | null;
  outputDir: string | null;
}

interface RunRow {
  id: number;
  name: string;
  kind: RunKind;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  config_json: string;
  config_hash: string;
  tool_version: string;
  seed: number | null;
  dataset: string | null;
  model: string | null;
  retriever: string | null;
  error: string | null;
  output_dir: string | null;
}

function toRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    configJson: row.config_json,
    configHash: row.config_hash,
    toolVersion: row.tool_version,
    seed: row.seed,
    dataset: row.dataset,
    model: row.model,
    retriever: row.retriever,
    error: row.error,
    outputDir: row.output_dir,
  };
}

/** JSON with object keys sorted, so equal configs hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) return item;
    const entries = Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries);
  });
}

export function configHash(config: unknown): string {
  return createHash("sha256").update(canonicalJson(config)).digest("hex");
}

export function findRun(store: Store, name: string): RunRecord | null {
  const row = guarded(store, () => store.database.query("SELECT * FROM runs WHERE name = ?").get(name)) as RunRow | null;
  return row ? toRecord(row) : null;
}

export function getRun(store: Store, runId: number): RunRecord | null {
  const row = guarded(store, () => store.database.query("SELECT * FROM runs WHERE id = ?").get(runId)) as RunRow | null;
  return row ? toRecord(row) : null;
}

/** Create a run with status "running". A taken name is a usage error (resume it or rename). */
export function createRun(store: Store, run: NewRun): RunRecord {
  return inTransaction(store, () => {
    if (findRun(store, run.name)) {
      throw new UsageError(`a run named "${run.name}" already exists in ${store.path}`, {
        fix: `resume it with --resume ${run.name}, or choose another --run-name`,
      });
    }
    const row = store.database
      .query(
        `INSERT INTO runs (name, kind, status, started_at, config_json, config_hash, tool_version, seed, dataset,
           model, retriever, output_dir)
         VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(
        run.name,
        run.kind,
        now(),
        canonicalJson(run.config ?? null),
        configHash(run.config ?? null),
        run.toolVersion,
        run.seed ?? null,
        run.dataset ?? null,
        run.model ?? null,
        run.retriever ?? null,
        run.outputDir ?? null,
      ) as RunRow;
    return toRecord(row);
  });
}

/**
 * Set a run's status. "running" clears finished_at and error (a resumed run); any other status
 * stamps finished_at and keeps `error` (for "failed" and "interrupted").
 */
export function updateRunStatus(store: Store, runId: number, status: RunStatus, error: string | null = null): void {
  guarded(store, () => {
    if (status === "running") {
      store.database.query("UPDATE runs SET status = 'running', finished_at = NULL, error = NULL WHERE id = ?").run(runId);
    } else {
      store.database.query("UPDATE runs SET status = ?, finished_at = ?, error = ? WHERE id = ?").run(status, now(), error, runId);
    }
  });
}

export interface RunExample {
  exampleId: string;
  position: number;
  role: ExampleRole;
  nHops?: number | null;
  shape?: string | null;
}

/** Record which examples a run uses, and in which order (idempotent). */
export function recordRunExamples(store: Store, runId: number, examples: readonly RunExample[]): void {
  inTransaction(store, () => {
    const statement = store.database.query(
      `INSERT INTO run_examples (run_id, example_id, position, role, n_hops, shape) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, example_id, role) DO UPDATE SET position = excluded.position,
         n_hops = excluded.n_hops, shape = excluded.shape`,
    );
    for (const example of examples) {
      statement.run(runId, example.exampleId, example.position, example.role, example.nHops ?? null, example.shape ?? null);
    }
  });
}

export interface RunSummary {
  runId: number;
  name: string;
  kind: RunKind;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  model: string | null;
  retriever: string | null;
  dataset: string | null;
  step: number | null;
  n: number;
  em: number | null;
  f1: number | null;
  recall: number | null;
  supportF1: number | null;
  reward: number | null;
  formatFailures: number;
  lmErrors: number;
  calls: number;
  failedCalls: number;
  promptTokens: number;
  completionTokens: number;
}

interface SummaryRow {
  run_id: number;
  run_name: string;
  kind: RunKind;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  model: string | null;
  retriever: string | null;
  dataset: string | null;
  step: number | null;
  n: number;
  em: number | null;
  f1: number | null;
  recall: number | null;
  support_f1: number | null;
  reward: number | null;
  format_failures: number;
  lm_errors: number;
  calls: number;
  failed_calls: number;
  prompt_tokens: number;
  completion_tokens: number;
}

/** Runs, newest first, with the run_summary view's headline numbers. */
export function listRuns(store: Store, limit = 50): RunSummary[] {
  const rows = guarded(store, () =>
    store.database.query("SELECT * FROM run_summary ORDER BY started_at DESC, run_id DESC LIMIT ?").all(limit),
  ) as SummaryRow[];
  return rows.map((row) => ({
    runId: row.run_id,
    name: row.run_name,
    kind: row.kind,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    model: row.model,
    retriever: row.retriever,
    dataset: row.dataset,
    step: row.step,
    n: row.n,
    em: row.em,
    f1: row.f1,
    recall: row.recall,
    supportF1: row.support_f1,
    reward: row.reward,
    formatFailures: row.format_failures,
    lmErrors: row.lm_errors,
    calls: row.calls,
    failedCalls: row.failed_calls,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
  }));
}

/** The process holding a run (table run_locks). */
export interface RunLock {
  runId: number;
  pid: number;
  host: string;
  acquiredAt: string;
  heartbeatAt: string;
}

interface LockRow {
  run_id: number;
  pid: number;
  host: string;
  acquired_at: string;
  heartbeat_at: string;
}

function lockOf(row: LockRow): RunLock {
  return { runId: row.run_id, pid: row.pid, host: row.host, acquiredAt: row.acquired_at, heartbeatAt: row.heartbeat_at };
}

/**
 * Take the lock of a run for this process, in one write transaction: a lock held by a process
 * that `isAlive` says still runs is left alone and returned (the caller refuses); a stale one is
 * replaced. Returns null when the lock is now ours.
 */
export function takeRunLock(store: Store, runId: number, owner: { pid: number; host: string }, isAlive: (lock: RunLock) => boolean): RunLock | null {
  return inTransaction(store, () => {
    const row = store.database.query("SELECT * FROM run_locks WHERE run_id = ?").get(runId) as LockRow | null;
    if (row && !(row.pid === owner.pid && row.host === owner.host) && isAlive(lockOf(row))) return lockOf(row);
    const stamp = now();
    store.database
      .query(
        `INSERT INTO run_locks (run_id, pid, host, acquired_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (run_id) DO UPDATE SET pid = excluded.pid, host = excluded.host,
           acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at`,
      )
      .run(runId, owner.pid, owner.host, stamp, stamp);
    return null;
  });
}

/** Refresh this process's lock (a lost lock is not re-taken here). */
export function refreshRunLock(store: Store, runId: number, owner: { pid: number; host: string }): void {
  guarded(store, () =>
    store.database.query("UPDATE run_locks SET heartbeat_at = ? WHERE run_id = ? AND pid = ? AND host = ?").run(now(), runId, owner.pid, owner.host),
  );
}

/** Release this process's lock of a run. */
export function releaseRunLock(store: Store, runId: number, owner: { pid: number; host: string }): void {
  guarded(store, () => store.database.query("DELETE FROM run_locks WHERE run_id = ? AND pid = ? AND host = ?").run(runId, owner.pid, owner.host));
}
