/**
 * Read-only queries for `musique report` and `musique compare`: a run's examples, its
 * predictions with trajectories, module-call usage, and the training tables (rollouts, steps,
 * validations). Nothing here writes.
 */
import { guarded, type Store } from "./database.ts";
import type { PredictionStatus } from "./results.ts";
import type { ExampleRole } from "./runs.ts";

export interface RunExampleRow {
  exampleId: string;
  position: number;
  role: ExampleRole;
  nHops: number | null;
  shape: string | null;
}

/** The examples a run recorded for `role`, in their recorded order. */
export function runExamplesOf(store: Store, runId: number, role: ExampleRole): RunExampleRow[] {
  const rows = guarded(store, () =>
    store.database
      .query("SELECT example_id, position, role, n_hops, shape FROM run_examples WHERE run_id = ? AND role = ? ORDER BY position, example_id")
      .all(runId, role),
  ) as { example_id: string; position: number; role: ExampleRole; n_hops: number | null; shape: string | null }[];
  return rows.map((row) => ({ exampleId: row.example_id, position: row.position, role: row.role, nHops: row.n_hops, shape: row.shape }));
}

/** The step whose predictions stand for the run: -1 for evaluation, the latest validation for training. */
export function latestPredictionStep(store: Store, runId: number): number | null {
  const row = guarded(store, () =>
    store.database.query("SELECT MAX(step) AS step FROM predictions WHERE run_id = ?").get(runId),
  ) as { step: number | null } | null;
  return row?.step ?? null;
}

/** The distinct steps a run has predictions for, ascending (-1 evaluation, N validation after N steps). */
export function predictionStepsOf(store: Store, runId: number): number[] {
  const rows = guarded(store, () =>
    store.database.query("SELECT DISTINCT step FROM predictions WHERE run_id = ? ORDER BY step").all(runId),
  ) as { step: number }[];
  return rows.map((row) => row.step);
}

export interface ReportPrediction {
  exampleId: string;
  nHops: number | null;
  answer: string | null;
  goldAnswers: string[];
  em: number | null;
  f1: number | null;
  recall: number | null;
  supportF1: number | null;
  reward: number | null;
  retrievedIds: string[];
  hopsUsed: number | null;
  status: PredictionStatus;
  error: string | null;
  /** trajectory_json as stored (parsed by the caller). */
  trajectoryJson: string | null;
}

/** Every prediction of (run, step), in recording order, with gold answers and trajectory. */
export function reportPredictionsOf(store: Store, runId: number, step: number): ReportPrediction[] {
  const rows = guarded(store, () =>
    store.database
      .query(
        `SELECT example_id, n_hops, answer, gold_answers_json, em, f1, recall, support_f1, reward, retrieved_ids_json,
           hops_used, status, error, trajectory_json
         FROM predictions WHERE run_id = ? AND step = ? ORDER BY id`,
      )
      .all(runId, step),
  ) as {
    example_id: string;
    n_hops: number | null;
    answer: string | null;
    gold_answers_json: string;
    em: number | null;
    f1: number | null;
    recall: number | null;
    support_f1: number | null;
    reward: number | null;
    retrieved_ids_json: string;
    hops_used: number | null;
    status: PredictionStatus;
    error: string | null;
    trajectory_json: string | null;
  }[];
  return rows.map((row) => ({
    exampleId: row.example_id,
    nHops: row.n_hops,
    answer: row.answer,
    goldAnswers: JSON.parse(row.gold_answers_json) as string[],
    em: row.em,
    f1: row.f1,
    recall: row.recall,
    supportF1: row.support_f1,
    reward: row.reward,
    retrievedIds: JSON.parse(row.retrieved_ids_json) as string[],
    hopsUsed: row.hops_used,
    status: row.status,
    error: row.error,
    trajectoryJson: row.trajectory_json,
  }));
}

export interface CallUsage {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  cachedCalls: number;
  /** Module calls whose completion broke the ChatAdapter format. */
  parseFailures: number;
  /** Module calls that got no completion. */
  lmErrors: number;
  /** HTTP attempts beyond the first of each request (a JSONAdapter fallback call is not a retry). */
  retries: number;
  /** Module calls whose ChatAdapter reply broke the format and the JSONAdapter fallback rescued. */
  rescuedCalls: number;
  meanLatencyMs: number | null;
}

/** Token usage, call counts and failures over every module call of the run (all steps). */
export function callUsageOf(store: Store, runId: number): CallUsage {
  const row = guarded(store, () =>
    store.database
      .query(
        `SELECT COUNT(*) AS calls, COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,
           COALESCE(SUM(completion_tokens), 0) AS completion_tokens, COALESCE(SUM(cached), 0) AS cached_calls,
           COALESCE(SUM(status = 'parse_error'), 0) AS parse_failures, COALESCE(SUM(status = 'lm_error'), 0) AS lm_errors,
           COALESCE(SUM(MAX(COALESCE(attempts, 1) - COALESCE(json_array_length(adapter_attempts_json), 1), 0)), 0) AS retries,
           COALESCE(SUM(status = 'ok' AND adapter != 'chat'), 0) AS rescued_calls, AVG(latency_ms) AS mean_latency_ms
         FROM module_calls WHERE run_id = ?`,
      )
      .get(runId),
  ) as {
    calls: number;
    prompt_tokens: number;
    completion_tokens: number;
    cached_calls: number;
    parse_failures: number;
    lm_errors: number;
    retries: number;
    rescued_calls: number;
    mean_latency_ms: number | null;
  };
  return {
    calls: row.calls,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    cachedCalls: row.cached_calls,
    parseFailures: row.parse_failures,
    lmErrors: row.lm_errors,
    retries: row.retries,
    rescuedCalls: row.rescued_calls,
    meanLatencyMs: row.mean_latency_ms,
  };
}

