/**
 * Per-example results: the prediction row and its module calls, written in one transaction so an
 * example is recorded completely or not at all. Re-recording replaces (never duplicates).
 */
import { messagesJson } from "../lm/messages.ts";
import type { ExampleScore } from "../metrics/reward.ts";
import type { ModuleCallTrace, ProgramResult } from "../program/types.ts";
import { guarded, inTransaction, now, type Store } from "./database.ts";
import { json, stringList } from "./json.ts";
import type { PredictionRow } from "./tables.ts";
import { trajectoryOf } from "./trajectory.ts";

/** `step` of plain evaluation (training records validation predictions under their step). */
const EVALUATION_STEP = -1;
/** `rollout_index` of a module call that is not part of a training rollout. */
const NO_ROLLOUT = -1;

/**
 * ok and format_failure are results (scored); lm_error, retrieval_error and deadline are examples
 * that have no result (the LM or the retrieval service kept failing, or --example-timeout passed):
 * never scored, run again by a resume.
 */
export type PredictionStatus = "ok" | "format_failure" | "lm_error" | "retrieval_error" | "deadline";

export interface ExampleResult {
  exampleId: string;
  /** -1 (default) for plain evaluation; the training step for validation predictions. */
  step?: number;
  nHops: number;
  /** [answer] + aliases, as scored. */
  goldAnswers: readonly string[];
  result: ProgramResult;
  score: ExampleScore;
}

function predictionStatus(result: ProgramResult): PredictionStatus {
  const failure = result.failure;
  if (!failure) return "ok";
  if (failure.kind === "format") return "format_failure";
  if (failure.kind === "deadline") return "deadline";
  return failure.service === "retrieval" ? "retrieval_error" : "lm_error";
}

const INSERT_CALL = `
INSERT INTO module_calls (run_id, step, example_id, rollout_index, module, hop, invocation, request_messages_json,
  raw_completion, parsed_json, status, error, finish_reason, truncated, prompt_tokens, completion_tokens, latency_ms,
  endpoint, attempts, cached, created_at, adapter, adapter_attempts_json)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, step, example_id, rollout_index, module, invocation) DO UPDATE SET
  hop = excluded.hop, request_messages_json = excluded.request_messages_json, raw_completion = excluded.raw_completion,
  parsed_json = excluded.parsed_json, status = excluded.status, error = excluded.error,
  finish_reason = excluded.finish_reason, truncated = excluded.truncated, prompt_tokens = excluded.prompt_tokens,
  completion_tokens = excluded.completion_tokens, latency_ms = excluded.latency_ms, endpoint = excluded.endpoint,
  attempts = excluded.attempts, cached = excluded.cached, created_at = excluded.created_at, adapter = excluded.adapter,
  adapter_attempts_json = excluded.adapter_attempts_json`;

/** adapter_attempts_json: every attempt of a call that went past the ChatAdapter (else null). */
function adapterAttemptsJson(call: ModuleCallTrace): string | null {
  if (call.adapterAttempts.length <= 1) return null;
  return JSON.stringify(
    call.adapterAttempts.map((attempt) => ({
      adapter: attempt.adapter,
      response_format: attempt.responseFormat,
      messages: attempt.messages,
      raw_completion: attempt.rawCompletion,
      parsed: attempt.parsed,
      status: attempt.status,
      error: attempt.error,
      finish_reason: attempt.finishReason,
      prompt_tokens: attempt.usage?.promptTokens ?? null,
      completion_tokens: attempt.usage?.completionTokens ?? null,
      latency_ms: attempt.latencyMs,
      attempts: attempt.attempts,
      cached: attempt.cached,
    })),
  );
}

export interface CallKey {
  runId: number;
  step: number;
  exampleId: string;
  rolloutIndex: number;
}

/** A value SQLite binds. */
export type Cell = string | number | null;

/**
 * A module call as module_calls stores it, after the key columns (run, step, example, rollout):
 * plain values only, so that a row crosses to the writer thread as a cheap copy of its strings.
 */
type CallRow = Cell[];

function callRow(call: ModuleCallTrace): CallRow {
  return [
    call.module,
    call.hop,
    call.invocation,
    messagesJson(call.messages),
    call.rawCompletion,
    json(call.parsed),
    call.status,
    call.error,
    call.finishReason,
    call.truncated ? 1 : 0,
    call.usage?.promptTokens ?? null,
    call.usage?.completionTokens ?? null,
    call.latencyMs,
    call.endpoint,
    call.attempts,
    call.cached ? 1 : 0,
    new Date(call.startedAt).toISOString(),
    call.adapter,
    adapterAttemptsJson(call),
  ];
}

/**
 * Replace the module calls of one (run, step, example, rollout). Call inside a transaction
 * (writeExampleRows or recordRollouts).
 */
export function writeModuleCalls(store: Store, key: CallKey, calls: readonly ModuleCallTrace[]): void {
  writeCallRows(store, key, calls.map(callRow));
}

