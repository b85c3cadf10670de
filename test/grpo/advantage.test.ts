import { describe, expect, test } from "bun:test";
import { groupAdvantages, unbiasedStandardDeviation } from "../../src/grpo/advantage.ts";

describe("groupAdvantages (Arbor HEAD)", () => {
  test("the worked example: rewards [1, 0, 1, 0] → ±0.5 / (0.57735 + 1e-4) = ±0.8659", () => {
    const advantages = groupAdvantages([1, 0, 1, 0]);
    const expected = 0.5 / (Math.sqrt(1 / 3) + 1e-4);
    expect(advantages[0]).toBeCloseTo(expected, 12);
    expect(advantages[1]).toBeCloseTo(-expected, 12);
    expect(advantages[0]).toBeCloseTo(0.8659, 4);
  });

  test("std is unbiased (n − 1), like torch.std", () => {
    expect(unbiasedStandardDeviation([1, 0, 1, 0])).toBeCloseTo(Math.sqrt(1 / 3), 12);
  });

  test("identical rewards give all zeros", () => {
    expect(groupAdvantages([0.3, 0.3, 0.3, 0.3])).toEqual([0, 0, 0, 0]);
  });

  test("without scaling the advantage is the reward minus the mean", () => {
    expect(groupAdvantages([1, 0, 1, 0], false)).toEqual([0.5, -0.5, 0.5, -0.5]);
  });

  test("a format failure (−1) among successes gets the most negative advantage", () => {
    const advantages = groupAdvantages([0.9, 0.5, -1, 0.5]);
    expect(Math.min(...advantages)).toBe(advantages[2] as number);
    expect(advantages.reduce((sum, value) => sum + value, 0)).toBeCloseTo(0, 12);
  });
});
