/**
 * Read-only queries for `musique report`, `musique compare` and the view: a run's examples (with
 * their question and supporting paragraph ids), its predictions with trajectories, module-call
 * usage, and the training tables (rollouts, steps). Nothing here writes.
 */
import { guarded, type Store } from "./database.ts";
import { stringList } from "./json.ts";
import type { ExampleRole } from "./runs.ts";
import type { ModuleCallRow, PredictionRow, RunExampleRow, TrainingStepRow } from "./tables.ts";

/** A run's example as recorded when the run started. */
export type RunExampleRecord = Pick<RunExampleRow, "exampleId" | "position" | "role" | "nHops" | "shape" | "question"> & {
  /** The supporting paragraph ids; null in runs recorded before they were stored. */
  supportingIds: string[] | null;
};

/** The examples a run recorded for `role`, in their recorded order. */
export function runExamplesOf(store: Store, runId: number, role: ExampleRole): RunExampleRecord[] {
  const rows = guarded(store, () =>
    store.database
      .query<Omit<RunExampleRecord, "supportingIds"> & Pick<RunExampleRow, "supportingIdsJson">, [number, string]>(
        `SELECT example_id AS exampleId, position, role, n_hops AS nHops, shape, question, supporting_ids_json AS supportingIdsJson
         FROM run_examples WHERE run_id = ? AND role = ? ORDER BY position, example_id`,
      )
      .all(runId, role),
  );
  return rows.map(({ supportingIdsJson, ...row }) => ({ ...row, supportingIds: supportingIdsJson === null ? null : stringList(supportingIdsJson) }));
}

/** The step whose predictions stand for the run: -1 for evaluation, the latest validation for training. */
export function latestPredictionStep(store: Store, runId: number): number | null {
  const row = guarded(store, () =>
    store.database.query<{ step: number | null }, [number]>("SELECT MAX(step) AS step FROM predictions WHERE run_id = ?").get(runId),
  );
  return row?.step ?? null;
}

/** The distinct steps a run has predictions for, ascending (-1 evaluation, N validation after N steps). */
export function predictionStepsOf(store: Store, runId: number): number[] {
  return guarded(store, () =>
    store.database.query<Pick<PredictionRow, "step">, [number]>("SELECT DISTINCT step FROM predictions WHERE run_id = ? ORDER BY step").all(runId),
  ).map((row) => row.step);
}

export type ReportPrediction = Pick<
  PredictionRow,
  "exampleId" | "nHops" | "answer" | "em" | "f1" | "recall" | "supportF1" | "reward" | "hopsUsed" | "status" | "error" | "trajectoryJson"
> & {
  goldAnswers: string[];
  retrievedIds: string[];
};