function writeCallRows(store: Store, key: CallKey, rows: readonly CallRow[]): void {
  store.database
    .query("DELETE FROM module_calls WHERE run_id = ? AND step = ? AND example_id = ? AND rollout_index = ?")
    .run(key.runId, key.step, key.exampleId, key.rolloutIndex);
  const statement = store.database.query<unknown, Cell[]>(INSERT_CALL);
  for (const row of rows) statement.run(key.runId, key.step, key.exampleId, key.rolloutIndex, ...row);
}

const UPSERT_PREDICTION = `
INSERT INTO predictions (run_id, step, example_id, n_hops, answer, gold_answers_json, em, f1, recall, support_f1,
  reward, reward_components_json, retrieved_ids_json, hops_used, status, error, trajectory_json, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, step, example_id) DO UPDATE SET
  n_hops = excluded.n_hops, answer = excluded.answer, gold_answers_json = excluded.gold_answers_json,
  em = excluded.em, f1 = excluded.f1, recall = excluded.recall, support_f1 = excluded.support_f1,
  reward = excluded.reward, reward_components_json = excluded.reward_components_json,
  retrieved_ids_json = excluded.retrieved_ids_json, hops_used = excluded.hops_used, status = excluded.status,
  error = excluded.error, trajectory_json = excluded.trajectory_json, created_at = excluded.created_at`;

/**
 * One example result as the store writes it: the prediction row (after run_id) and its module
 * calls' rows, all plain values (JSON already serialized). Built where the example finished and
 * posted to the writer thread: copying strings costs a fraction of cloning the result's objects.
 */
export interface ExampleRows {
  step: number;
  exampleId: string;
  prediction: Cell[];
  calls: CallRow[];
}

export function exampleRows(example: ExampleResult): ExampleRows {
  const step = example.step ?? EVALUATION_STEP;
  const { result, score } = example;
  return {
    step,
    exampleId: example.exampleId,
    prediction: [
      step,
      example.exampleId,
      example.nHops,
      result.answer,
      JSON.stringify(example.goldAnswers),
      score.em,
      score.f1,
      score.recall,
      score.supportF1,
      score.reward,
      JSON.stringify(score.components),
      JSON.stringify(result.retrievedIds),
      result.hopsUsed,
      predictionStatus(result),
      result.failure?.message ?? null,
      JSON.stringify(trajectoryOf(result)),
      now(),
    ],
    calls: result.calls.map(callRow),
  };
}

/** Write an example's prediction and its module calls in one transaction (all or nothing). */
export function writeExampleRows(store: Store, runId: number, rows: ExampleRows): void {
  inTransaction(store, () => {
    store.database.query<unknown, Cell[]>(UPSERT_PREDICTION).run(runId, ...rows.prediction);
    writeCallRows(store, { runId, step: rows.step, exampleId: rows.exampleId, rolloutIndex: NO_ROLLOUT }, rows.calls);
  });
}

/** Write the prediction and its module calls in one transaction (all or nothing). */
export function recordExampleResult(store: Store, runId: number, example: ExampleResult): void {
  writeExampleRows(store, runId, exampleRows(example));
}

/**
 * Ids of the examples already recorded for (run, step), for resume. Examples without a result
 * (service failures, deadlines) are not counted as done (a resumed run runs them again) unless
 * `includeErrors` is set.
 */
export function completedExampleIds(store: Store, runId: number, step: number = EVALUATION_STEP, options: { includeErrors?: boolean } = {}): Set<string> {
  const sql = options.includeErrors
    ? "SELECT example_id AS exampleId FROM predictions WHERE run_id = ? AND step = ?"
    : "SELECT example_id AS exampleId FROM predictions WHERE run_id = ? AND step = ? AND status IN ('ok', 'format_failure')";
  const rows = guarded(store, () => store.database.query<Pick<PredictionRow, "exampleId">, [number, number]>(sql).all(runId, step));
  return new Set(rows.map((row) => row.exampleId));
}

export type PredictionRecord = Pick<PredictionRow, "exampleId" | "step" | "answer" | "em" | "f1" | "recall" | "supportF1" | "reward" | "status"> & {
  retrievedIds: string[];
};

/** The predictions of (run, step) in recording order (for reports and the predictions file). */
export function predictionsOf(store: Store, runId: number, step: number = EVALUATION_STEP): PredictionRecord[] {
  const rows = guarded(store, () =>
    store.database
      .query<Omit<PredictionRecord, "retrievedIds"> & Pick<PredictionRow, "retrievedIdsJson">, [number, number]>(
        `SELECT example_id AS exampleId, step, answer, em, f1, recall, support_f1 AS supportF1, reward, status,
           retrieved_ids_json AS retrievedIdsJson
         FROM predictions WHERE run_id = ? AND step = ? ORDER BY id`,
      )
      .all(runId, step),
  );
  return rows.map(({ retrievedIdsJson, ...row }) => ({ ...row, retrievedIds: stringList(retrievedIdsJson) }));
}
