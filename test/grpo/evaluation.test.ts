import { describe, expect, test } from "bun:test";
import { checkpointName, validationDue, type DevScores } from "../../src/grpo/evaluation.ts";

function scores(step: number, reward: number): DevScores {
  return { step, reward, em: 0, f1: 0, recall: 0, supportF1: 0, examples: 1, formatFailures: 0, lmErrors: 0 };
}

describe("validation schedule", () => {
  test("before training, every N steps and after the last step (DSPy)", () => {
    const due = Array.from({ length: 26 }, (_, completed) => completed).filter((completed) => validationDue(completed, 10, 25));
    expect(due).toEqual([0, 10, 20, 25]);
  });
});

describe("checkpointName", () => {
  test("single-best keeps one directory named best, saved on each improvement", () => {
    expect(checkpointName("single-best", scores(10, 0.7), 0.6)).toBe("best");
    expect(checkpointName("single-best", scores(20, 0.65), 0.7)).toBeNull();
  });
  test("improvements saves step_<n> on each improvement", () => {
    expect(checkpointName("improvements", scores(10, 0.7), 0.6)).toBe("step_10");
    expect(checkpointName("improvements", scores(20, 0.7), 0.7)).toBeNull();
  });
  test("none never saves; the first validation (the baseline) counts as an improvement", () => {
    expect(checkpointName("none", scores(10, 0.9), 0.1)).toBeNull();
    expect(checkpointName("none", scores(0, 0.5), null)).toBeNull();
    expect(checkpointName("improvements", scores(0, 0.5), null)).toBe("step_0");
    expect(checkpointName("single-best", scores(0, 0.5), null)).toBe("best");
  });
});
