/**
 * `musique compare`: pair examples by id across runs (the intersection), report each run's mean
 * per metric and the difference to the first run with a paired-bootstrap 95 % CI, overall and
 * per hop count, and warn when the runs are not comparable (dataset, retriever, sample, config).
 */
import { DataError, UsageError } from "../errors.ts";
import { operationalKeys } from "../run/config.ts";
import type { Store } from "../store/database.ts";
import { latestPredictionStep } from "../store/reports.ts";
import { canonicalJson, type RunRecord } from "../store/runs.ts";
import { mean, pairedBootstrap, type Interval } from "./bootstrap.ts";
import { parseConfig, requireRun, scoredExamplesOf, type ScoredExample } from "./data.ts";

export const COMPARE_METRICS = [
  { key: "em", label: "EM" },
  { key: "f1", label: "F1" },
  { key: "recall", label: "recall" },
  { key: "supportF1", label: "support F1" },
  { key: "reward", label: "reward" },
] as const;

export type CompareMetric = (typeof COMPARE_METRICS)[number]["key"];

/** Config keys that say where and how to run, not what was computed: never a comparability warning. */
export const IGNORED_CONFIG_KEYS: ReadonlySet<string> = new Set<string>([
  ...operationalKeys,
  "runName",
  "outputDir",
  // replaying cached responses changes how a run gets its completions, not what it computes
  "cache",
]);

export interface RunColumn {
  run: string;
  mean: number;
  /** vs the first run; null for the first run itself. */
  difference: Interval | null;
}

export interface MetricComparison {
  metric: CompareMetric;
  label: string;
  runs: RunColumn[];
}

export interface ComparisonBlock {
  n: number;
  metrics: MetricComparison[];
}

export interface CompareWarning {
  kind: "dataset" | "retriever" | "sample" | "config" | "kind";
  message: string;
  /** For "config": the differing keys with each run's value. */
  keys?: Array<{ key: string; values: Record<string, unknown> }>;
}

export interface Comparison {
  runs: Array<{ name: string; kind: string; status: string; step: number | null; dataset: string | null; retriever: string | null; model: string | null; examples: number; predicted: number }>;
  paired: number;
  /** Per run: predicted examples left out because another run has no prediction for them. */
  dropped: Array<{ run: string; count: number }>;
  bootstrap: { method: "paired percentile bootstrap"; confidence: number; resamples: number; seed: number };
  overall: ComparisonBlock;
  byHops: Record<string, ComparisonBlock>;
  warnings: CompareWarning[];
}

interface LoadedRun {
  record: RunRecord;
  step: number | null;
  plannedIds: string[];
  byId: Map<string, ScoredExample>;
}

function metricValue(example: ScoredExample, metric: CompareMetric): number {
  return example.prediction[metric] ?? 0;
}

function block(loaded: readonly LoadedRun[], ids: readonly string[], options: { resamples: number; seed: number }): ComparisonBlock {
  const [first] = loaded;
  const metrics = COMPARE_METRICS.map(({ key, label }) => {
    const valuesOf = (run: LoadedRun) => ids.map((id) => {
      const example = run.byId.get(id);
      return example ? metricValue(example, key) : 0;
    });
    const baseline = first ? valuesOf(first) : [];
    return {
      metric: key,
      label,
      runs: loaded.map((run, index): RunColumn => {
        const values = valuesOf(run);
        const difference = index === 0 ? null : pairedBootstrap(values.map((value, position) => value - (baseline[position] ?? 0)), options);
        return { run: run.record.name, mean: mean(values), difference };
      }),
    };
  });
  return { n: ids.length, metrics };
}

function distinct<T>(values: readonly T[]): boolean {
  return new Set(values).size > 1;
}

/** Config keys (minus operational ones) whose values differ between the runs. */
export function configDifferences(configs: ReadonlyArray<{ run: string; config: Record<string, unknown> }>): Array<{ key: string; values: Record<string, unknown> }> {
  const keys = [...new Set(configs.flatMap((entry) => Object.keys(entry.config)))].filter((key) => !IGNORED_CONFIG_KEYS.has(key)).sort();
  const out: Array<{ key: string; values: Record<string, unknown> }> = [];
  for (const key of keys) {
    const texts = configs.map((entry) => canonicalJson(entry.config[key] ?? null));
    if (!distinct(texts)) continue;
    out.push({ key, values: Object.fromEntries(configs.map((entry) => [entry.run, entry.config[key] ?? null])) });
  }
  return out;
}

