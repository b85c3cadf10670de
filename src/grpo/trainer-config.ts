/**
 * The initialize request musique sends to Arbor HEAD: our flags mapped onto Arbor's
 * `trainer_config` keys, plus fixed values for the knobs we expose no flag for.
 *
 * Where a fixed value comes from (docs/specs/arbor.md §2b/§2d, program.md §6):
 *   - "reference" = what the reference script actually trained with: DSPy 3.0.2's LEGACY Arbor client
 *     + Arbor 0.2.5 + TRL 0.19.1 defaults for keys DSPy did not send.
 *   - "HEAD client" = Arbor HEAD's own DSPy client (`arbor_provider.py` DEFAULT_TRAIN_KWARGS).
 *   - "HEAD server" = `ArborGRPOConfig` defaults, used for keys nobody sends.
 * We follow the reference wherever it changes what is learned; flags default to the reference
 * script's values (src/config/defaults.ts).
 */
import type { NumHops } from "../config/defaults.ts";
import type { TrainOptions } from "../config/schemas.ts";
import type { InitializeRequest, TrainerConfigWire } from "./arbor-wire.ts";

/** LoRA target modules (LEGACY Arbor's fixed LoraConfig, which the reference trained with). */
export const LORA_TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj", "gate_proj"];

/**
 * Trainer limit on prompt + completion tokens. HEAD's server default (2048) would cut training
 * sequences from the left: a hop's prompt holds two documents and DSPy's max_tokens is 4000. The
 * reference sent max_prompt_length/max_completion_length null (no truncation); Qwen2.5-7B's context
 * is 32768, so this keeps "no truncation" in practice. The HEAD client sends null, which HEAD turns
 * into 2048 again.
 */
export const TRAINER_MAX_SEQUENCE_LENGTH = 32768;

/** Values without a flag, with their provenance. */
export const FIXED_TRAINER_CONFIG = {
  /** reference and HEAD client: true (TRL default false). */
  gradient_checkpointing: true,
  /** reference and HEAD client. */
  lr_scheduler_type: "constant_with_warmup",
  /** reference: 0 (HF default; DSPy 3.0.2 sent none). HEAD client: 10. */
  warmup_steps: 0,
  /** reference script: bf16 true. HEAD client: false (+ fp16, which HEAD rejects with 422). */
  bf16: true,
  /** reference (LEGACY Arbor forced it on anyway) and HEAD client: true. HEAD server default: false. */
  scale_rewards: true,
  /** reference used wandb; musique logs metrics itself, so "none" (HEAD client's value). */
  report_to: "none",
  /** reference and HEAD client: true. */
  log_completions: true,
  /** HEAD client: 10. reference: 100. Affects trainer logs only. */
  logging_steps: 10,
  /**
   * reference: TRL 0.19.1's "bnpo" (DSPy 3.0.2 sent no loss_type). HEAD client: "dapo"; HEAD server:
   * "dr_grpo". HEAD's trainer implements grpo, bnpo, dr_grpo and dapo.
   */
  loss_type: "bnpo",
  /**
   * reference: TRL 0.19.1's false. HEAD client and server: true. HEAD marks a completion truncated
   * when its last token is not EOS/pad; a chat-templated completion ends with "\n" after the end
   * token for Qwen, so true could mask every sample (inferred) — false is the safe, reference value.
   */
  mask_truncated_completions: false,
  /** reference and HEAD client: null (HEAD server default 512 only logs warnings, but is noisy). */
  max_prompt_length: null,
  max_seq_len: TRAINER_MAX_SEQUENCE_LENGTH,
} as const satisfies TrainerConfigWire;

/** The flags the initialize request depends on. */
export type ArborTrainSettings = Pick<
  TrainOptions,
  | "model"
  | "runName"
  | "temperature"
  | "klBeta"
  | "numRolloutsPerStep"
  | "batchSize"
  | "learningRate"
  | "gradientAccumulation"
  | "maxGradNorm"
  | "numTrainSteps"
  | "useLora"
  | "loraR"
  | "loraAlpha"
  | "loraDropout"
  | "numInferenceGpus"
  | "numTrainingGpus"
  | "numExamplesPerStep"
  | "numHops"
  | "maxHops"
>;

/** MuSiQue-Ans questions have at most 4 supporting paragraphs (--num-hops gold). */
const MAXIMUM_GOLD_HOPS = 4;

/**
 * The most (module, invocation) groups one example can yield: 2·h for h fixed hops (h extract,
 * h−1 query, 1 answer); 3·h for auto (plus one decision per hop).
 */
export function groupsPerExampleLimit(numHops: NumHops, maxHops: number): number {
  if (numHops === "auto") return 3 * Math.max(1, maxHops);
  return 2 * (numHops === "gold" ? MAXIMUM_GOLD_HOPS : numHops);
}

/**
 * Arbor HEAD's trainer consumes one batch id = one group per optimizer step and stops asking for
 * batches at max_steps (it requires a finite value). A musique step posts several groups (k
 * examples × their (module, invocation) pairs), so max_steps is the upper bound on groups the run
 * can post; the run terminates the job itself after --num-train-steps. The scheduler is
 * constant_with_warmup, so the bound does not change the learning rate.
 */
export function trainerMaxSteps(settings: Pick<ArborTrainSettings, "numTrainSteps" | "numExamplesPerStep" | "numHops" | "maxHops">): number {
  return settings.numTrainSteps * settings.numExamplesPerStep * groupsPerExampleLimit(settings.numHops, settings.maxHops);
}

/** Build the HEAD `trainer_config` from our flags. */
export function buildTrainerConfig(settings: ArborTrainSettings): TrainerConfigWire {
  const config: TrainerConfigWire = {
    temperature: settings.temperature,
    beta: settings.klBeta,
    num_generations: settings.numRolloutsPerStep,
    per_device_train_batch_size: settings.batchSize,
    learning_rate: settings.learningRate,
    gradient_accumulation_steps: settings.gradientAccumulation,
    max_grad_norm: settings.maxGradNorm,
    max_steps: trainerMaxSteps(settings),
    // Must match gpu_config: HEAD sizes the generation batch with it.
    num_training_gpus: settings.numTrainingGpus,
    ...FIXED_TRAINER_CONFIG,
  };
  if (settings.useLora) {
    config.lora_config = {
      r: settings.loraR,
      lora_alpha: settings.loraAlpha,
      target_modules: [...LORA_TARGET_MODULES],
      lora_dropout: settings.loraDropout,
    };
  }
  return config;
}

/** The whole `POST …/fine_tuning/grpo/initialize` body. */
export function buildInitializeRequest(settings: ArborTrainSettings): InitializeRequest {
  const request: InitializeRequest = {
    model: settings.model,
    trainer_config: buildTrainerConfig(settings),
    inference_config: { model: settings.model },
    gpu_config: {
      type: "multi",
      multi: { num_inference_gpus: settings.numInferenceGpus, num_training_gpus: settings.numTrainingGpus },
    },
  };
  if (settings.runName !== undefined) request.run_name = settings.runName;
  return request;
}

/** The job id Arbor will assign (for messages before initialize returns): grpo:<model>:<run>:<YYYYMMDD>. */
export function expectedJobId(model: string, runName: string, date = new Date()): string {
  const base = (model.split("/").pop() ?? model).toLowerCase();
  const day = `${date.getFullYear()}${String(date.getMonth() + 1).padStart(2, "0")}${String(date.getDate()).padStart(2, "0")}`;
  return `grpo:${base}:${runName}:${day}`;
}
