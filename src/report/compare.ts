/**
 * `musique compare`: pair the examples every side evaluated (by id; service failures are not
 * results), report each side's mean per metric and the difference to the first side with a
 * paired-bootstrap 95 % CI, overall and per hop count; list which examples flipped (fixed,
 * broken, both right, both wrong by answer EM) per hop count; warn when the sides did not
 * evaluate the same thing (compare-warnings.ts). A side is a run or a validation of a training
 * run (`RUN@STEP`, `RUN@best`; compare-runs.ts).
 */
import { DataError } from "../errors.ts";
import type { Store } from "../store/database.ts";
import { mean, pairedBootstrap, type Interval } from "./bootstrap.ts";
import { loadRuns, type LoadedRun } from "./compare-runs.ts";
import { comparabilityWarnings, type CompareWarning } from "./compare-warnings.ts";
import { questionsOf, type ScoredExample } from "./data.ts";
import type { TrajectoryHop } from "./trajectory.ts";

export { configDifferences } from "./compare-warnings.ts";

const COMPARE_METRICS = [
  { key: "em", label: "EM" },
  { key: "f1", label: "F1" },
  { key: "recall", label: "recall" },
  { key: "supportF1", label: "support F1" },
  { key: "reward", label: "reward" },
] as const;

type CompareMetric = (typeof COMPARE_METRICS)[number]["key"];

interface RunColumn {
  /** The side's label (run name, or RUN@STEP). */
  run: string;
  mean: number;
  /** vs the first side; null for the first side itself. */
  difference: Interval | null;
}

interface MetricComparison {
  metric: CompareMetric;
  label: string;
  runs: RunColumn[];
}

export interface ComparisonBlock {
  n: number;
  metrics: MetricComparison[];
}

export interface FlipCounts {
  fixed: number;
  broken: number;
  bothRight: number;
  bothWrong: number;
}

/** Example ids by outcome, "right" meaning answer EM = 1: fixed = wrong in the first side, right in this one. */
export interface FlipLists {
  fixed: string[];
  broken: string[];
  bothRight: string[];
  bothWrong: string[];
}

export interface RunFlips {
  run: string;
  against: string;
  overall: FlipCounts;
  byHops: Record<string, FlipLists>;
}

export interface ComparedRun {
  /** Unique label used everywhere else in the comparison: the run name, or RUN@STEP / RUN@best as given. */
  label: string;
  name: string;
  kind: string;
  status: string;
  /** -1: an evaluation; N: the validation after N training steps; null: no predictions. */
  step: number | null;
  /** What was evaluated: a training run's validation set, not its training set. */
  dataset: string | null;
  retriever: string | null;
  model: string | null;
  examples: number;
  predicted: number;
  serviceFailures: number;
}

export interface Comparison {
  runs: ComparedRun[];
  paired: number;
  /** Per side: evaluated examples left out because another side has no result for them. */
  dropped: Array<{ run: string; count: number }>;
  bootstrap: { method: "paired percentile bootstrap"; confidence: number; resamples: number; seed: number };
  overall: ComparisonBlock;
  byHops: Record<string, ComparisonBlock>;
  /** One entry per side after the first, against the first. */
  flips: RunFlips[];
  warnings: CompareWarning[];
}

interface CompareExampleSide {
  answer: string | null;
  em: number | null;
  f1: number | null;
  recall: number | null;
  reward: number | null;
  status: string;
  error: string | null;
  hops: TrajectoryHop[];
}

/** A flipped example with both (all) sides' trajectories, for the side-by-side view. */
export interface CompareExample {
  id: string;
  nHops: number;
  question: string;
  gold: string[];
  sides: Record<string, CompareExampleSide>;
}

export interface DetailedComparison {
  comparison: Comparison;
  /** Every fixed or broken example, by id. */
  examples: Record<string, CompareExample>;
}

export interface CompareOptions {
  resamples: number;
  seed: number;
}

function metricValue(example: ScoredExample | undefined, metric: CompareMetric): number {
  return example?.prediction[metric] ?? 0;
}

function block(loaded: readonly LoadedRun[], ids: readonly string[], options: CompareOptions): ComparisonBlock {
  const [first] = loaded;
  const metrics = COMPARE_METRICS.map(({ key, label }) => {
    const valuesOf = (run: LoadedRun) => ids.map((id) => metricValue(run.byId.get(id), key));
    const baseline = first ? valuesOf(first) : [];
    return {
      metric: key,
      label,
      runs: loaded.map((run, index): RunColumn => {
        const values = valuesOf(run);
        const difference =
          index === 0
            ? null
            : pairedBootstrap(
                values.map((value, position) => value - (baseline[position] ?? 0)),
                options,
              );
        return { run: run.label, mean: mean(values), difference };
      }),
    };
  });
  return { n: ids.length, metrics };
}

function isRight(example: ScoredExample | undefined): boolean {
  return (example?.prediction.em ?? 0) === 1;
}

