/**
 * The health of a GRPO run at a glance (issue 17 item 2): per step and in total, the rewards
 * GRPO saw, the learning signal of the groups (group-signal.ts), format failures and DSPy's
 * JSONAdapter fallback. The numbers come from the store (src/store/health.ts) or, for the step
 * line, from the step in memory; this file only adds them up and words them, for the end of
 * `musique train` and for `musique report`.
 */
import { combineSignals, noSignalWarning, shareText, type GroupSignal } from "./group-signal.ts";

export interface HealthNumbers {
  /** Rollouts that are results (a rollout that failed on a service is not one). */
  rollouts: number;
  /** The GRPO reward: the metric, or −1 for a rollout that broke the format. */
  meanReward: number | null;
  minReward: number | null;
  maxReward: number | null;
  signal: GroupSignal;
  formatFailureRollouts: number;
  serviceFailureRollouts: number;
  /** Module calls of the rollouts. */
  calls: number;
  /** Calls that went on to DSPy's JSONAdapter fallback, and those it rescued; null when the database does not record it. */
  fallbackCalls: number | null;
  rescuedCalls: number | null;
}

export interface StepHealthNumbers extends HealthNumbers {
  step: number;
}

export interface TrainingHealth {
  steps: StepHealthNumbers[];
  total: HealthNumbers & { steps: number };
}

function sumOf(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0);
}

/** Per-step numbers added up (means weighted by rollouts). */
export function totalHealth(steps: readonly StepHealthNumbers[]): TrainingHealth["total"] {
  const rollouts = sumOf(steps.map((step) => step.rollouts));
  const weighted = steps.filter((step) => step.meanReward !== null);
  const nullable = (values: ReadonlyArray<number | null>) => (values.some((value) => value === null) ? null : sumOf(values.map((value) => value ?? 0)));
  const mins = steps.flatMap((step) => (step.minReward === null ? [] : [step.minReward]));
  const maxes = steps.flatMap((step) => (step.maxReward === null ? [] : [step.maxReward]));
  return {
    steps: steps.length,
    rollouts,
    meanReward: rollouts > 0 ? sumOf(weighted.map((step) => (step.meanReward ?? 0) * step.rollouts)) / rollouts : null,
    minReward: mins.length > 0 ? Math.min(...mins) : null,
    maxReward: maxes.length > 0 ? Math.max(...maxes) : null,
    signal: combineSignals(steps.map((step) => step.signal)),
    formatFailureRollouts: sumOf(steps.map((step) => step.formatFailureRollouts)),
    serviceFailureRollouts: sumOf(steps.map((step) => step.serviceFailureRollouts)),
    calls: sumOf(steps.map((step) => step.calls)),
    fallbackCalls: nullable(steps.map((step) => step.fallbackCalls)),
    rescuedCalls: nullable(steps.map((step) => step.rescuedCalls)),
  };
}

function number(value: number | null, digits = 4): string {
  return value === null ? "-" : value.toFixed(digits);
}

/** The step line's numbers after "step N/T": reward, within-group spread, zero-spread groups, failures, fallback. */
export function stepHealthText(step: HealthNumbers): string {
  const parts = [
    `reward ${number(step.meanReward)}`,
    `within-group spread ${number(step.signal.meanGroupSpread)}`,
    `zero-spread groups ${shareText(step.signal.zeroSpreadGroups, step.signal.groups)}`,
    `format failures ${step.formatFailureRollouts}/${step.rollouts}`,
  ];
  if (step.fallbackCalls !== null) parts.push(`JSON fallback ${step.fallbackCalls}/${step.calls} calls`);
  if (step.serviceFailureRollouts > 0) parts.push(`${step.serviceFailureRollouts} rollouts failed on a service`);
  return parts.join(" | ");
}

/** The health summary: what the rollouts scored and how much GRPO can learn from them. */
export function healthLines(health: TrainingHealth): string[] {
  const { total } = health;
  const lines = [
    `${total.steps} step${total.steps === 1 ? "" : "s"}, ${total.rollouts} rollouts, ${total.signal.groups} groups`,
    `  rewards: mean ${number(total.meanReward)}, min ${number(total.minReward)}, max ${number(total.maxReward)} (a format failure scores −1)`,
    `  within-group spread: mean ${number(total.signal.meanGroupSpread)}; groups with zero spread (no signal): ${shareText(total.signal.zeroSpreadGroups, total.signal.groups)}`,
    `  format failures: ${shareText(total.formatFailureRollouts, total.rollouts + total.serviceFailureRollouts)} rollouts`,
    total.fallbackCalls === null
      ? "  JSON fallback: not recorded in this database"
      : `  JSON fallback: ${shareText(total.fallbackCalls, total.calls)} calls fell back to DSPy's JSONAdapter, ${total.rescuedCalls ?? 0} rescued`,
  ];
  if (total.serviceFailureRollouts > 0) lines.push(`  ${total.serviceFailureRollouts} rollouts failed on a service (not results, left out above)`);
  return lines;
}

/** Warnings about the run's health (empty when it looks trainable). */
export function healthWarnings(health: TrainingHealth): string[] {
  const warning = noSignalWarning(health.total.signal);
  const warnings = warning ? [warning] : [];
  const { formatFailureRollouts, rollouts } = health.total;
  if (rollouts > 0 && formatFailureRollouts * 2 > rollouts) {
    warnings.push(
      `${formatFailureRollouts} of ${rollouts} rollouts broke the ChatAdapter format even after the JSON fallback (reward −1): check the prompts and --max-tokens`,
    );
  }
  return warnings;
}
