/**
 * The training page's data (GET /api/runs/NAME/training): per step the mean reward, the reward
 * spread *within* each GRPO group (what the advantages are computed from) and the share of groups
 * with no spread at all (no learning signal, TRL's frac_reward_zero_std), format failures,
 * completion length and truncation, reward per module; validations over steps; checkpoints; and
 * the trainer's loss / KL / grad norm / learning rate when the database has them, otherwise why not.
 */
import { isZeroSpread, noSignalWarning, unbiasedStandardDeviation } from "../../metrics/group-signal.ts";
import { parseConfig } from "../../report/data.ts";
import { requireRun } from "../../store/manage.ts";
import { TRAINER_HEALTH_METRIC, trainerMetricsOfRun } from "../../report/trainer-metrics.ts";
import type { Store } from "../../store/database.ts";
import { trainingStepsOf } from "../../store/reports.ts";
import { validationsOf } from "../../store/training.ts";
import { checkpointsOf } from "../../store/training.ts";
import { completionStatsByStep, groupRewardsOf, recordsAdapter, rolloutStatsByStep, type GroupRewardRow } from "../../store/view.ts";
import type { StepHealth, TrainingPayload } from "../types.ts";
import { kindLabel, plannedStepsOf } from "./runs.ts";

interface GroupAggregate {
  groups: number;
  spreadSum: number;
  zeroSpread: number;
  moduleRewards: Map<string, { sum: number; count: number }>;
}

function aggregateGroups(rows: readonly GroupRewardRow[]): Map<number, GroupAggregate> {
  const byStep = new Map<number, GroupAggregate>();
  for (const row of rows) {
    const entry = byStep.get(row.step) ?? { groups: 0, spreadSum: 0, zeroSpread: 0, moduleRewards: new Map() };
    entry.groups += 1;
    entry.spreadSum += unbiasedStandardDeviation(row.rewards);
    if (isZeroSpread(row.rewards)) entry.zeroSpread += 1;
    const module = entry.moduleRewards.get(row.module) ?? { sum: 0, count: 0 };
    for (const reward of row.rewards) {
      module.sum += reward;
      module.count += 1;
    }
    entry.moduleRewards.set(row.module, module);
    byStep.set(row.step, entry);
  }
  return byStep;
}

const FALLBACK_REASON =
  "this database records no JSONAdapter fallback (module_calls has no adapter column: it was written by a musique without the " +
  "fallback, where a completion that breaks the ChatAdapter format is a format failure)";

function healthWarnings(steps: readonly StepHealth[]): string[] {
  const warnings: string[] = [];
  const signal = noSignalWarning({
    groups: steps.reduce((sum, step) => sum + step.groups, 0),
    zeroSpreadGroups: steps.reduce((sum, step) => sum + step.zeroSpreadGroups, 0),
  });
  if (signal) warnings.push(signal);
  const last = steps.at(-1);
  if (last && last.rollouts > 0 && last.formatFailureRollouts * 2 > last.rollouts) {
    warnings.push(`in step ${last.step}, ${last.formatFailureRollouts} of ${last.rollouts} rollouts broke the ChatAdapter format (reward −1)`);
  }
  return warnings;
}

export function trainingPayload(store: Store, name: string): TrainingPayload {
  const run = requireRun(store, name);
  const config = parseConfig(run.configJson);
  const kind = kindLabel(run.kind, config);
  const rows = trainingStepsOf(store, run.id);
  const groups = aggregateGroups(groupRewardsOf(store, run.id));
  const rollouts = new Map(rolloutStatsByStep(store, run.id).map((row) => [row.step, row]));
  const completions = new Map(completionStatsByStep(store, run.id).map((row) => [row.step, row]));
  const stepNumbers = [...new Set([...rows.map((row) => row.step), ...rollouts.keys()])].sort((a, b) => a - b);
  const statusOf = new Map(rows.map((row) => [row.step, row.status]));
  const modules = new Set<string>();
  const steps: StepHealth[] = stepNumbers.map((step) => {
    const group = groups.get(step);
    const rollout = rollouts.get(step);
    const completion = completions.get(step);
    const rewardByModule: Record<string, number> = {};
    for (const [module, entry] of group?.moduleRewards ?? []) {
      modules.add(module);
      rewardByModule[module] = entry.sum / Math.max(1, entry.count);
    }
    return {
      step,
      status: statusOf.get(step) ?? "running",
      rollouts: rollout?.rollouts ?? 0,
      meanReward: rollout?.meanReward ?? null,
      groups: group?.groups ?? 0,
      meanGroupSpread: group ? group.spreadSum / group.groups : null,
      zeroSpreadGroups: group?.zeroSpread ?? 0,
      formatFailureRollouts: rollout?.formatFailureRollouts ?? 0,
      completion: completion
        ? {
            calls: completion.calls,
            callsWithTokens: completion.callsWithTokens,
            meanTokens: completion.meanCompletionTokens,
            maxTokens: completion.maxCompletionTokens,
            truncated: completion.truncated,
            fallbackCalls: completion.fallbackCalls,
            rescuedCalls: completion.rescuedCalls,
          }
        : null,
      rewardByModule,
    };
  });
  const validations = validationsOf(store, run.id);
  const trainer = trainerMetricsOfRun(store, run, config, rows, TRAINER_HEALTH_METRIC);
  const numberOf = (value: unknown) => (typeof value === "number" ? value : null);
  return {
    run: { name: run.name, kind, status: run.status, startedAt: run.startedAt, finishedAt: run.finishedAt, error: run.error, model: run.model },
    plannedSteps: plannedStepsOf(config),
    examplesPerStep: numberOf(config.numExamplesPerStep),
    rolloutsPerStep: numberOf(config.numRolloutsPerStep),
    steps,
    modules: [...modules].sort(),
    validations,
    best: validations.find((row) => row.isBest) ?? null,
    checkpoints: checkpointsOf(store, run.id).map((checkpoint) => ({ step: checkpoint.step, name: checkpoint.name, directory: checkpoint.directory })),
    trainer: trainer.reason === null ? { recorded: true, series: trainer.series } : { recorded: false, reason: trainer.reason },
    fallback: recordsAdapter(store) ? { recorded: true } : { recorded: false, reason: FALLBACK_REASON },
    warnings: healthWarnings(steps),
  };
}
