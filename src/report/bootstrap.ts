/**
 * Paired bootstrap confidence intervals (percentile method) for the difference of two runs'
 * means over the same examples. Seeded: the same seed gives the same resamples — and the same
 * resampled example indices for every metric and run pair, so intervals are paired throughout.
 */
import { mulberry32 } from "../data/random.ts";

export interface Interval {
  /** The observed mean difference. */
  mean: number;
  low: number;
  high: number;
}

export interface BootstrapOptions {
  resamples: number;
  seed: number;
  /** Two-sided coverage (default 0.95 → 2.5th and 97.5th percentiles). */
  confidence?: number;
}

/** The p-quantile (0–1) of ascending `sorted`, interpolating linearly between order statistics. */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, p));
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const lower = sorted[below] ?? Number.NaN;
  const upper = sorted[above] ?? Number.NaN;
  return below === above ? lower : lower + (upper - lower) * (position - below);
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (let index = 0; index < values.length; index++) sum += values[index] ?? 0;
  return sum / values.length;
}

/**
 * CI for mean(differences), differences[i] = metric(run B, example i) − metric(run A, example i):
 * resample the examples with replacement `resamples` times and take the percentiles of the
 * resampled means.
 */
export function pairedBootstrap(differences: readonly number[], options: BootstrapOptions): Interval {
  const n = differences.length;
  const observed = mean(differences);
  if (n === 0) return { mean: Number.NaN, low: Number.NaN, high: Number.NaN };
  const random = mulberry32(options.seed);
  const means = new Float64Array(options.resamples);
  for (let resample = 0; resample < options.resamples; resample++) {
    let sum = 0;
    for (let draw = 0; draw < n; draw++) sum += differences[Math.floor(random() * n)] ?? 0;
    means[resample] = sum / n;
  }
  means.sort();
  const alpha = 1 - (options.confidence ?? 0.95);
  return { mean: observed, low: quantile(means, alpha / 2), high: quantile(means, 1 - alpha / 2) };
}
