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
import type { NumHops } from "../program/hops.ts";
import type { GrpoSettings } from "./settings.ts";
import type { InitializeRequest, TrainerConfigWire } from "./arbor-wire.ts";

/** LoRA target modules (LEGACY Arbor's fixed LoraConfig, which the reference trained with). */
export const LORA_TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj", "gate_proj"];

/**
 * Trainer limit on prompt + completion tokens (HEAD: the trainer cuts longer training sequences
 * from the left; it also bounds max_prompt_length and max_tokens when those are unset). HEAD's
 * default, 2048, would cut training sequences: a hop's prompt holds two documents and DSPy's
 * max_tokens is 4000. The reference sent max_prompt_length/max_completion_length null (no
 * truncation); Qwen2.5-7B's context is 32768, so this keeps "no truncation" in practice. It must be
 * a number: Arbor forwards only the keys a request sets (`model_dump(exclude_unset=True)`), so an
 * explicit `null` is kept, and the trainer then stops with "max_seq_len is required when
 * max_completion_length is not provided" before it binds its control socket — initialize never
 * answers (the HEAD client sends null and hits exactly this).
 */
const TRAINER_MAX_SEQUENCE_LENGTH = 32768;

/**
 * Values without a flag, with their provenance. Arbor HEAD's request schema accepts only the keys
 * of `TRAINER_CONFIG_KEYS` (anything else is a 422), so HF TrainingArguments such as save_steps,
 * save_strategy or optim cannot be set: see the note on checkpoints below.
 */
const FIXED_TRAINER_CONFIG = {
  /** reference and HEAD client: true (TRL default false). */
  gradient_checkpointing: true,
  /** reference and HEAD client. With it, max_steps (see trainerMaxSteps) changes nothing else. */
  lr_scheduler_type: "constant_with_warmup",
  /** reference: 0 (HF default; DSPy 3.0.2 sent none). HEAD client: 10. */
  warmup_steps: 0,
  /** reference script: bf16 true. HEAD client: false (+ fp16, which HEAD rejects with 422). */
  bf16: true,
  /** reference (LEGACY Arbor forced it on anyway) and HEAD client: true. HEAD server default: false. */
  scale_rewards: true,
  /** reference and HEAD client: true. With report_to wandb, a table of the step's completions goes to W&B. */
  log_completions: true,
  /**
   * 1 (HEAD client: 10; reference: 100): HF's trainer logs loss, grad norm, learning rate and the
   * trainer's own metrics (kl, reward, …) every `logging_steps` optimizer steps into its
   * `log_history` (saved in every checkpoint's trainer_state.json, and sent to --report-to). One
   * optimizer step is one group here, so 1 gives musique each group's numbers to put under the
   * step that posted it (trainer-log.ts); a coarser window would straddle musique's steps.
   */
  logging_steps: 1,
  /**
   * "dapo", as Arbor's own client sends, because it is the HEAD loss that gives the reference's
   * semantics: a mean over the completion tokens of the step's batch, with the gradient averaged
   * over accumulation. The reference (DSPy 3.0.2 + TRL 0.19.1) trained "bnpo": a token mean per
   * micro-batch that HF's Trainer then divided by --gradient-accumulation. HEAD disables HF's
   * division (`compute_loss_func` is set) and DeepSpeed's (`scale_wrt_gas=False`), so HEAD's "bnpo"
   * gradient is --gradient-accumulation times the reference's (4× with the defaults), and
   * "grpo"/"dr_grpo" are not divided either. HEAD's "dapo" divides every micro-batch by the token
   * count of the whole group (all micro-batches and GPUs), which is the accumulation-correct mean.
   * (HEAD's loss also covers the prompt tokens; their policy-gradient terms cancel within a group
   * only when every sample shares one normaliser, which dapo's global count guarantees.)
   */
  loss_type: "dapo",
  /**
   * false (the reference's TRL 0.19.1 value; HEAD client and server: true). At HEAD the flag does not
   * touch the loss mask: it zeroes the completion mask of every completion whose last token is not
   * EOS or padding, and that mask only feeds dapo's token count and the logged metrics. A
   * chat-templated completion ends with "<|im_end|>\n" and shorter ones are right-padded, so the
   * longest completion(s) of every group are "truncated": true would shrink dapo's divisor (a larger
   * gradient), and a group whose completions all have the same length would divide by 0.
   */
  mask_truncated_completions: false,
  /** reference and HEAD client: null (unset, HEAD's trainer uses max_seq_len; its 512 default only logs warnings). */
  max_prompt_length: null,
  max_seq_len: TRAINER_MAX_SEQUENCE_LENGTH,
} as const satisfies TrainerConfigWire;

