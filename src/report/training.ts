/**
 * The training side of a report: the reward curve per step (mean and spread across rollouts),
 * validation scores over steps, the health of the steps (store/health.ts), and the trainer's
 * loss / KL / grad norm / learning rate or why there are none (trainer-metrics.ts), and where the
 * time went: rollouts, musique waiting for Arbor, Arbor waiting for musique (step-times.ts).
 */
import { healthWarnings, type TrainingHealth } from "../metrics/training-health.ts";
import type { Store } from "../store/database.ts";
import { trainingHealthOf } from "../store/health.ts";
import { rolloutRewardsByStep, trainingStepsOf } from "../store/reports.ts";
import type { RunRecord } from "../store/runs.ts";
import { validationsOf, type ValidationRecord } from "../store/training.ts";
import { trainingTimesOf, type TrainingTimes } from "./step-times.ts";
import { trainerMetricsOfRun, type SeriesPoint } from "./trainer-metrics.ts";

interface RewardPoint {
  step: number;
  mean: number;
  /** The band drawn around the mean: min–max across rollouts, or mean ± std without rollouts. */
  low: number;
  high: number;
  std: number;
  rollouts: number;
}

export { trainerMetricsOf, type SeriesPoint } from "./trainer-metrics.ts";

export interface TrainingReport {
  steps: number;
  completedSteps: number;
  /** "min–max across rollouts" or "± std (training_steps)". */
  rewardBand: string;
  rewardCurve: RewardPoint[];
  validations: ValidationRecord[];
  best: ValidationRecord | null;
  /** The trainer's loss / KL / grad norm / learning rate per step by name; empty when there are none. */
  trainerMetrics: Record<string, SeriesPoint[]>;
  /** Where they come from; null without any. */
  trainerMetricsSource: string | null;
  /** Why there are none and how to get them; null with some. */
  trainerMetricsReason: string | null;
  /** Rewards, the groups' learning signal, format failures and JSON fallback, per step and in total. */
  health: TrainingHealth;
  /** Warnings about the health (most groups without signal, most rollouts broken). */
  warnings: string[];
  /** Rollout time and the waits on either side, per step and in total; null for runs recorded before. */
  times: TrainingTimes | null;
}

export function loadTrainingReport(store: Store, run: RunRecord, config: Record<string, unknown>): TrainingReport {
  const runId = run.id;
  const steps = trainingStepsOf(store, runId);
  const rollouts = rolloutRewardsByStep(store, runId);
  const validations = validationsOf(store, runId);
  const health = trainingHealthOf(store, runId);
  const trainer = trainerMetricsOfRun(store, run, config, steps);
  let rewardCurve: RewardPoint[];
  let rewardBand: string;
  if (rollouts.length > 0) {
    rewardBand = "min–max across rollouts";
    rewardCurve = rollouts.map((row) => ({ step: row.step, mean: row.mean, low: row.min, high: row.max, std: row.std, rollouts: row.rollouts }));
  } else {
    rewardBand = "± std (training_steps)";
    rewardCurve = steps
      .filter((row) => row.meanReward !== null)
      .map((row) => {
        const mean = row.meanReward ?? 0;
        const std = row.rewardStd ?? 0;
        return { step: row.step, mean, low: mean - std, high: mean + std, std, rollouts: 0 };
      });
  }
  const best =
    validations.find((row) => row.isBest) ?? [...validations].sort((a, b) => (b.reward ?? -Infinity) - (a.reward ?? -Infinity) || a.step - b.step)[0] ?? null;
  return {
    steps: steps.length,
    completedSteps: steps.filter((row) => row.status === "completed").length,
    rewardBand,
    rewardCurve,
    validations,
    best,
    trainerMetrics: trainer.series,
    trainerMetricsSource: trainer.source,
    trainerMetricsReason: trainer.reason,
    health,
    warnings: healthWarnings(health),
    times: trainingTimesOf(steps),
  };
}
