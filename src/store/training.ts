/**
 * Training-side records (docs/specs/arbor.md §3–§4): rollouts with their module calls, GRPO
 * groups as sent to Arbor, step summaries, validations and checkpoints. Every write is an upsert
 * keyed by run + step (+ example + rollout), so a resumed run never duplicates a row.
 */
import type { ExampleScore } from "../metrics/reward.ts";
import type { ProgramResult } from "../program/types.ts";
import { guarded, inTransaction, now, type Store } from "./database.ts";
import { json, jsonValue, numberList } from "./json.ts";
import { writeModuleCalls } from "./results.ts";
import type { CheckpointRow, GroupRow, ValidationRow } from "./tables.ts";
import { trajectoryOf } from "./trajectory.ts";

export interface RolloutResult {
  exampleId: string;
  rolloutIndex: number;
  result: ProgramResult;
  score: ExampleScore;
  /** Module calls whose completion broke the format (default: counted from result.calls). */
  formatFailures?: number;
}

const UPSERT_ROLLOUT = `
INSERT INTO rollouts (run_id, step, example_id, rollout_index, answer, em, f1, recall, reward, reward_components_json,
  format_failures, trajectory_json, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, step, example_id, rollout_index) DO UPDATE SET
  answer = excluded.answer, em = excluded.em, f1 = excluded.f1, recall = excluded.recall, reward = excluded.reward,
  reward_components_json = excluded.reward_components_json, format_failures = excluded.format_failures,
  trajectory_json = excluded.trajectory_json, created_at = excluded.created_at`;

/** One rollout and its module calls, without a transaction of its own (recordRollouts wraps it). */
function writeRollout(store: Store, runId: number, step: number, rollout: RolloutResult): void {
  const { result, score } = rollout;
  const formatFailures = rollout.formatFailures ?? result.calls.filter((call) => call.status === "parse_error").length;
  store.database
    .query(UPSERT_ROLLOUT)
    .run(
      runId,
      step,
      rollout.exampleId,
      rollout.rolloutIndex,
      result.answer,
      score.em,
      score.f1,
      score.recall,
      score.reward,
      JSON.stringify(score.components),
      formatFailures,
      JSON.stringify(trajectoryOf(result)),
      now(),
    );
  writeModuleCalls(store, { runId, step, exampleId: rollout.exampleId, rolloutIndex: rollout.rolloutIndex }, result.calls);
}

/** Record a step's rollouts (and their module calls) in one transaction. */
export function recordRollouts(store: Store, runId: number, step: number, rollouts: readonly RolloutResult[]): void {
  inTransaction(store, () => {
    for (const rollout of rollouts) writeRollout(store, runId, step, rollout);
  });
}

type TrainingStepStatus = "running" | "completed" | "failed" | "skipped";

export interface TrainingStepRecord {
  step: number;
  status: TrainingStepStatus;
  /** Default: now on first record; kept on later updates unless given. */
  startedAt?: string;
  finishedAt?: string | null;
  meanReward?: number | null;
  rewardStd?: number | null;
  formatFailures?: number;
  numGroups?: number;
  arborResponse?: unknown;
  metrics?: unknown;
  /** Seconds the step's rollouts took (kept on later updates unless given). */
  rolloutSeconds?: number | null;
  /** Seconds musique waited for the trainer to ask for the step's groups. */
  waitingForArborSeconds?: number | null;
  /** Seconds the trainer waited for the step's groups. */
  arborWaitingSeconds?: number | null;
}

export function recordTrainingStep(store: Store, runId: number, record: TrainingStepRecord): void {
  const finishedAt = record.finishedAt !== undefined ? record.finishedAt : record.status === "running" ? null : now();
  guarded(store, () =>
    store.database
      .query(
        `INSERT INTO training_steps (run_id, step, status, started_at, finished_at, mean_reward, reward_std,
           format_failures, num_groups, arbor_response_json, metrics_json,
           rollout_seconds, waiting_for_arbor_seconds, arbor_waiting_seconds)
         VALUES (?1, ?2, ?3, COALESCE(?4, ?5), ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         ON CONFLICT (run_id, step) DO UPDATE SET status = excluded.status,
           started_at = COALESCE(?4, training_steps.started_at), finished_at = excluded.finished_at,
           mean_reward = excluded.mean_reward, reward_std = excluded.reward_std,
           format_failures = excluded.format_failures, num_groups = excluded.num_groups,
           arbor_response_json = excluded.arbor_response_json, metrics_json = excluded.metrics_json,
           rollout_seconds = COALESCE(?13, training_steps.rollout_seconds),
           waiting_for_arbor_seconds = COALESCE(?14, training_steps.waiting_for_arbor_seconds),
           arbor_waiting_seconds = COALESCE(?15, training_steps.arbor_waiting_seconds)`,
      )
      .run(
        runId,
        record.step,
        record.status,
        record.startedAt ?? null,
        now(),
        finishedAt,
        record.meanReward ?? null,
        record.rewardStd ?? null,
        record.formatFailures ?? 0,
        record.numGroups ?? 0,
        json(record.arborResponse),
        json(record.metrics),
        record.rolloutSeconds ?? null,
        record.waitingForArborSeconds ?? null,
        record.arborWaitingSeconds ?? null,
      ),
  );
}

