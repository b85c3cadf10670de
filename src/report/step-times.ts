/**
 * Where a training run's time went (issue 19 item 3): per step, the rollouts, musique waiting for
 * Arbor's trainer to ask for the step's groups, and the trainer waiting for them — the columns
 * rollout_seconds, waiting_for_arbor_seconds and arbor_waiting_seconds of training_steps, written
 * by src/grpo/loop.ts from the feeder's /status polls (src/grpo/batches.ts) — and in total, with
 * the share of the training time the trainer spent waiting for musique.
 */
import type { TrainingStepSummary } from "../store/reports.ts";

interface StepTimes {
  step: number;
  rolloutSeconds: number;
  /** null in a dry run (no Arbor). */
  waitingForArborSeconds: number | null;
  arborWaitingSeconds: number | null;
}

export interface TrainingTimes {
  steps: StepTimes[];
  rolloutSeconds: number;
  waitingForArborSeconds: number | null;
  arborWaitingSeconds: number | null;
  /**
   * The trainer's waiting after the first step (whose rollouts nothing can overlap: the trainer
   * has no group yet) over the time from the end of the first step to the end of the last; null
   * with fewer than two timed steps or without Arbor.
   */
  arborWaitingShare: number | null;
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

/** The times of a run's completed steps; null when none were recorded (runs from before). */
export function trainingTimesOf(rows: readonly TrainingStepSummary[]): TrainingTimes | null {
  const timed = rows.filter((row) => row.status === "completed" && row.rolloutSeconds !== null);
  if (timed.length === 0) return null;
  const steps = timed.map((row) => ({
    step: row.step,
    rolloutSeconds: row.rolloutSeconds ?? 0,
    waitingForArborSeconds: row.waitingForArborSeconds,
    arborWaitingSeconds: row.arborWaitingSeconds,
  }));
  const withArbor = steps.filter((entry) => entry.arborWaitingSeconds !== null);
  const first = timed[0];
  const last = timed.at(-1);
  let arborWaitingShare: number | null = null;
  if (withArbor.length >= 2 && first?.finishedAt && last?.finishedAt) {
    const span = (Date.parse(last.finishedAt) - Date.parse(first.finishedAt)) / 1000;
    const waited = sum(withArbor.filter((entry) => entry.step !== first.step).map((entry) => entry.arborWaitingSeconds ?? 0));
    if (span > 0) arborWaitingShare = Math.min(1, waited / span);
  }
  return {
    steps,
    rolloutSeconds: sum(steps.map((entry) => entry.rolloutSeconds)),
    waitingForArborSeconds: withArbor.length > 0 ? sum(withArbor.map((entry) => entry.waitingForArborSeconds ?? 0)) : null,
    arborWaitingSeconds: withArbor.length > 0 ? sum(withArbor.map((entry) => entry.arborWaitingSeconds ?? 0)) : null,
    arborWaitingShare,
  };
}

/** The report's line, e.g. "time: rollouts 41.0 s (8.2 s/step), musique waited for Arbor 12.1 s, Arbor waited for musique 0.4 s (1.2 % of the time after step 1)". */
export function trainingTimesLine(times: TrainingTimes): string {
  const perStep = times.rolloutSeconds / Math.max(1, times.steps.length);
  const parts = [`rollouts ${times.rolloutSeconds.toFixed(1)} s (${perStep.toFixed(1)} s/step)`];
  if (times.waitingForArborSeconds !== null) parts.push(`musique waited for Arbor ${times.waitingForArborSeconds.toFixed(1)} s`);
  if (times.arborWaitingSeconds !== null) {
    const first = times.steps[0]?.step ?? 1;
    const share = times.arborWaitingShare === null ? "" : ` (${(100 * times.arborWaitingShare).toFixed(1)} % of the time after step ${first})`;
    parts.push(`Arbor waited for musique ${times.arborWaitingSeconds.toFixed(1)} s${share}`);
  }
  return `  time over ${times.steps.length} step${times.steps.length === 1 ? "" : "s"}: ${parts.join(", ")}`;
}
