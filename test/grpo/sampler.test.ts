import { describe, expect, test } from "bun:test";
import { StepSampler } from "../../src/grpo/sampler.ts";

describe("StepSampler", () => {
  test("each step takes k consecutive ids of the epoch's shuffle; an epoch covers every example", () => {
    const sampler = new StepSampler(12, { examplesPerStep: 4, seed: 89 });
    const epoch = [0, 1, 2].flatMap((step) => sampler.indexesFor(step));
    expect([...epoch].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, index) => index));
    expect(sampler.epochOf(2)).toBe(0);
    expect(sampler.epochOf(3)).toBe(1);
  });

  test("the same seed picks the same examples; another seed another order", () => {
    const first = new StepSampler(20, { examplesPerStep: 5, seed: 1 });
    const again = new StepSampler(20, { examplesPerStep: 5, seed: 1 });
    const other = new StepSampler(20, { examplesPerStep: 5, seed: 2 });
    expect(again.indexesFor(7)).toEqual(first.indexesFor(7));
    expect(other.indexesFor(0)).not.toEqual(first.indexesFor(0));
  });

  test("a step can be asked for out of order (resume) and gives the same answer", () => {
    const fresh = new StepSampler(10, { examplesPerStep: 3, seed: 5 });
    const resumed = new StepSampler(10, { examplesPerStep: 3, seed: 5 });
    const expected = [0, 1, 2, 3, 4, 5, 6].map((step) => fresh.indexesFor(step));
    expect(resumed.indexesFor(6)).toEqual(expected[6] as number[]);
  });

  test("an epoch that is not a multiple of k is padded with the least-used examples", () => {
    const sampler = new StepSampler(10, { examplesPerStep: 4, seed: 3 });
    const epoch = [0, 1, 2].flatMap((step) => sampler.indexesFor(step));
    expect(epoch).toHaveLength(12);
    expect(new Set(epoch).size).toBe(10);
    expect(sampler.epochOf(3)).toBe(1);
  });

  test("without shuffling (--curriculum) the order is kept", () => {
    const sampler = new StepSampler(6, { examplesPerStep: 2, seed: 3, shuffle: false });
    expect([0, 1, 2].map((step) => sampler.indexesFor(step))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
  });

  test("select maps indexes to items", () => {
    const sampler = new StepSampler(3, { examplesPerStep: 3, seed: 0, shuffle: false });
    expect(sampler.select(["a", "b", "c"], 0)).toEqual(["a", "b", "c"]);
  });
});