/** The highest step recorded as completed, or null before the first. */
export function lastCompletedStep(store: Store, runId: number): number | null {
  const row = guarded(store, () =>
    store.database
      .query<{ step: number | null }, [number]>("SELECT MAX(step) AS step FROM training_steps WHERE run_id = ? AND status = 'completed'")
      .get(runId),
  );
  return row?.step ?? null;
}

export interface GroupRecord {
  exampleId: string;
  module: string;
  invocation: number;
  batchId?: number | null;
  rewards: readonly number[];
  advantages?: readonly number[] | null;
  /** The group as sent to Arbor (GRPOChatData items). */
  request?: unknown;
  response?: unknown;
}

const UPSERT_GROUP = `
INSERT INTO groups (run_id, step, example_id, module, invocation, batch_id, rewards_json, advantages_json, size,
  request_json, response_json, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, step, example_id, module, invocation) DO UPDATE SET
  batch_id = excluded.batch_id, rewards_json = excluded.rewards_json, advantages_json = excluded.advantages_json,
  size = excluded.size, request_json = excluded.request_json,
  response_json = COALESCE(excluded.response_json, groups.response_json), created_at = excluded.created_at`;

/** Record the GRPO groups of a step in one transaction. */
export function recordGroups(store: Store, runId: number, step: number, groups: readonly GroupRecord[]): void {
  inTransaction(store, () => {
    const statement = store.database.query(UPSERT_GROUP);
    for (const group of groups) {
      statement.run(
        runId,
        step,
        group.exampleId,
        group.module,
        group.invocation,
        group.batchId ?? null,
        JSON.stringify(group.rewards),
        json(group.advantages),
        group.rewards.length,
        json(group.request),
        json(group.response),
        now(),
      );
    }
  });
}

/** One recorded group as train --dry-run writes it to groups.jsonl. */
export interface GroupLine {
  step: number;
  example_id: string;
  module: string;
  invocation: number;
  /** The GRPO reward of each sample (the metric; −1 for a format failure), in the order of `batch`. */
  rewards: number[];
  /** Each sample's advantage as Arbor computes it (reward − group mean, over the group's spread; all 0 when every reward is equal). */
  advantages: number[] | null;
  /** The group's samples as sent (GRPOChatData items). */
  batch: unknown;
}

/** Every group of a run in recording order (step, then as built), for groups.jsonl. */
export function groupLinesOf(store: Store, runId: number): GroupLine[] {
  const rows = guarded(store, () =>
    store.database
      .query<Pick<GroupRow, "step" | "exampleId" | "module" | "invocation" | "rewardsJson" | "advantagesJson" | "requestJson">, [number]>(
        `SELECT step, example_id AS exampleId, module, invocation, rewards_json AS rewardsJson, advantages_json AS advantagesJson,
           request_json AS requestJson
         FROM groups WHERE run_id = ? ORDER BY step, id`,
      )
      .all(runId),
  );
  return rows.map((row) => ({
    step: row.step,
    example_id: row.exampleId,
    module: row.module,
    invocation: row.invocation,
    rewards: numberList(row.rewardsJson) ?? [],
    advantages: numberList(row.advantagesJson),
    batch: jsonValue(row.requestJson),
  }));
}

/** A validation pass; `isBest` is the run's best marker (read: always set; write: moves the marker). */
export type ValidationRecord = Pick<ValidationRow, "step" | "em" | "f1" | "recall" | "supportF1" | "reward" | "nExamples"> & { isBest?: boolean };

/** Record a validation; `isBest` moves the run's best marker to this step. */
export function recordValidation(store: Store, runId: number, record: ValidationRecord): void {
  inTransaction(store, () => {
    if (record.isBest) store.database.query("UPDATE validations SET is_best = 0 WHERE run_id = ?").run(runId);
    store.database
      .query(
        `INSERT INTO validations (run_id, step, em, f1, recall, support_f1, reward, n_examples, is_best, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, step) DO UPDATE SET em = excluded.em, f1 = excluded.f1, recall = excluded.recall,
           support_f1 = excluded.support_f1, reward = excluded.reward, n_examples = excluded.n_examples,
           is_best = excluded.is_best, created_at = excluded.created_at`,
      )
      .run(runId, record.step, record.em, record.f1, record.recall, record.supportF1, record.reward, record.nExamples, record.isBest ? 1 : 0, now());
  });
}

