/**
 * The trainer's loss, KL, grad norm and learning rate per training step, for `report`, `report
 * --html` and musique view's training page (issue 17 item 3): from the trainer's own log that
 * musique read from the job's checkpoint folders (`trainer_logs`: the mean over the optimizer
 * steps of each musique step), plus any such numbers Arbor put in its step replies
 * (`training_steps.metrics_json`). When there are none, `reason` says exactly why and how to get
 * them: a dry run, a log on a machine musique could not read (the problem recorded when it
 * tried), no checkpoint saved yet, or a run recorded before musique read the log.
 */
import type { Store } from "../store/database.ts";
import { arborJobsOf } from "../store/jobs.ts";
import type { TrainingStepSummary } from "../store/reports.ts";
import { trainerLogReadsOf, trainerMetricsByStep, type TrainerStepMetrics } from "../store/trainer-logs.ts";
import type { RunRecord } from "../store/runs.ts";

export interface SeriesPoint {
  step: number;
  value: number;
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

export interface TrainerMetrics {
  /** By name: loss, kl, grad_norm, learning_rate (and what Arbor's replies carried); empty when none. */
  series: Record<string, SeriesPoint[]>;
  /** Where they come from, when there are some. */
  source: string | null;
  /** Why there are none, and how to get them; null when there are some. */
  reason: string | null;
}

const COLUMNS: ReadonlyArray<[string, keyof TrainerStepMetrics]> = [
  ["loss", "loss"],
  ["kl", "kl"],
  ["grad_norm", "gradNorm"],
  ["learning_rate", "learningRate"],
];

function reportedTo(config: Record<string, unknown>): string {
  if (config.reportTo === "wandb") return " This run passed --report-to wandb: the trainer sent them to W&B (its run is named after the Arbor job id).";
  if (config.reportTo === "tensorboard")
    return " This run passed --report-to tensorboard: the trainer wrote them under the job's checkpoints folder (runs/) on the Arbor machine.";
  return "";
}

function whyNone(store: Store, run: RunRecord, config: Record<string, unknown>): string {
  if (config.dryRun === true) return "a dry run trains nothing: there is no loss, KL, grad norm or learning rate";
  const reads = trainerLogReadsOf(store, run.id);
  const problems = [...new Set(reads.flatMap((read) => (read.problem ? [read.problem] : [])))];
  if (problems.length > 0) return problems.join("; ") + reportedTo(config);
  if (arborJobsOf(store, run.id).length === 0) return "no Arbor job was started, so nothing was trained" + reportedTo(config);
  const last = reads.at(-1);
  if (last || run.status === "running") {
    return (
      `${last?.path ? `the trainer's log read last (${last.path}) holds no trained step: ` : ""}HF's trainer writes its log (trainer_state.json) only with a checkpoint, ` +
      "and musique reads it after each validation that saves one and at the end" +
      reportedTo(config)
    );
  }
  return "this run was recorded by a musique that did not read the trainer's log (trainer_state.json in the job's checkpoint folders)" + reportedTo(config);
}

export function trainerMetricsOfRun(
  store: Store,
  run: RunRecord,
  config: Record<string, unknown>,
  steps: readonly TrainingStepSummary[],
  pattern?: RegExp,
): TrainerMetrics {
  const series: Record<string, SeriesPoint[]> = {};
  const logged = trainerMetricsByStep(store, run.id);
  for (const [name, key] of COLUMNS) {
    const points = logged.flatMap((row) => {
      const value = row[key];
      return typeof value === "number" && key !== "step" && key !== "entries" ? [{ step: row.step, value }] : [];
    });
    if (points.length > 0) series[name] = points;
  }
  const fromLog = Object.keys(series).length > 0;
  const replied = trainerMetricsOf(steps, pattern);
  for (const [name, points] of Object.entries(replied)) series[name] ??= points;
  if (Object.keys(series).length === 0) return { series, source: null, reason: whyNone(store, run, config) };
  const source = fromLog
    ? "the trainer's log (trainer_state.json of the job's checkpoints), averaged over each step's optimizer steps"
    : "Arbor's step replies";
  return { series, source, reason: null };
}