/** The user message of the first module call of each example at (run, step): it holds the question. */
export function firstRequestMessagesOf(store: Store, runId: number, step: number, exampleIds: readonly string[]): Map<string, string> {
  const statement = store.database.query(
    `SELECT request_messages_json FROM module_calls WHERE run_id = ? AND step = ? AND example_id = ?
     ORDER BY rollout_index, id LIMIT 1`,
  );
  const out = new Map<string, string>();
  guarded(store, () => {
    for (const id of exampleIds) {
      const row = statement.get(runId, step, id) as { request_messages_json: string } | null;
      if (row) out.set(id, row.request_messages_json);
    }
  });
  return out;
}

export interface RolloutRewardStep {
  step: number;
  rollouts: number;
  mean: number;
  min: number;
  max: number;
  std: number;
}

/** Per training step: mean, min, max and population std of the rollouts' rewards. */
export function rolloutRewardsByStep(store: Store, runId: number): RolloutRewardStep[] {
  const rows = guarded(store, () =>
    store.database
      .query(
        `SELECT step, COUNT(reward) AS rollouts, AVG(reward) AS mean, MIN(reward) AS min, MAX(reward) AS max,
           AVG(reward * reward) AS mean_square
         FROM rollouts WHERE run_id = ? AND reward IS NOT NULL GROUP BY step ORDER BY step`,
      )
      .all(runId),
  ) as { step: number; rollouts: number; mean: number; min: number; max: number; mean_square: number }[];
  return rows.map((row) => ({
    step: row.step,
    rollouts: row.rollouts,
    mean: row.mean,
    min: row.min,
    max: row.max,
    std: Math.sqrt(Math.max(0, row.mean_square - row.mean * row.mean)),
  }));
}

export interface TrainingStepRow {
  step: number;
  status: string;
  meanReward: number | null;
  rewardStd: number | null;
  formatFailures: number;
  numGroups: number;
  metricsJson: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Where the step's time went (NULL before migration 9; the waits are NULL for dry runs). */
  rolloutSeconds: number | null;
  waitingForArborSeconds: number | null;
  arborWaitingSeconds: number | null;
}

export function trainingStepsOf(store: Store, runId: number): TrainingStepRow[] {
  const rows = guarded(store, () =>
    store.database
      .query(
        `SELECT step, status, mean_reward, reward_std, format_failures, num_groups, metrics_json, started_at, finished_at,
           rollout_seconds, waiting_for_arbor_seconds, arbor_waiting_seconds
         FROM training_steps WHERE run_id = ? ORDER BY step`,
      )
      .all(runId),
  ) as {
    step: number;
    status: string;
    mean_reward: number | null;
    reward_std: number | null;
    format_failures: number;
    num_groups: number;
    metrics_json: string | null;
    started_at: string | null;
    finished_at: string | null;
    rollout_seconds: number | null;
    waiting_for_arbor_seconds: number | null;
    arbor_waiting_seconds: number | null;
  }[];
  return rows.map((row) => ({
    step: row.step,
    status: row.status,
    meanReward: row.mean_reward,
    rewardStd: row.reward_std,
    formatFailures: row.format_failures,
    numGroups: row.num_groups,
    metricsJson: row.metrics_json,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    rolloutSeconds: row.rollout_seconds,
    waitingForArborSeconds: row.waiting_for_arbor_seconds,
    arborWaitingSeconds: row.arbor_waiting_seconds,
  }));
}

export interface ValidationRow {
  step: number;
  em: number | null;
  f1: number | null;
  recall: number | null;
  supportF1: number | null;
  reward: number | null;
  nExamples: number;
  isBest: boolean;
}

export function validationsOf(store: Store, runId: number): ValidationRow[] {
  const rows = guarded(store, () =>
    store.database
      .query("SELECT step, em, f1, recall, support_f1, reward, n_examples, is_best FROM validations WHERE run_id = ? ORDER BY step")
      .all(runId),
  ) as {
    step: number;
    em: number | null;
    f1: number | null;
    recall: number | null;
    support_f1: number | null;
    reward: number | null;
    n_examples: number;
    is_best: number;
  }[];
  return rows.map((row) => ({
    step: row.step,
    em: row.em,
    f1: row.f1,
    recall: row.recall,
    supportF1: row.support_f1,
    reward: row.reward,
    nExamples: row.n_examples,
    isBest: row.is_best === 1,
  }));
}
