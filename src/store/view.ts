/**
 * Read-only queries for `musique view` and `musique compare`: the runs list with headline
 * scores, per-step training health (rollouts, groups, completion lengths), one step's groups
 * and rollouts, one prediction, and the database's change counter. Nothing here writes.
 *
 * Steps are the database's (docs/store.md "Conventions"): training_steps / rollouts / groups rows
 * of step N are the N-th step (counted from 1); predictions and validations of step N are the
 * validation after N steps (0 = before training); step -1 is a plain evaluation.
 */
import { guarded, type Store } from "./database.ts";
import { numberList, stringList } from "./json.ts";
import type { RunSummary } from "./runs.ts";
import type { GroupRow, RolloutRow } from "./tables.ts";

/** A prediction that is a result (scores are over these; service failures are not scores). */
const SCORED = "status IN ('ok', 'format_failure')";

/** PRAGMA data_version: changes whenever another connection commits to the database. */
export function dataVersion(store: Store): number {
  const row = guarded(store, () => store.database.query<{ version: number }, []>("SELECT data_version AS version FROM pragma_data_version").get());
  return row?.version ?? 0;
}

/** A run with the headline numbers of run_summary, except the module-call totals, plus training progress. */
export type RunListRow = Omit<RunSummary, "calls" | "failedCalls" | "promptTokens" | "completionTokens" | "lmErrors"> & {
  configJson: string;
  error: string | null;
  /** Predictions without a result (lm_error, retrieval_error, deadline). */
  serviceFailures: number;
  /** Training runs: recorded and completed steps. */
  steps: number;
  completedSteps: number;
};

/**
 * Every run, newest first, with the scores of its latest predictions (as run_summary: over the
 * examples with a result, missing counted; without the module_calls aggregate, which would read
 * every call's prompt on each page load).
 */
export function runListOf(store: Store, limit = 1000): RunListRow[] {
  const rows = guarded(store, () =>
    store.database
      .query<Omit<RunListRow, "tags"> & { tagsJson: string }, [number]>(
        `SELECT r.id AS runId, r.name, r.kind, r.status, r.started_at AS startedAt, r.finished_at AS finishedAt, r.model, r.retriever,
           r.dataset, r.config_json AS configJson, r.error,
           p.step, COALESCE(p.n, 0) AS n, p.em, p.f1, p.recall, p.support_f1 AS supportF1, p.reward,
           COALESCE(p.format_failures, 0) AS formatFailures,
           COALESCE(p.lm_errors, 0) + COALESCE(p.retrieval_errors, 0) + COALESCE(p.deadlines, 0) AS serviceFailures,
           COALESCE(p.retrieval_errors, 0) AS retrievalErrors, COALESCE(p.deadlines, 0) AS deadlines,
           CASE WHEN r.kind = 'train' AND p.step IS NULL THEN 0 ELSE MAX(0,
             (SELECT COUNT(*) FROM run_examples e WHERE e.run_id = r.id AND e.role = CASE r.kind WHEN 'train' THEN 'dev' ELSE 'test' END)
             - COALESCE(p.n, 0)) END AS missing,
           COALESCE(s.steps, 0) AS steps, COALESCE(s.completed, 0) AS completedSteps,
           (SELECT json_group_array(tag) FROM (SELECT tag FROM run_tags t WHERE t.run_id = r.id ORDER BY tag)) AS tagsJson
         FROM runs r
         LEFT JOIN (
           SELECT run_id, step, SUM(${SCORED}) AS n, AVG(CASE WHEN ${SCORED} THEN em END) AS em,
             AVG(CASE WHEN ${SCORED} THEN f1 END) AS f1, AVG(CASE WHEN ${SCORED} THEN recall END) AS recall,
             AVG(CASE WHEN ${SCORED} THEN support_f1 END) AS support_f1, AVG(CASE WHEN ${SCORED} THEN reward END) AS reward,
             SUM(status = 'format_failure') AS format_failures, SUM(status = 'lm_error') AS lm_errors,
             SUM(status = 'retrieval_error') AS retrieval_errors, SUM(status = 'deadline') AS deadlines
           FROM predictions p1 WHERE step = (SELECT MAX(step) FROM predictions p2 WHERE p2.run_id = p1.run_id)
           GROUP BY run_id, step
         ) p ON p.run_id = r.id
         LEFT JOIN (
           SELECT run_id, COUNT(*) AS steps, SUM(status = 'completed') AS completed FROM training_steps GROUP BY run_id
         ) s ON s.run_id = r.id
         ORDER BY r.started_at DESC, r.id DESC LIMIT ?`,
      )
      .all(limit),
  );
  return rows.map(({ tagsJson, ...row }) => ({ ...row, tags: stringList(tagsJson) }));
}

export interface GroupRewardRow {
  id: number;
  step: number;
  exampleId: string;
  module: string;
  invocation: number;
  batchId: number | null;
  rewards: number[];
  /** As stored (null in databases written before advantages were recorded). */
  advantages: number[] | null;
}

type GroupColumns = Pick<GroupRow, "id" | "step" | "exampleId" | "module" | "invocation" | "batchId" | "rewardsJson" | "advantagesJson">;

function groupRewardRow({ rewardsJson, advantagesJson, ...row }: GroupColumns): GroupRewardRow {
  return { ...row, rewards: numberList(rewardsJson) ?? [], advantages: numberList(advantagesJson) };
}

