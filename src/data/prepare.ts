/**
 * Seeded preparation as in the reference setup (datasets.md "Preparation"):
 * concatenated examples → shuffle with the seed → first N (size) → noise filter → curriculum.
 * Everything is a pure function of (examples, options): same seed, same result, on every machine.
 */
import { randomFor, shuffle } from "./random.ts";
import type { Example } from "./types.ts";

export interface PrepareOptions {
  seed: number;
  /** Keep each distractor with this probability (1 = keep all, 0 = supporting paragraphs only). */
  noiseRate: number;
  /** Keep the first N examples after shuffling. */
  size?: number | undefined;
  /** Stable sort by hop count, 2-hop first (after noise). */
  curriculum?: boolean | undefined;
}

/**
 * Keep every supporting paragraph and each distractor independently with probability `rate`.
 * The coin flips come from (seed, example id), so they do not depend on order or concurrency.
 * Original `idx` values are kept (never renumbered).
 */
export function applyNoise(example: Example, rate: number, seed: number): Example {
  if (rate >= 1) return example;
  const random = randomFor(seed, `noise:${example.id}`);
  const paragraphs = example.paragraphs.filter((paragraph) => {
    const draw = random(); // drawn for every paragraph, so a paragraph's fate depends only on its position
    return paragraph.isSupporting || draw < rate;
  });
  return { ...example, paragraphs };
}

/** Stable sort by nHops ascending (Array.prototype.sort is stable). */
export function curriculumOrder<T extends { nHops: number }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => a.nHops - b.nHops);
}

export interface Prepared {
  examples: Example[];
  /** For each prepared example, its position in the input list. */
  positions: number[];
}

/** Shuffle → size → noise → curriculum, keeping track of where each example came from. */
export function prepareWithPositions(examples: readonly Example[], options: PrepareOptions): Prepared {
  const order = shuffle(
    examples.map((_, position) => position),
    options.seed,
  );
  const chosen = options.size === undefined ? order : order.slice(0, options.size);
  let items = chosen.map((position) => ({
    position,
    example: applyNoise(examples[position] as Example, options.noiseRate, options.seed),
    nHops: (examples[position] as Example).nHops,
  }));
  if (options.curriculum) items = curriculumOrder(items);
  return { examples: items.map((item) => item.example), positions: items.map((item) => item.position) };
}

/** Shuffle → size → noise → curriculum. */
export function prepareExamples(examples: readonly Example[], options: PrepareOptions): Example[] {
  return prepareWithPositions(examples, options).examples;
}
