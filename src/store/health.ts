/**
 * A training run's health read back from the store (issue 17 item 2): per step, the GRPO rewards
 * of its rollouts (the metric, −1 for a rollout that broke the format; rollouts that failed on a
 * service are counted apart, they are not results), the learning signal of its groups (the
 * spread inside each group), and its rollouts' module calls with DSPy's JSONAdapter fallback.
 * The numbers and their wording are src/metrics/training-health.ts's; the end of `musique train`
 * and `musique report` show them.
 */
import { FORMAT_FAILURE_REWARD } from "../metrics/reward.ts";
import { groupSignal } from "../metrics/group-signal.ts";
import { totalHealth, type StepHealthNumbers, type TrainingHealth } from "../metrics/training-health.ts";
import { guarded, type Store } from "./database.ts";
import { completionStatsByStep, groupRewardsOf } from "./view.ts";

interface RolloutHealthRow {
  step: number;
  rollouts: number;
  meanReward: number | null;
  minReward: number | null;
  maxReward: number | null;
  formatFailureRollouts: number;
  serviceFailureRollouts: number;
}

/** Per step: the rollouts that are results and their GRPO rewards, format and service failures. */
function rolloutHealthByStep(store: Store, runId: number): RolloutHealthRow[] {
  return guarded(store, () =>
    store.database
      .query<RolloutHealthRow, [number, number]>(
        `SELECT step, SUM(kind IS NULL OR kind = 'format') AS rollouts,
           AVG(CASE WHEN kind IS NULL OR kind = 'format' THEN grpo_reward END) AS meanReward,
           MIN(CASE WHEN kind IS NULL OR kind = 'format' THEN grpo_reward END) AS minReward,
           MAX(CASE WHEN kind IS NULL OR kind = 'format' THEN grpo_reward END) AS maxReward,
           SUM(kind = 'format') AS formatFailureRollouts, SUM(kind IS NOT NULL AND kind != 'format') AS serviceFailureRollouts
         FROM (SELECT step, json_extract(trajectory_json, '$.failure.kind') AS kind,
                 CASE WHEN json_extract(trajectory_json, '$.failure.kind') = 'format' THEN ?2 ELSE reward END AS grpo_reward
               FROM rollouts WHERE run_id = ?1)
         GROUP BY step ORDER BY step`,
      )
      .all(runId, FORMAT_FAILURE_REWARD),
  );
}

export function trainingHealthOf(store: Store, runId: number): TrainingHealth {
  const groupsByStep = new Map<number, number[][]>();
  for (const group of groupRewardsOf(store, runId)) {
    const list = groupsByStep.get(group.step) ?? [];
    list.push(group.rewards);
    groupsByStep.set(group.step, list);
  }
  const calls = new Map(completionStatsByStep(store, runId).map((row) => [row.step, row]));
  const steps: StepHealthNumbers[] = rolloutHealthByStep(store, runId).map((row) => {
    const call = calls.get(row.step);
    return {
      ...row,
      signal: groupSignal(groupsByStep.get(row.step) ?? []),
      calls: call?.calls ?? 0,
      fallbackCalls: call ? call.fallbackCalls : 0,
      rescuedCalls: call ? call.rescuedCalls : 0,
    };
  });
  return { steps, total: totalHealth(steps) };
}
