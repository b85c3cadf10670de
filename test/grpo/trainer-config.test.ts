import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { TrainSchema } from "../../src/config/schemas.ts";
import { TRAINER_CONFIG_KEYS } from "../../src/grpo/arbor-wire.ts";
import {
  arborRunName,
  buildInitializeRequest,
  buildTrainerConfig,
  expectedJobId,
  groupsPerStepLimit,
  LORA_TARGET_MODULES,
  trainerMaxSteps,
} from "../../src/grpo/trainer-config.ts";
import { groupsBeforeTrainerExit } from "../fakes/arbor-trainer.ts";
import { INITIALIZE_REQUEST, TRAINER_CONFIG, validate } from "../fakes/arbor-schema.ts";

const defaults = v.parse(TrainSchema, {});

describe("initialize request", () => {
  test("with the default flags it passes HEAD's strict schema", () => {
    expect(validate(INITIALIZE_REQUEST, buildInitializeRequest(defaults))).toEqual([]);
  });

  test("with --no-lora it still passes and sends no lora_config", () => {
    const request = buildInitializeRequest({ ...defaults, useLora: false });
    expect(validate(INITIALIZE_REQUEST, request)).toEqual([]);
    expect("lora_config" in request.trainer_config).toBe(false);
  });

  test("the client's key list matches Arbor HEAD's ArborGRPOConfigRequest", () => {
    const model = TRAINER_CONFIG as { fields: Record<string, unknown> };
    expect([...TRAINER_CONFIG_KEYS].sort() as string[]).toEqual(Object.keys(model.fields).sort());
  });

  test("maps the reference flags onto trainer_config", () => {
    const config = buildTrainerConfig(defaults);
    expect(config).toMatchObject({
      temperature: 0.7,
      beta: 0.04,
      num_generations: 8,
      per_device_train_batch_size: 8,
      learning_rate: 2e-5,
      gradient_accumulation_steps: 4,
      gradient_checkpointing: true,
      lr_scheduler_type: "constant_with_warmup",
      bf16: true,
      scale_rewards: true,
      max_grad_norm: 0.5,
      report_to: "none",
      log_completions: true,
      logging_steps: 1,
      max_steps: 12032,
      num_training_gpus: 2,
      lora_config: { r: 16, lora_alpha: 64, target_modules: LORA_TARGET_MODULES, lora_dropout: 0.05 },
    });
  });

  test("the GPU split goes in gpu_config and inference_config carries only the model", () => {
    const request = buildInitializeRequest({ ...defaults, runName: "r1" });
    expect(request.gpu_config).toEqual({ type: "multi", multi: { num_inference_gpus: 1, num_training_gpus: 2 } });
    expect(request.inference_config).toEqual({ model: "Qwen/Qwen2.5-7B-Instruct" });
    expect(request.run_name).toBe("r1");
  });

  test("no run name: run_name is left out so Arbor picks a slug", () => {
    expect("run_name" in buildInitializeRequest(defaults)).toBe(false);
  });

  test("max_steps leaves one step of margin above the groups the job can receive, as a multiple of batch × accumulation", () => {
    const base = { numTrainSteps: 10, numExamplesPerStep: 2, maxHops: 4, batchSize: 8, gradientAccumulation: 4 };
    // 2 hops: 4 groups per example, 8 per step; (10 + 1) × 8 = 88 → 96.
    expect(trainerMaxSteps({ ...base, numHops: 2 })).toBe(96);
    // gold: up to 4 hops, 8 groups per example: 11 × 16 = 176 → 192.
    expect(trainerMaxSteps({ ...base, numHops: "gold" })).toBe(192);
    // auto: up to 3 × 4 groups per example: 11 × 24 = 264 → 288.
    expect(trainerMaxSteps({ ...base, numHops: "auto" })).toBe(288);
    // a resumed job only needs the steps it will run
    expect(trainerMaxSteps({ ...base, numHops: 2 }, 3)).toBe(32);
  });

  test("for the flag combinations of issue 13 and small runs the trainer is still waiting after the last group the job can get", () => {
    // HF's epoch / accumulation loop as the arbor-real stand-in emulates it (test/fakes/arbor-trainer.ts)
    const listed = [{}, { numHops: 1 }, { numHops: 3 }, { numExamplesPerStep: 5 }];
    for (const flags of listed) {
      const settings = { ...defaults, ...flags };
      const bound = settings.numTrainSteps * groupsPerStepLimit(settings);
      const maxSteps = trainerMaxSteps(settings);
      expect(groupsBeforeTrainerExit(maxSteps, settings.batchSize, settings.gradientAccumulation)).toBeGreaterThan(bound);
    }
    // The old value (exactly the bound) left the trainer early for all but the defaults.
    const drifted = listed.filter((flags) => {
      const settings = { ...defaults, ...flags };
      const old = settings.numTrainSteps * groupsPerStepLimit(settings);
      return groupsBeforeTrainerExit(old, settings.batchSize, settings.gradientAccumulation) < old;
    });
    expect(drifted).toHaveLength(3);
    for (const numTrainSteps of [1, 2, 3, 5, 7])
      for (const numExamplesPerStep of [1, 2, 3, 5, 6])
        for (const numHops of [1, 2, 3, 4, "auto", "gold"] as const)
          for (const gradientAccumulation of [1, 2, 3, 4])
            for (const batchSize of [1, 2, 4, 8]) {
              const settings = { ...defaults, numTrainSteps, numExamplesPerStep, numHops, gradientAccumulation, batchSize };
              const bound = numTrainSteps * groupsPerStepLimit(settings);
              expect(groupsBeforeTrainerExit(trainerMaxSteps(settings), batchSize, gradientAccumulation)).toBeGreaterThan(bound);
            }
  });

  test("loss_type is dapo and mask_truncated_completions false (accumulation-correct mean; no zero divisor)", () => {
    const config = buildTrainerConfig(defaults);
    expect(config.loss_type).toBe("dapo");
    expect(config.mask_truncated_completions).toBe(false);
    expect(config.max_seq_len).toBe(32768);
  });

  test("the Arbor run name is unique per job of a run", () => {
    expect(arborRunName("grpo-1", 1)).toBe("grpo-1-r1");
    expect(arborRunName("grpo-1", 2)).toBe("grpo-1-r2");
  });

  test("expectedJobId follows Arbor's grpo:<model>:<run>:<YYYYMMDD>", () => {
    expect(expectedJobId("Qwen/Qwen2.5-7B-Instruct", "demo", new Date(2025, 10, 17))).toBe("grpo:qwen2.5-7b-instruct:demo:20251117");
  });
});