/** Every prediction of (run, step), in recording order, with gold answers and trajectory. */
export function reportPredictionsOf(store: Store, runId: number, step: number): ReportPrediction[] {
  const rows = guarded(store, () =>
    store.database
      .query<Omit<ReportPrediction, "goldAnswers" | "retrievedIds"> & Pick<PredictionRow, "goldAnswersJson" | "retrievedIdsJson">, [number, number]>(
        `SELECT example_id AS exampleId, n_hops AS nHops, answer, gold_answers_json AS goldAnswersJson, em, f1, recall,
           support_f1 AS supportF1, reward, retrieved_ids_json AS retrievedIdsJson, hops_used AS hopsUsed, status, error,
           trajectory_json AS trajectoryJson
         FROM predictions WHERE run_id = ? AND step = ? ORDER BY id`,
      )
      .all(runId, step),
  );
  return rows.map(({ goldAnswersJson, retrievedIdsJson, ...row }) => ({
    ...row,
    goldAnswers: stringList(goldAnswersJson),
    retrievedIds: stringList(retrievedIdsJson),
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
      .query<CallUsage, [number]>(
        `SELECT COUNT(*) AS calls, COALESCE(SUM(prompt_tokens), 0) AS promptTokens,
           COALESCE(SUM(completion_tokens), 0) AS completionTokens, COALESCE(SUM(cached), 0) AS cachedCalls,
           COALESCE(SUM(status = 'parse_error'), 0) AS parseFailures, COALESCE(SUM(status = 'lm_error'), 0) AS lmErrors,
           COALESCE(SUM(MAX(COALESCE(attempts, 1) - COALESCE(json_array_length(adapter_attempts_json), 1), 0)), 0) AS retries,
           COALESCE(SUM(status = 'ok' AND adapter != 'chat'), 0) AS rescuedCalls, AVG(latency_ms) AS meanLatencyMs
         FROM module_calls WHERE run_id = ?`,
      )
      .get(runId),
  );
  // An aggregate without GROUP BY always returns its one row.
  return (
    row ?? { calls: 0, promptTokens: 0, completionTokens: 0, cachedCalls: 0, parseFailures: 0, lmErrors: 0, retries: 0, rescuedCalls: 0, meanLatencyMs: null }
  );
}

/** The question stored with the run for each of `exampleIds` that has one (any role). */
export function storedQuestionsOf(store: Store, runId: number, exampleIds: readonly string[]): Map<string, string> {
  const statement = store.database.query<Pick<RunExampleRow, "question">, [number, string]>(
    "SELECT question FROM run_examples WHERE run_id = ? AND example_id = ? AND question IS NOT NULL LIMIT 1",
  );
  const out = new Map<string, string>();
  guarded(store, () => {
    for (const id of exampleIds) {
      const question = statement.get(runId, id)?.question;
      if (question !== undefined && question !== null) out.set(id, question);
    }
  });
  return out;
}

/**
 * The request messages of the first module call of each example at (run, step): their user
 * message holds the question. For runs recorded before run_examples stored the question.
 */
export function firstRequestMessagesOf(store: Store, runId: number, step: number, exampleIds: readonly string[]): Map<string, string> {
  const statement = store.database.query<Pick<ModuleCallRow, "requestMessagesJson">, [number, number, string]>(
    `SELECT request_messages_json AS requestMessagesJson FROM module_calls WHERE run_id = ? AND step = ? AND example_id = ?
     ORDER BY rollout_index, id LIMIT 1`,
  );
  const out = new Map<string, string>();
  guarded(store, () => {
    for (const id of exampleIds) {
      const row = statement.get(runId, step, id);
      if (row) out.set(id, row.requestMessagesJson);
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
      .query<Omit<RolloutRewardStep, "std"> & { meanSquare: number }, [number]>(
        `SELECT step, COUNT(reward) AS rollouts, AVG(reward) AS mean, MIN(reward) AS min, MAX(reward) AS max,
           AVG(reward * reward) AS meanSquare
         FROM rollouts WHERE run_id = ? AND reward IS NOT NULL GROUP BY step ORDER BY step`,
      )
      .all(runId),
  );
  return rows.map(({ meanSquare, ...row }) => ({ ...row, std: Math.sqrt(Math.max(0, meanSquare - row.mean * row.mean)) }));
}

export type TrainingStepSummary = Pick<
  TrainingStepRow,
  | "step"
  | "status"
  | "meanReward"
  | "rewardStd"
  | "formatFailures"
  | "numGroups"
  | "metricsJson"
  | "startedAt"
  | "finishedAt"
  | "rolloutSeconds"
  | "waitingForArborSeconds"
  | "arborWaitingSeconds"
>;

export function trainingStepsOf(store: Store, runId: number): TrainingStepSummary[] {
  return guarded(store, () =>
    store.database
      .query<TrainingStepSummary, [number]>(
        `SELECT step, status, mean_reward AS meanReward, reward_std AS rewardStd, format_failures AS formatFailures,
           num_groups AS numGroups, metrics_json AS metricsJson, started_at AS startedAt, finished_at AS finishedAt,
           rollout_seconds AS rolloutSeconds, waiting_for_arbor_seconds AS waitingForArborSeconds, arbor_waiting_seconds AS arborWaitingSeconds
         FROM training_steps WHERE run_id = ? ORDER BY step`,
      )
      .all(runId),
  );
}
