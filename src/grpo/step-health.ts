/**
 * One GRPO step's health, from the step in memory, for the step line of `musique train`
 * (issue 17 item 2): the GRPO rewards of its rollouts, the learning signal of its groups (the
 * spread inside each group, src/metrics/group-signal.ts), format failures and DSPy's JSONAdapter
 * fallback. The same numbers, read back from the store, make the end-of-run summary
 * (src/store/health.ts).
 */
import { isServiceFailure } from "../program/types.ts";
import { groupSignal } from "../metrics/group-signal.ts";
import type { HealthNumbers } from "../metrics/training-health.ts";
import type { GrpoGroup } from "./groups.ts";
import type { ScoredRun } from "./rollouts.ts";

export function stepHealth(rollouts: readonly ScoredRun[], groups: readonly GrpoGroup[]): HealthNumbers {
  const results = rollouts.filter((run) => !isServiceFailure(run.result.failure));
  const rewards = results.map((run) => run.reward);
  const calls = results.flatMap((run) => run.result.calls);
  const fellBack = calls.filter((call) => call.adapter !== "chat");
  return {
    rollouts: results.length,
    meanReward: rewards.length > 0 ? rewards.reduce((sum, reward) => sum + reward, 0) / rewards.length : null,
    minReward: rewards.length > 0 ? Math.min(...rewards) : null,
    maxReward: rewards.length > 0 ? Math.max(...rewards) : null,
    signal: groupSignal(groups.map((group) => group.samples.map((sample) => sample.reward))),
    formatFailureRollouts: results.filter((run) => run.result.failure?.kind === "format").length,
    serviceFailureRollouts: rollouts.length - results.length,
    calls: calls.length,
    fallbackCalls: fellBack.length,
    rescuedCalls: fellBack.filter((call) => call.status === "ok").length,
  };
}
