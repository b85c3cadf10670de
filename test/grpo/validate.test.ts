import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { TrainSchema } from "../../src/config/schemas.ts";
import { ExitCode, UsageError } from "../../src/errors.ts";
import { nearestBatchSize, rolloutsTrained, validateTrainConfig, workingAccumulations, workingRolloutCounts } from "../../src/grpo/validate.ts";

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

  test("rollouts that do not divide the effective batch: the numbers and values that work", () => {
    const error = usageError(() => validateTrainConfig({ ...defaults, numRolloutsPerStep: 24 }, sizes));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe(
      "--num-rollouts-per-step 24 does not divide the effective train batch " + "(--batch-size 8 × --num-training-gpus 2 × --gradient-accumulation 4 = 64)",
    );
    expect(error.fix).toBe(
      "use --num-rollouts-per-step 8 or 16 or 32 or 64, or --gradient-accumulation 3 or 6 or 12, or --num-training-gpus 3 or 6, or --batch-size 9",
    );
  });

  test("fewer rollouts than training GPUs × accumulation is refused (the trainer would die and initialize hang)", () => {
    // The README's own style of command: 4 rollouts with the defaults (2 GPUs × accumulation 4).
    const error = usageError(() => validateTrainConfig({ ...defaults, numRolloutsPerStep: 4 }, sizes));
    expect(error.message).toBe("--num-rollouts-per-step 4 is fewer than --num-training-gpus 2 × --gradient-accumulation 4 = 8");
    expect(error.hint).toContain("num_generations must be >= world_size * gradient_accumulation_steps");
    expect(error.fix).toBe("use --num-rollouts-per-step 8 or 16 or 32 or 64, or --gradient-accumulation 1 or 2, or --num-training-gpus 1");
  });

  test("a group size that is not a multiple of GPUs × accumulation is refused: the trainer would drop rollouts", () => {
    const error = usageError(() =>
      validateTrainConfig({ ...defaults, numRolloutsPerStep: 6, numTrainingGpus: 1, gradientAccumulation: 4, batchSize: 6 }, sizes),
    );
    expect(error.message).toBe("--num-rollouts-per-step 6 is not a multiple of --num-training-gpus 1 × --gradient-accumulation 4 = 4");
    expect(error.hint).toContain("train only 4 of the 6 rollouts of every group and silently drop 2");
    expect(error.fix).toBe("use --num-rollouts-per-step 4 or 8 or 12 or 24, or --gradient-accumulation 1 or 2 or 3 or 6");
  });

  test("every combination the validation accepts passes Arbor's ArborGRPOConfig and trainer rules, and trains every rollout", () => {
    for (const gpus of [1, 2, 3, 4]) {
      for (const accumulation of [1, 2, 3, 4, 8]) {
        for (const batch of [1, 2, 4, 6, 8]) {
          for (let rollouts = 2; rollouts <= 24; rollouts++) {
            const settings = { ...defaults, numTrainingGpus: gpus, gradientAccumulation: accumulation, batchSize: batch, numRolloutsPerStep: rollouts };
            let accepted = true;
            try {
              validateTrainConfig(settings, sizes);
            } catch {
              accepted = false;
            }
            // ArborGRPOConfig: the group divides the effective batch; the trainer: at least GPUs × accumulation,
            // and equal slices per GPU and micro-step (else rollouts are dropped or a GPU gets none).
            const arborAccepts = (batch * gpus * accumulation) % rollouts === 0 && rollouts >= gpus * accumulation;
            const evenSplit = rollouts % (gpus * accumulation) === 0;
            expect(accepted).toBe(arborAccepts && evenSplit);
            if (!accepted) continue;
            expect(rolloutsTrained(settings).dropped).toBe(0);
            expect(workingRolloutCounts(settings)).toContain(rollouts);
            expect(workingAccumulations(settings)).toContain(accumulation);
          }
        }
      }
    }
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
    expect(error.message).toBe("--num-examples-per-step 6 needs at least 6 training examples, but the prepared training set has 4");
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
