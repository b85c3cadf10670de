import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { TrainSchema } from "../../src/config/schemas.ts";
import { ExitCode, UsageError } from "../../src/errors.ts";
import { nearestBatchSize, validateTrainConfig } from "../../src/grpo/validate.ts";

const defaults = v.parse(TrainSchema, {});
const sizes = { train: 100, dev: 50 };

function usageError(run: () => void): UsageError {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error("expected a UsageError");
}

describe("validateTrainConfig", () => {
  test("the reference configuration passes", () => {
    expect(() => validateTrainConfig(defaults, sizes)).not.toThrow();
  });

  test("rollouts that do not divide the effective batch: the numbers and a fix", () => {
    const error = usageError(() => validateTrainConfig({ ...defaults, numRolloutsPerStep: 6 }, sizes));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe(
      "--num-rollouts-per-step 6 does not divide the effective train batch " +
        "(--batch-size 8 × --num-training-gpus 2 × --gradient-accumulation 4 = 64)",
    );
    expect(error.fix).toBe("use --num-rollouts-per-step 4 (valid values for 64: 2, 4, 8, 16, 32, 64), or --batch-size 9");
  });

  test("fewer than 2 rollouts is refused", () => {
    const error = usageError(() => validateTrainConfig({ ...defaults, numRolloutsPerStep: 1 }, sizes));
    expect(error.message).toContain("at least 2");
  });

  test("temperature 0 is refused: every rollout would be the same", () => {
    const error = usageError(() => validateTrainConfig({ ...defaults, temperature: 0 }, sizes));
    expect(error.message).toContain("--temperature 0");
  });

  test("a training set smaller than --num-examples-per-step is refused with both numbers", () => {
    const error = usageError(() => validateTrainConfig(defaults, { train: 4, dev: 10 }));
    expect(error.message).toBe(
      "--num-examples-per-step 6 needs at least 6 training examples, but the prepared training set has 4",
    );
    expect(error.fix).toContain("--num-examples-per-step to 4");
  });

  test("an empty validation set is refused", () => {
    expect(usageError(() => validateTrainConfig(defaults, { train: 10, dev: 0 })).message).toContain("validation set is empty");
  });

  test("--base-url elsewhere than Arbor is refused: rollouts must sample from the job", () => {
    const error = usageError(() => validateTrainConfig({ ...defaults, baseUrl: ["http://localhost:8000/v1"] }, sizes));
    expect(error.message).toBe("--base-url http://localhost:8000/v1 is not the Arbor server http://localhost:7453/v1/");
  });

  test("--base-url at the Arbor port is accepted (127.0.0.1 = localhost)", () => {
    expect(() => validateTrainConfig({ ...defaults, baseUrl: ["http://127.0.0.1:7453/v1"] }, sizes)).not.toThrow();
  });

  test("a rerank URL on the Arbor port is refused", () => {
    const error = usageError(() => validateTrainConfig({ ...defaults, rerankUrl: "http://localhost:7453" }, sizes));
    expect(error.message).toContain("points at the Arbor server");
  });

  test("--dry-run skips the endpoint checks", () => {
    expect(() => validateTrainConfig({ ...defaults, dryRun: true, baseUrl: ["http://localhost:8000/v1"] }, sizes)).not.toThrow();
  });

  test("nearestBatchSize finds the smallest batch making whole groups", () => {
    expect(nearestBatchSize(6, 8, 8)).toBe(9);
    expect(nearestBatchSize(8, 8, 8)).toBe(8);
  });
});
