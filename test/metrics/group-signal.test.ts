import { describe, expect, test } from "bun:test";
import { combineSignals, groupSignal, isZeroSpread, noSignalWarning } from "../../src/metrics/group-signal.ts";

describe("the learning signal of GRPO groups", () => {
  test("a group whose rewards are all equal has no spread; one differing reward gives it some", () => {
    expect(isZeroSpread([0.5, 0.5, 0.5])).toBe(true);
    expect(isZeroSpread([0.5, 0.5, 0.6])).toBe(false);
  });

  test("the mean spread is the mean of each group's own standard deviation, not the spread across groups", () => {
    // Across the four rewards the spread is large; inside each group it is 0.
    expect(
      groupSignal([
        [0, 0],
        [1, 1],
      ]),
    ).toEqual({ groups: 2, zeroSpreadGroups: 2, meanGroupSpread: 0 });
    expect(
      groupSignal([
        [0, 1],
        [1, 1],
      ]).meanGroupSpread,
    ).toBeCloseTo(Math.SQRT1_2 / 2, 12);
    expect(groupSignal([])).toEqual({ groups: 0, zeroSpreadGroups: 0, meanGroupSpread: null });
  });

  test("signals of several steps add up, the mean spread weighted by their groups", () => {
    const total = combineSignals([
      groupSignal([[0, 1]]),
      groupSignal([
        [1, 1],
        [2, 2],
        [3, 3],
      ]),
    ]);
    expect(total.groups).toBe(4);
    expect(total.zeroSpreadGroups).toBe(3);
    expect(total.meanGroupSpread).toBeCloseTo(Math.SQRT1_2 / 4, 12);
  });

  test("the warning comes when more than half the groups carry no signal, not at exactly half", () => {
    expect(noSignalWarning({ groups: 4, zeroSpreadGroups: 2 })).toBeNull();
    expect(noSignalWarning({ groups: 4, zeroSpreadGroups: 3 })).toContain("3 of 4 groups (75 %) had the same reward for every rollout");
    expect(noSignalWarning({ groups: 0, zeroSpreadGroups: 0 })).toBeNull();
  });
});