type ValidationColumns = Pick<ValidationRow, "step" | "em" | "f1" | "recall" | "supportF1" | "reward" | "nExamples" | "isBest">;

const VALIDATION_COLUMNS = "step, em, f1, recall, support_f1 AS supportF1, reward, n_examples AS nExamples, is_best AS isBest";

function validationRecord(row: ValidationColumns): ValidationRecord {
  return { ...row, isBest: row.isBest === 1 };
}

/** The validation marked best, else the one with the highest `metric` (earliest step on ties). */
export function bestValidation(store: Store, runId: number, metric: "reward" | "em" | "f1" | "recall" | "support_f1" = "reward"): ValidationRecord | null {
  const row = guarded(store, () =>
    store.database
      .query<ValidationColumns, [number]>(
        `SELECT ${VALIDATION_COLUMNS} FROM validations WHERE run_id = ? ORDER BY is_best DESC, ${metric} DESC, step ASC LIMIT 1`,
      )
      .get(runId),
  );
  return row === null ? null : validationRecord(row);
}

export interface CheckpointRecord {
  step: number;
  name: string;
  directory: string | null;
  /** The Arbor job that wrote it ('' for rows recorded before jobs were tracked). */
  jobId?: string;
  /** The trainer's optimizer step when it was saved (Arbor's global_step). */
  globalStep?: number | null;
  /** Written by HF's trainer on its own (save_steps), not requested by musique. */
  automatic?: boolean;
  metadata?: unknown;
  /** The checkpoint record Arbor returned. */
  arborRecord?: unknown;
  /** ISO time it was recorded (read only). */
  createdAt?: string;
}

/** Record a checkpoint; a name seen before in the same job is replaced (Arbor replaces that directory too). */
export function recordCheckpoint(store: Store, runId: number, record: CheckpointRecord): void {
  guarded(store, () =>
    store.database
      .query(
        `INSERT INTO checkpoints (run_id, job_id, step, name, directory, global_step, automatic, metadata_json,
           arbor_record_json, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, job_id, name) DO UPDATE SET step = excluded.step, directory = excluded.directory,
           global_step = excluded.global_step, automatic = excluded.automatic, metadata_json = excluded.metadata_json,
           arbor_record_json = excluded.arbor_record_json, created_at = excluded.created_at`,
      )
      .run(
        runId,
        record.jobId ?? "",
        record.step,
        record.name,
        record.directory,
        record.globalStep ?? null,
        record.automatic ? 1 : 0,
        json(record.metadata),
        json(record.arborRecord),
        now(),
      ),
  );
}

/** Every checkpoint of a run, oldest first (by step, then by when it was recorded). */
export function checkpointsOf(store: Store, runId: number): CheckpointRecord[] {
  const rows = guarded(store, () =>
    store.database
      .query<Omit<CheckpointRow, "id" | "runId">, [number]>(
        `SELECT step, name, directory, job_id AS jobId, global_step AS globalStep, automatic, metadata_json AS metadataJson,
           arbor_record_json AS arborRecordJson, created_at AS createdAt
         FROM checkpoints WHERE run_id = ? ORDER BY step, created_at, id`,
      )
      .all(runId),
  );
  return rows.map(({ metadataJson, arborRecordJson, automatic, ...row }) => ({
    ...row,
    automatic: automatic === 1,
    metadata: jsonValue(metadataJson),
    arborRecord: jsonValue(arborRecordJson),
  }));
}

/** The checkpoint holding the most training: the highest step, and of those the last recorded. */
export function newestCheckpoint(store: Store, runId: number): CheckpointRecord | null {
  return (
    checkpointsOf(store, runId)
      .filter((record) => record.directory !== null)
      .at(-1) ?? null
  );
}

/** The training step (from `fromStep` on) whose group was given Arbor batch id `batchId`, or null. */
export function stepOfBatch(store: Store, runId: number, fromStep: number, batchId: number): number | null {
  const row = guarded(store, () =>
    store.database
      .query<{ step: number | null }, [number, number, number]>("SELECT MIN(step) AS step FROM groups WHERE run_id = ? AND step >= ? AND batch_id = ?")
      .get(runId, fromStep, batchId),
  );
  return row?.step ?? null;
}

/** Every validation of a run, by step. */
export function validationsOf(store: Store, runId: number): ValidationRecord[] {
  const rows = guarded(store, () =>
    store.database.query<ValidationColumns, [number]>(`SELECT ${VALIDATION_COLUMNS} FROM validations WHERE run_id = ? ORDER BY step`).all(runId),
  );
  return rows.map(validationRecord);
}
