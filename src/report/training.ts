/**
 * The training side of a report: the reward curve per step (mean and spread across rollouts),
 * validation scores over steps, and the KL / loss values Arbor reported (metrics_json), if any.
 */
import { healthWarnings, type TrainingHealth } from "../metrics/training-health.ts";
import type { Store } from "../store/database.ts";
import { trainingHealthOf } from "../store/health.ts";
import { rolloutRewardsByStep, trainingStepsOf, validationsOf, type ValidationRow } from "../store/reports.ts";

export interface RewardPoint {
  step: number;
  mean: number;
  /** The band drawn around the mean: min–max across rollouts, or mean ± std without rollouts. */
  low: number;
  high: number;
  std: number;
  rollouts: number;
}

export interface SeriesPoint {
  step: number;
  value: number;
}

export interface TrainingReport {
  steps: number;
  completedSteps: number;
  /** "min–max across rollouts" or "± std (training_steps)". */
  rewardBand: string;
  rewardCurve: RewardPoint[];
  validations: ValidationRow[];
  best: ValidationRow | null;
  /** KL / loss series by metric name (from metrics_json); empty when Arbor reported none. */
  trainerMetrics: Record<string, SeriesPoint[]>;
  /** Rewards, the groups' learning signal, format failures and JSON fallback, per step and in total. */
  health: TrainingHealth;
  /** Warnings about the health (most groups without signal, most rollouts broken). */
  warnings: string[];
}

/** Numeric leaves of a metrics object, nested keys joined with "." (one level of arrays ignored). */
function numericLeaves(value: unknown, prefix = "", out: Map<string, number> = new Map()): Map<string, number> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return out;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (typeof item === "number" && Number.isFinite(item)) out.set(name, item);
    else if (item !== null && typeof item === "object") numericLeaves(item, name, out);
  }
  return out;
}

/** "kl", "train/kl", "kl_divergence", "loss", "policy_loss" — not "klBeta". */
const TRAINER_METRIC = /(^|[^a-z])kl($|[^a-z])|loss/i;

/** KL and loss as above, plus the gradient norm and the learning rate (musique view's training page). */
export const TRAINER_HEALTH_METRIC = /(^|[^a-z])kl($|[^a-z])|loss|grad_?norm|learning_?rate|(^|[^a-z])lr($|[^a-z])/i;

export function trainerMetricsOf(
  steps: readonly { step: number; metricsJson: string | null }[],
  pattern: RegExp = TRAINER_METRIC,
): Record<string, SeriesPoint[]> {
  const series: Record<string, SeriesPoint[]> = {};
  for (const step of steps) {
    if (step.metricsJson === null) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(step.metricsJson);
    } catch {
      continue;
    }
    for (const [name, value] of numericLeaves(parsed)) {
      if (!pattern.test(name)) continue;
      (series[name] ??= []).push({ step: step.step, value });
    }
  }
  return series;
}

export function loadTrainingReport(store: Store, runId: number): TrainingReport {
  const steps = trainingStepsOf(store, runId);
  const rollouts = rolloutRewardsByStep(store, runId);
  const validations = validationsOf(store, runId);
  const health = trainingHealthOf(store, runId);
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
    validations.find((row) => row.isBest) ??
    [...validations].sort((a, b) => (b.reward ?? -Infinity) - (a.reward ?? -Infinity) || a.step - b.step)[0] ??
    null;
  return {
    steps: steps.length,
    completedSteps: steps.filter((row) => row.status === "completed").length,
    rewardBand,
    rewardCurve,
    validations,
    best,
    trainerMetrics: trainerMetricsOf(steps),
    health,
    warnings: healthWarnings(health),
  };
}
