import { describe, expect, test } from "bun:test";
import { mean, pairedBootstrap, quantile } from "../../src/report/bootstrap.ts";
import { mulberry32 } from "../../src/data/random.ts";

describe("paired bootstrap (percentile method)", () => {
  test("identical runs: the difference is 0 with a zero-width interval", () => {
    const interval = pairedBootstrap(new Array<number>(50).fill(0), { resamples: 2000, seed: 89 });
    expect(interval).toEqual({ mean: 0, low: 0, high: 0 });
  });

  test("every answer right vs every answer wrong: the difference is exactly 1, interval [1, 1]", () => {
    const right = new Array<number>(37).fill(1);
    const wrong = new Array<number>(37).fill(0);
    const interval = pairedBootstrap(
      right.map((value, index) => value - (wrong[index] ?? 0)),
      { resamples: 1000, seed: 7 },
    );
    expect(interval).toEqual({ mean: 1, low: 1, high: 1 });
  });

  test("the same seed gives the same interval; the interval contains the observed mean", () => {
    const random = mulberry32(1);
    const differences = Array.from({ length: 200 }, () => (random() < 0.6 ? 1 : 0) - (random() < 0.4 ? 1 : 0));
    const first = pairedBootstrap(differences, { resamples: 2000, seed: 11 });
    expect(pairedBootstrap(differences, { resamples: 2000, seed: 11 })).toEqual(first);
    expect(first.mean).toBeCloseTo(mean(differences), 12);
    expect(first.low).toBeLessThan(first.mean);
    expect(first.high).toBeGreaterThan(first.mean);
    // The normal approximation's 95% half-width, as a sanity bound for the percentile interval.
    const sd = Math.sqrt(mean(differences.map((value) => (value - first.mean) ** 2)) / differences.length);
    expect(first.high - first.low).toBeGreaterThan(2 * 1.96 * sd * 0.8);
    expect(first.high - first.low).toBeLessThan(2 * 1.96 * sd * 1.2);
  });

  test("quantiles interpolate linearly between order statistics", () => {
    expect(quantile([0, 10], 0.25)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4, 5], 0)).toBe(1);
    expect(quantile([1, 2, 3, 4, 5], 1)).toBe(5);
  });
});
