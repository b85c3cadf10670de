/**
 * Counts and summaries of a prepared dataset (what `musique data` prints).
 */
import type { Example } from "./types.ts";

export interface Summary {
  min: number;
  mean: number;
  max: number;
  total: number;
}

export interface DatasetStats {
  examples: number;
  /** Examples per source (spec), in spec order; empty when sources were not given. */
  bySource: Array<{ source: string; examples: number }>;
  /** Examples per hop count (number of supporting paragraphs), keys ascending: { "2": 109, … }. */
  byHops: Record<string, number>;
  /** Examples per shape from the id (2hop, 3hop1, …), keys sorted. */
  byShape: Record<string, number>;
  /** Paragraphs per question (after noise filtering). */
  paragraphs: Summary;
  /** Supporting paragraphs per question. */
  supporting: Summary;
  /** Answer aliases per question; `withAliases` counts questions with at least one. */
  answerAliases: Summary & { withAliases: number };
  /** Questions marked answerable. */
  answerable: number;
}

function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { min: 0, mean: 0, max: 0, total: 0 };
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let total = 0;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
    total += value;
  }
  return { min, mean: total / values.length, max, total };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

function sortedRecord(counts: Map<string, number>, compare: (a: string, b: string) => number): Record<string, number> {
  return Object.fromEntries([...counts.entries()].sort(([a], [b]) => compare(a, b)));
}

/**
 * Statistics of `examples`. Pass `sources` (names) and `sourceOfExample` (an index into
 * `sources` per example, as returned by loadExamples) to count examples per source.
 */
export function datasetStats(examples: readonly Example[], bySource?: { sources: readonly string[]; sourceOfExample: readonly number[] }): DatasetStats {
  const perSource = bySource
    ? bySource.sources.map((source, index) => ({
        source,
        examples: bySource.sourceOfExample.filter((of) => of === index).length,
      }))
    : [];
  const aliasCounts = examples.map((example) => example.answerAliases.length);
  return {
    examples: examples.length,
    bySource: perSource,
    byHops: sortedRecord(
      countBy(examples, (example) => String(example.nHops)),
      (a, b) => Number(a) - Number(b),
    ),
    byShape: sortedRecord(
      countBy(examples, (example) => example.shape),
      (a, b) => a.localeCompare(b, "en", { numeric: true }),
    ),
    paragraphs: summarize(examples.map((example) => example.paragraphs.length)),
    supporting: summarize(examples.map((example) => example.supportingIds.length)),
    answerAliases: { ...summarize(aliasCounts), withAliases: aliasCounts.filter((count) => count > 0).length },
    answerable: examples.filter((example) => example.answerable).length,
  };
}