/*
 * Checkpoints HF writes on its own: HEAD leaves TrainingArguments' save_strategy "steps" and
 * save_steps 500, and its request schema has no key for either, so the trainer also saves
 * `checkpoint-<N>` into the job's checkpoints folder every 500 optimizer steps (one step = one
 * group here). musique cannot stop that; it records them (automatic = 1 in the checkpoints table,
 * see jobs.ts) so that every directory Arbor writes for a run is listed with its step.
 */
export const HF_SAVE_STEPS = 500;

/** The flags the initialize request depends on. */
export type ArborTrainSettings = Pick<
  GrpoSettings,
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
  | "reportTo"
>;

/** MuSiQue-Ans questions have at most 4 supporting paragraphs (--num-hops gold). */
const MAXIMUM_GOLD_HOPS = 4;

/**
 * The most (module, invocation) groups one example can yield: 2·h for h fixed hops (h extract,
 * h−1 query, 1 answer); 3·h for auto (plus one decision per hop).
 */
function groupsPerExampleLimit(numHops: NumHops, maxHops: number): number {
  if (numHops === "auto") return 3 * Math.max(1, maxHops);
  return 2 * (numHops === "gold" ? MAXIMUM_GOLD_HOPS : numHops);
}

/** The most groups one musique step can post: examples × (module, invocation) pairs. */
export function groupsPerStepLimit(settings: Pick<ArborTrainSettings, "numExamplesPerStep" | "numHops" | "maxHops">): number {
  return settings.numExamplesPerStep * groupsPerExampleLimit(settings.numHops, settings.maxHops);
}

/**
 * The trainer's max_steps for a job that will run `steps` musique steps. HEAD's trainer takes one
 * group (one batch id) per optimizer step, needs a finite max_steps, and when it reaches it, it
 * leaves its loop: every later step, checkpoint and terminate then hangs. So:
 *   - margin: the bound on groups the job can be sent plus one more step's worth, so the trainer is
 *     always still waiting for a batch when musique saves the final checkpoint and terminates;
 *   - rounded up to a multiple of --batch-size × --gradient-accumulation: Arbor's dataloader has
 *     ceil(max_steps / batch size) batches per epoch and HF's loop also takes an optimizer step at
 *     every epoch end, so unless that count is a multiple of the accumulation, epochs end mid-group
 *     and the trainer reaches max_steps optimizer steps before it has consumed max_steps groups.
 * The scheduler is constant_with_warmup, so max_steps changes nothing else.
 */
export function trainerMaxSteps(
  settings: Pick<ArborTrainSettings, "numTrainSteps" | "numExamplesPerStep" | "numHops" | "maxHops" | "batchSize" | "gradientAccumulation">,
  steps: number = settings.numTrainSteps,
): number {
  const perStep = groupsPerStepLimit(settings);
  const needed = (Math.max(0, steps) + 1) * perStep;
  const multiple = settings.batchSize * settings.gradientAccumulation;
  return Math.ceil(needed / multiple) * multiple;
}

/** The run_name sent to Arbor for a run's attempt-th job: unique per job, so job ids never repeat. */
export function arborRunName(runName: string, attempt: number): string {
  return `${runName}-r${attempt}`;
}

/** Build the HEAD `trainer_config` from our flags. */
export function buildTrainerConfig(settings: ArborTrainSettings, steps: number = settings.numTrainSteps): TrainerConfigWire {
  const config: TrainerConfigWire = {
    temperature: settings.temperature,
    beta: settings.klBeta,
    num_generations: settings.numRolloutsPerStep,
    per_device_train_batch_size: settings.batchSize,
    learning_rate: settings.learningRate,
    gradient_accumulation_steps: settings.gradientAccumulation,
    max_grad_norm: settings.maxGradNorm,
    max_steps: trainerMaxSteps(settings, steps),
    // Must match gpu_config: HEAD sizes the generation batch with it.
    num_training_gpus: settings.numTrainingGpus,
    // reference: wandb. Default none: musique records the metrics itself (trainer-log.ts).
    report_to: settings.reportTo,
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

/** The whole `POST …/fine_tuning/grpo/initialize` body for a job that will run `steps` steps. */
export function buildInitializeRequest(settings: ArborTrainSettings, steps: number = settings.numTrainSteps): InitializeRequest {
  const request: InitializeRequest = {
    model: settings.model,
    trainer_config: buildTrainerConfig(settings, steps),
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
