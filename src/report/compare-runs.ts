/**
 * What `musique compare` compares: run specs (`RUN`, `RUN@STEP`, `RUN@best`) resolved to the
 * predictions of one step of one run, and the settings that decided what was evaluated (the
 * evaluated dataset, model, retriever, hops, temperature, …) as opposed to how a run was trained.
 *
 * Steps follow the one numbering convention: `RUN@N` is the validation after N training steps
 * (0 = before training), the `step` of predictions and validations in the database.
 */
import { DEFAULTS } from "../config/defaults.ts";
import { EvaluateSchema, TrainSchema } from "../config/schemas.ts";
import { UsageError } from "../errors.ts";
import { operationalKeys } from "../config/operational.ts";
import type { Store } from "../store/database.ts";
import { latestPredictionStep, predictionStepsOf } from "../store/reports.ts";
import type { RunRecord } from "../store/runs.ts";
import { bestValidation } from "../store/training.ts";
import { isResultStatus } from "../metrics/run-scores.ts";
import { parseConfig, scoredExamplesOf, type ScoredExample } from "./data.ts";
import { requireRun } from "../store/manage.ts";

export interface RunSpec {
  /** As typed: "a", "t@0", "t@best". */
  text: string;
  name: string;
  /** null: the run's latest predictions (the evaluation, or a training run's last validation). */
  step: number | "best" | null;
}

export interface LoadedRun {
  /** Unique label of this side: the run name, or RUN@STEP / RUN@best as given. */
  label: string;
  record: RunRecord;
  /** The predictions' step (-1: evaluation; N: validation after N training steps); null: none yet. */
  step: number | null;
  /** The examples the run planned to evaluate at that step. */
  plannedIds: string[];
  /** Examples with a scored prediction (service failures are not results and are left out). */
  byId: Map<string, ScoredExample>;
  /** Predictions left out because a service (LM, retrieval) failed: not results. */
  serviceFailures: number;
  /** The settings that decide what was evaluated (see evaluatedSettings). */
  evaluated: Record<string, unknown>;
}

const SPEC = /^(.+?)@(best|\d+)$/;

export function parseRunSpec(text: string): RunSpec {
  const match = SPEC.exec(text);
  if (!match) {
    if (text.includes("@")) {
      throw new UsageError(`"${text}" is not a run spec`, { fix: "write RUN, RUN@STEP (steps completed, 0 = before training) or RUN@best" });
    }
    return { text, name: text, step: null };
  }
  const [, name = "", step = ""] = match;
  return { text, name, step: step === "best" ? "best" : Number(step) };
}

/** Keys only training uses: flags of `train` that `evaluate` does not have, plus train-only sizes. */
const TRAINING_ONLY_KEYS: ReadonlySet<string> = new Set(
  Object.keys(TrainSchema.entries).filter((key) => !(key in EvaluateSchema.entries) && key !== "evalDatasets"),
);

/** Keys that say where, how fast or under which name a run ran, or which sample: never a warning. */
const NOT_RESULT_KEYS: ReadonlySet<string> = new Set<string>([
  ...operationalKeys,
  "runName",
  "outputDir",
  // replaying cached responses changes how a run gets its completions, not what it computes
  "cache",
  // which examples: compared example by example, and reported as a "sample" warning instead
  "limit",
  "testSize",
  "devSize",
  "seed",
  "skipInvalid",
]);

/**
 * The settings that decide the numbers of an evaluation, under one set of names for both kinds:
 * a training run's validations evaluated `evalDatasets` (its `datasets` are what it trained on).
 */
export function evaluatedSettings(record: RunRecord): Record<string, unknown> {
  const config = parseConfig(record.configJson);
  const evaluated: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (NOT_RESULT_KEYS.has(key) || TRAINING_ONLY_KEYS.has(key) || key === "datasets" || key === "evalDatasets") continue;
    evaluated[key] = value;
  }
  evaluated.datasets = record.kind === "train" ? (config.evalDatasets ?? DEFAULTS.evalDatasets) : (config.datasets ?? record.dataset ?? null);
  evaluated.model = config.model ?? record.model ?? null;
  evaluated.retriever = config.retriever ?? record.retriever ?? null;
  return evaluated;
}

function stepsText(steps: readonly number[]): string {
  return steps.length > 0 ? steps.join(", ") : "none";
}

function resolveStep(store: Store, record: RunRecord, spec: RunSpec): number | null {
  if (spec.step === null) return latestPredictionStep(store, record.id);
  if (record.kind !== "train") {
    throw new UsageError(`run "${record.name}" is a ${record.kind} run: "${spec.text}" names a validation step, which only training runs have`, {
      fix: `compare it as ${record.name}`,
    });
  }
  const available = predictionStepsOf(store, record.id).filter((step) => step >= 0);
  if (spec.step === "best") {
    const best = bestValidation(store, record.id);
    if (!best || !available.includes(best.step)) {
      throw new UsageError(`run "${record.name}" has no best validation with predictions`, {
        cause: `validations with predictions after steps: ${stepsText(available)}`,
        fix: `name a step: ${record.name}@STEP`,
      });
    }
    return best.step;
  }
  if (!available.includes(spec.step)) {
    throw new UsageError(`run "${record.name}" has no validation after ${spec.step} steps`, {
      cause: `validations with predictions after steps: ${stepsText(available)}`,
      fix: `use one of them (${record.name}@0 is the validation before training, ${record.name}@best the best one)`,
    });
  }
  return spec.step;
}

function loadRun(store: Store, spec: RunSpec): LoadedRun {
  const record = requireRun(store, spec.name);
  const step = resolveStep(store, record, spec);
  const { plannedIds, scored } = step === null ? { plannedIds: [], scored: [] } : scoredExamplesOf(store, record, step);
  const results = scored.filter((example) => isResultStatus(example.prediction.status));
  return {
    label: spec.step === null ? record.name : `${record.name}@${spec.step}`,
    record,
    step,
    plannedIds,
    byId: new Map(results.map((example) => [example.id, example])),
    serviceFailures: scored.length - results.length,
    evaluated: evaluatedSettings(record),
  };
}

/** Load every spec; a side given twice is a usage error (t@best and t@2 may name the same validation). */
export function loadRuns(store: Store, texts: readonly string[]): LoadedRun[] {
  const loaded: LoadedRun[] = [];
  for (const text of texts) {
    const run = loadRun(store, parseRunSpec(text));
    if (loaded.some((other) => other.label === run.label)) {
      throw new UsageError(`"${run.label}" is given twice`, { fix: "name each run (or validation step) once" });
    }
    loaded.push(run);
  }
  return loaded;
}
