/** Runs: create, find, update status, list with headline scores, and the examples of a run. */
import { createHash, randomUUID } from "node:crypto";
import { StoreError, UsageError } from "../errors.ts";
import type { Example } from "../data/types.ts";
import { guarded, inTransaction, now, type Store } from "./database.ts";
import { json, stringList } from "./json.ts";
import type { RunLockRow, RunRow } from "./tables.ts";

export type RunKind = "evaluate" | "train" | "retrieve";
/** incomplete: every example was tried but some have no result (service failures; a resume runs them). */
export type RunStatus = "running" | "completed" | "incomplete" | "failed" | "interrupted";
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

/** A run as the repository hands it out: the runs row, its uid always set ('' for a row no musique wrote). */
export type RunRecord = Omit<RunRow, "uid"> & { uid: string };

/** The runs columns as RunRecord's keys (uid is NULL only in a row no musique wrote). */
const RUN_COLUMNS = `id, COALESCE(uid, '') AS uid, name, kind, status, started_at AS startedAt, finished_at AS finishedAt,
  config_json AS configJson, config_hash AS configHash, tool_version AS toolVersion, seed, dataset, model, retriever,
  error, output_dir AS outputDir`;

/** JSON with object keys sorted, so equal configs hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) return item;
    const entries = Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries);
  });
}

export function configHash(config: unknown): string {
  return createHash("sha256").update(canonicalJson(config)).digest("hex");
}

export function findRun(store: Store, name: string): RunRecord | null {
  return guarded(store, () => store.database.query<RunRecord, [string]>(`SELECT ${RUN_COLUMNS} FROM runs WHERE name = ?`).get(name));
}

export function getRun(store: Store, runId: number): RunRecord | null {
  return guarded(store, () => store.database.query<RunRecord, [number]>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`).get(runId));
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
      .query<RunRecord, [string, string, RunKind, string, string, string, string, number | null, string | null, string | null, string | null, string | null]>(
        `INSERT INTO runs (uid, name, kind, status, started_at, config_json, config_hash, tool_version, seed, dataset,
           model, retriever, output_dir)
         VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${RUN_COLUMNS}`,
      )
      .get(
        randomUUID(),
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
      );
    if (row === null) throw new StoreError(`database ${store.path}: the new run "${run.name}" was not stored`);
    return row;
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
  /** Stored so reports show it without reading the prompts. */
  question?: string | null;
  /** The supporting paragraph ids, stored so reports score recall and support F1 exactly. */
  supportingIds?: readonly string[] | null;
}

/** What a run records of one of its examples. */
export function runExampleOf(example: Example, position: number, role: ExampleRole): RunExample {
  return {
    exampleId: example.id,
    position,
    role,
    nHops: example.nHops,
    shape: example.shape,
    question: example.question,
    supportingIds: example.supportingIds,
  };
}