const GROUP_COLUMNS =
  "id, step, example_id AS exampleId, module, invocation, batch_id AS batchId, rewards_json AS rewardsJson, advantages_json AS advantagesJson";

/** Every group of a run (rewards and advantages, not the samples), in step order. */
export function groupRewardsOf(store: Store, runId: number): GroupRewardRow[] {
  return guarded(store, () =>
    store.database.query<GroupColumns, [number]>(`SELECT ${GROUP_COLUMNS} FROM groups WHERE run_id = ? ORDER BY step, id`).all(runId),
  ).map(groupRewardRow);
}

/** The groups of one step. */
export function stepGroupsOf(store: Store, runId: number, step: number): GroupRewardRow[] {
  return guarded(store, () =>
    store.database
      .query<GroupColumns, [number, number]>(`SELECT ${GROUP_COLUMNS} FROM groups WHERE run_id = ? AND step = ? ORDER BY example_id, id`)
      .all(runId, step),
  ).map(groupRewardRow);
}

/** One group with request_json (the samples as sent: messages, completion, reward). */
export function groupRequestOf(store: Store, runId: number, groupId: number): { group: GroupRewardRow; requestJson: string | null } | null {
  const row = guarded(store, () =>
    store.database
      .query<GroupColumns & Pick<GroupRow, "requestJson">, [number, number]>(
        `SELECT ${GROUP_COLUMNS}, request_json AS requestJson FROM groups WHERE run_id = ? AND id = ?`,
      )
      .get(runId, groupId),
  );
  return row ? { group: groupRewardRow(row), requestJson: row.requestJson } : null;
}

export interface RolloutStepStats {
  step: number;
  rollouts: number;
  meanReward: number | null;
  /** Rollouts with at least one module call that broke the format. */
  formatFailureRollouts: number;
}

export function rolloutStatsByStep(store: Store, runId: number): RolloutStepStats[] {
  return guarded(store, () =>
    store.database
      .query<RolloutStepStats, [number]>(
        `SELECT step, COUNT(*) AS rollouts, AVG(reward) AS meanReward, SUM(format_failures > 0) AS formatFailureRollouts
         FROM rollouts WHERE run_id = ? GROUP BY step ORDER BY step`,
      )
      .all(runId),
  );
}

export interface CompletionStepStats {
  step: number;
  calls: number;
  /** Calls that recorded completion_tokens (servers without usage, like LEGACY Arbor, leave it out). */
  callsWithTokens: number;
  meanCompletionTokens: number | null;
  maxCompletionTokens: number | null;
  /** Calls cut off at --max-tokens (finish_reason "length"). */
  truncated: number;
  /** Calls that went past the ChatAdapter to the JSONAdapter fallback, and those it rescued; null when not recorded. */
  fallbackCalls: number | null;
  rescuedCalls: number | null;
}

/** Whether module_calls records the adapter of each call (databases with the JSONAdapter fallback). */
export function recordsAdapter(store: Store): boolean {
  const columns = guarded(store, () => store.database.query<{ name: string }, []>("SELECT name FROM pragma_table_info('module_calls')").all());
  return columns.some((column) => column.name === "adapter");
}

/** Completion length, truncation and JSONAdapter fallback of the rollouts' module calls, per step. */
export function completionStatsByStep(store: Store, runId: number): CompletionStepStats[] {
  const fallback = recordsAdapter(store)
    ? "SUM(adapter != 'chat') AS fallbackCalls, SUM(adapter != 'chat' AND status = 'ok') AS rescuedCalls"
    : "NULL AS fallbackCalls, NULL AS rescuedCalls";
  return guarded(store, () =>
    store.database
      .query<CompletionStepStats, [number]>(
        `SELECT step, COUNT(*) AS calls, COUNT(completion_tokens) AS callsWithTokens, AVG(completion_tokens) AS meanCompletionTokens,
           MAX(completion_tokens) AS maxCompletionTokens, SUM(truncated = 1 OR finish_reason = 'length') AS truncated, ${fallback}
         FROM module_calls WHERE run_id = ? AND rollout_index >= 0 GROUP BY step ORDER BY step`,
      )
      .all(runId),
  );
}

export type StepRolloutRow = Pick<RolloutRow, "exampleId" | "rolloutIndex" | "answer" | "em" | "f1" | "recall" | "reward" | "formatFailures">;

/** The rollouts of one step (without trajectories). */
export function stepRolloutsOf(store: Store, runId: number, step: number): StepRolloutRow[] {
  return guarded(store, () =>
    store.database
      .query<StepRolloutRow, [number, number]>(
        `SELECT example_id AS exampleId, rollout_index AS rolloutIndex, answer, em, f1, recall, reward, format_failures AS formatFailures
         FROM rollouts WHERE run_id = ? AND step = ? ORDER BY example_id, rollout_index`,
      )
      .all(runId, step),
  );
}

/** One rollout's trajectory_json (as stored), or null. */
export function rolloutTrajectoryOf(store: Store, runId: number, step: number, exampleId: string, rolloutIndex: number): string | null {
  const row = guarded(store, () =>
    store.database
      .query<Pick<RolloutRow, "trajectoryJson">, [number, number, string, number]>(
        "SELECT trajectory_json AS trajectoryJson FROM rollouts WHERE run_id = ? AND step = ? AND example_id = ? AND rollout_index = ?",
      )
      .get(runId, step, exampleId, rolloutIndex),
  );
  return row?.trajectoryJson ?? null;
}