function flipsOf(first: LoadedRun, other: LoadedRun, byHops: ReadonlyMap<string, string[]>): RunFlips {
  const overall: FlipCounts = { fixed: 0, broken: 0, bothRight: 0, bothWrong: 0 };
  const lists: Record<string, FlipLists> = {};
  for (const [hops, ids] of byHops) {
    const entry: FlipLists = { fixed: [], broken: [], bothRight: [], bothWrong: [] };
    for (const id of ids) {
      const before = isRight(first.byId.get(id));
      const after = isRight(other.byId.get(id));
      const kind: keyof FlipLists = before ? (after ? "bothRight" : "broken") : after ? "fixed" : "bothWrong";
      entry[kind].push(id);
      overall[kind] += 1;
    }
    lists[hops] = entry;
  }
  return { run: other.label, against: first.label, overall, byHops: lists };
}

function describeRun(run: LoadedRun): ComparedRun {
  const text = (value: unknown) => (typeof value === "string" ? value : value === undefined || value === null ? null : String(value));
  return {
    label: run.label,
    name: run.record.name,
    kind: run.record.kind,
    status: run.record.status,
    step: run.step,
    dataset: text(run.evaluated.datasets),
    retriever: text(run.evaluated.retriever),
    model: text(run.evaluated.model),
    examples: run.plannedIds.length,
    predicted: run.byId.size,
    serviceFailures: run.serviceFailures,
  };
}

function sideOf(example: ScoredExample): CompareExampleSide {
  const { prediction } = example;
  return {
    answer: prediction.answer,
    em: prediction.em,
    f1: prediction.f1,
    recall: prediction.recall,
    reward: prediction.reward,
    status: prediction.status,
    error: prediction.error ?? example.trajectory.failure,
    hops: example.trajectory.hops,
  };
}

function flippedExamples(store: Store, loaded: readonly LoadedRun[], flips: readonly RunFlips[]): Record<string, CompareExample> {
  const ids = [...new Set(flips.flatMap((entry) => Object.values(entry.byHops).flatMap((lists) => [...lists.fixed, ...lists.broken])))];
  const [first] = loaded;
  if (!first || first.step === null || ids.length === 0) return {};
  const questions = questionsOf(store, first.record.id, first.step, ids);
  const examples: Record<string, CompareExample> = {};
  for (const id of ids) {
    const base = first.byId.get(id);
    if (!base) continue;
    const sides: Record<string, CompareExampleSide> = {};
    for (const run of loaded) {
      const example = run.byId.get(id);
      if (example) sides[run.label] = sideOf(example);
    }
    examples[id] = { id, nHops: base.nHops, question: questions.get(id) ?? "", gold: base.prediction.goldAnswers, sides };
  }
  return examples;
}

function build(store: Store, specs: readonly string[], options: CompareOptions): { comparison: Comparison; loaded: LoadedRun[] } {
  const loaded = loadRuns(store, specs);
  const [first] = loaded;
  const pairedIds = first ? [...first.byId.keys()].filter((id) => loaded.every((run) => run.byId.has(id))) : [];
  if (!first || pairedIds.length === 0) {
    throw new DataError(`${specs.join(", ")} have no evaluated example in common`, {
      cause: loaded.map((run) => `${run.label}: ${run.byId.size} predictions`).join(", "),
      fix: "compare runs evaluated on the same dataset and sample (same --datasets, --seed, --limit/--test-size)",
    });
  }
  const grouped = new Map<string, string[]>();
  for (const id of pairedIds) {
    const key = String(first.byId.get(id)?.nHops ?? "?");
    grouped.set(key, [...(grouped.get(key) ?? []), id]);
  }
  const byHops = new Map([...grouped.entries()].sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true })));
  const settings = { resamples: options.resamples, seed: options.seed };
  const flips = loaded.slice(1).map((run) => flipsOf(first, run, byHops));
  const comparison: Comparison = {
    runs: loaded.map(describeRun),
    paired: pairedIds.length,
    dropped: loaded.map((run) => ({ run: run.label, count: run.byId.size - pairedIds.length })),
    bootstrap: { method: "paired percentile bootstrap", confidence: 0.95, resamples: options.resamples, seed: options.seed },
    overall: block(loaded, pairedIds, settings),
    byHops: Object.fromEntries([...byHops.entries()].map(([key, ids]) => [key, block(loaded, ids, settings)])),
    flips,
    warnings: comparabilityWarnings(loaded, pairedIds.length),
  };
  return { comparison, loaded };
}

/** The comparison and the flipped examples' trajectories (for compare --html and musique view). */
export function compareRunsDetailed(store: Store, specs: readonly string[], options: CompareOptions): DetailedComparison {
  const { comparison, loaded } = build(store, specs, options);
  return { comparison, examples: flippedExamples(store, loaded, comparison.flips) };
}