/** Record which examples a run uses, and in which order (idempotent). */
export function recordRunExamples(store: Store, runId: number, examples: readonly RunExample[]): void {
  inTransaction(store, () => {
    const statement = store.database.query<never, [number, string, number, ExampleRole, number | null, string | null, string | null, string | null]>(
      `INSERT INTO run_examples (run_id, example_id, position, role, n_hops, shape, question, supporting_ids_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, example_id, role) DO UPDATE SET position = excluded.position, n_hops = excluded.n_hops,
         shape = excluded.shape, question = excluded.question, supporting_ids_json = excluded.supporting_ids_json`,
    );
    for (const example of examples) {
      statement.run(
        runId,
        example.exampleId,
        example.position,
        example.role,
        example.nHops ?? null,
        example.shape ?? null,
        example.question ?? null,
        json(example.supportingIds),
      );
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
  retrievalErrors: number;
  deadlines: number;
  /** Examples without a result (service failures and examples never run). */
  missing: number;
  calls: number;
  failedCalls: number;
  promptTokens: number;
  completionTokens: number;
  /** Sorted. */
  tags: string[];
}

export interface ListRunsOptions {
  /** At most this many runs, newest first (default 50). */
  limit?: number;
  /** Only runs carrying every one of these tags. */
  tags?: readonly string[];
}

/** What `musique runs` shows beside the summary: the run's hops and temperature (from its stored configuration). */
export interface RunSettings {
  /** --num-hops: a count, "auto" or "gold"; null when not stored (a retrieve run). */
  numHops: string | null;
  temperature: number | null;
  /** --reward: the formula its reward column used. */
  rewardVersion: string | null;
  /** Training runs: the steps completed (steps count from 1, so the last completed step) and the steps planned; null otherwise. */
  stepsCompleted: number | null;
  plannedSteps: number | null;
}

type SummaryRow = Omit<RunSummary, "tags"> & RunSettings & { tagsJson: string };

/**
 * Runs, newest first, with the run_summary view's headline numbers, their hops, temperature and
 * reward version, and their tags (what `musique runs` prints and the dashboard's runs page lists).
 */
export function listRuns(store: Store, options: ListRunsOptions = {}): Array<RunSummary & RunSettings> {
  const tags = [...new Set(options.tags ?? [])];
  const rows = guarded(store, () =>
    store.database
      .query<SummaryRow, [string, number, number]>(
        `SELECT s.run_id AS runId, s.run_name AS name, s.kind, s.status, s.started_at AS startedAt, s.finished_at AS finishedAt,
           s.model, s.retriever, s.dataset, s.step, s.n, s.em, s.f1, s.recall, s.support_f1 AS supportF1, s.reward,
           s.format_failures AS formatFailures, s.lm_errors AS lmErrors, s.retrieval_errors AS retrievalErrors,
           s.deadlines, s.missing, s.calls, s.failed_calls AS failedCalls,
           s.prompt_tokens AS promptTokens, s.completion_tokens AS completionTokens,
           (SELECT json_group_array(tag) FROM (SELECT tag FROM run_tags WHERE run_id = s.run_id ORDER BY tag)) AS tagsJson,
           -- the stored configuration's keys are snake_case (num_hops); runs recorded before were camelCase (numHops)
           CAST(COALESCE(json_extract(r.config_json, '$.num_hops'), json_extract(r.config_json, '$.numHops')) AS TEXT) AS numHops,
           json_extract(r.config_json, '$.temperature') AS temperature, json_extract(r.config_json, '$.reward') AS rewardVersion,
           CASE WHEN s.kind = 'train' THEN COALESCE((SELECT MAX(step) FROM training_steps t WHERE t.run_id = s.run_id AND t.status = 'completed'), 0) END AS stepsCompleted,
           CASE WHEN s.kind != 'train' THEN NULL
             WHEN COALESCE(json_extract(r.config_json, '$.dry_run'), json_extract(r.config_json, '$.dryRun'))
               THEN MIN(COALESCE(json_extract(r.config_json, '$.dry_run_steps'), json_extract(r.config_json, '$.dryRunSteps')),
                        COALESCE(json_extract(r.config_json, '$.num_train_steps'), json_extract(r.config_json, '$.numTrainSteps')))
             ELSE COALESCE(json_extract(r.config_json, '$.num_train_steps'), json_extract(r.config_json, '$.numTrainSteps')) END AS plannedSteps
         FROM run_summary s JOIN runs r ON r.id = s.run_id
         WHERE (SELECT COUNT(*) FROM run_tags t WHERE t.run_id = s.run_id AND t.tag IN (SELECT value FROM json_each(?1))) = ?2
         ORDER BY s.started_at DESC, s.run_id DESC LIMIT ?3`,
      )
      .all(JSON.stringify(tags), tags.length, options.limit ?? 50),
  );
  return rows.map(({ tagsJson, ...row }) => ({ ...row, tags: stringList(tagsJson) }));
}

/** The process holding a run (table run_locks). */
export type RunLock = RunLockRow;

const LOCK_COLUMNS = "run_id AS runId, pid, host, acquired_at AS acquiredAt, heartbeat_at AS heartbeatAt";

/** The process holding a run, if any holds it. */
export function lockOf(store: Store, runId: number): RunLock | null {
  return guarded(store, () => store.database.query<RunLock, [number]>(`SELECT ${LOCK_COLUMNS} FROM run_locks WHERE run_id = ?`).get(runId));
}

/**
 * Take the lock of a run for this process, in one write transaction: a lock held by a process
 * that `isAlive` says still runs is left alone and returned (the caller refuses); a stale one is
 * replaced. Returns null when the lock is now ours.
 */
export function takeRunLock(store: Store, runId: number, owner: { pid: number; host: string }, isAlive: (lock: RunLock) => boolean): RunLock | null {
  return inTransaction(store, () => {
    const row = store.database.query<RunLock, [number]>(`SELECT ${LOCK_COLUMNS} FROM run_locks WHERE run_id = ?`).get(runId);
    if (row && !(row.pid === owner.pid && row.host === owner.host) && isAlive(row)) return row;
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