function warningsOf(loaded: readonly LoadedRun[]): CompareWarning[] {
  const warnings: CompareWarning[] = [];
  const describe = (pick: (run: RunRecord) => string | null) => loaded.map((run) => `${run.record.name}=${pick(run.record) ?? "-"}`).join(", ");
  if (distinct(loaded.map((run) => run.record.kind))) warnings.push({ kind: "kind", message: `runs are of different kinds: ${describe((run) => run.kind)}` });
  if (distinct(loaded.map((run) => run.record.dataset))) warnings.push({ kind: "dataset", message: `runs differ in dataset: ${describe((run) => run.dataset)}` });
  if (distinct(loaded.map((run) => run.record.retriever))) {
    warnings.push({ kind: "retriever", message: `runs differ in retriever: ${describe((run) => run.retriever)}` });
  }
  const samples = loaded.map((run) => [...run.plannedIds].sort().join("\n"));
  if (distinct(samples)) {
    const sizes = loaded.map((run) => `${run.record.name}: ${run.plannedIds.length}`).join(", ");
    warnings.push({ kind: "sample", message: `runs use different example sets (${sizes} examples); only the shared ones are compared` });
  }
  const keys = configDifferences(loaded.map((run) => ({ run: run.record.name, config: parseConfig(run.record.configJson) })));
  if (keys.length > 0) warnings.push({ kind: "config", message: `runs differ in configuration: ${keys.map((entry) => entry.key).join(", ")}`, keys });
  return warnings;
}

export function compareRuns(store: Store, names: readonly string[], options: { resamples: number; seed: number }): Comparison {
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined) throw new UsageError(`run "${duplicate}" is given twice`, { fix: "name each run once" });
  const loaded: LoadedRun[] = names.map((name) => {
    const record = requireRun(store, name);
    const step = latestPredictionStep(store, record.id);
    const { plannedIds, scored } = step === null ? { plannedIds: [], scored: [] } : scoredExamplesOf(store, record, step);
    return { record, step, plannedIds, byId: new Map(scored.map((example) => [example.id, example])) };
  });
  const [first] = loaded;
  const pairedIds = first ? [...first.byId.keys()].filter((id) => loaded.every((run) => run.byId.has(id))) : [];
  if (pairedIds.length === 0) {
    throw new DataError(`runs ${names.join(", ")} have no example with a prediction in common`, {
      cause: loaded.map((run) => `${run.record.name}: ${run.byId.size} predictions`).join(", "),
      fix: "compare runs evaluated on the same dataset and sample (same --datasets, --seed, --limit/--test-size)",
    });
  }
  const byHops = new Map<string, string[]>();
  for (const id of pairedIds) {
    const key = String(first?.byId.get(id)?.nHops ?? "?");
    byHops.set(key, [...(byHops.get(key) ?? []), id]);
  }
  const settings = { resamples: options.resamples, seed: options.seed };
  return {
    runs: loaded.map((run) => ({
      name: run.record.name,
      kind: run.record.kind,
      status: run.record.status,
      step: run.step,
      dataset: run.record.dataset,
      retriever: run.record.retriever,
      model: run.record.model,
      examples: run.plannedIds.length,
      predicted: run.byId.size,
    })),
    paired: pairedIds.length,
    dropped: loaded.map((run) => ({ run: run.record.name, count: run.byId.size - pairedIds.length })),
    bootstrap: { method: "paired percentile bootstrap", confidence: 0.95, resamples: options.resamples, seed: options.seed },
    overall: block(loaded, pairedIds, settings),
    byHops: Object.fromEntries(
      [...byHops.entries()].sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true })).map(([key, ids]) => [key, block(loaded, ids, settings)]),
    ),
    warnings: warningsOf(loaded),
  };
}
