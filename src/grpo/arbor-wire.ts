/**
 * Arbor HEAD wire format (docs/specs/arbor.md §2d, §3): the request bodies musique sends and the
 * GRPOStatus it reads back. Request models on the server are `extra="forbid"`, so every key here
 * must exist in Arbor's `arbor/server/api/schemas.py` (A@2c1b904; identical in arbor-ai 0.2.16
 * except `inference_config.max_seq_len`, which 0.2.16 still called `max_context_length` — so
 * musique never sends it).
 */
import * as v from "valibot";

interface WireChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** One training sample (DSPy's GRPOChatData). */
export interface GrpoChatData {
  messages: WireChatMessage[];
  completion: { role: "assistant"; content: string };
  reward: number;
}

interface LoraConfigWire {
  r: number;
  lora_alpha: number;
  target_modules: string[];
  lora_dropout: number;
}

/** `ArborGRPOConfigRequest`: every key optional; unknown keys are rejected with 422. */
export interface TrainerConfigWire {
  temperature?: number;
  beta?: number;
  num_generations?: number;
  per_device_train_batch_size?: number;
  learning_rate?: number;
  gradient_accumulation_steps?: number;
  gradient_checkpointing?: boolean;
  lr_scheduler_type?: string;
  max_prompt_length?: number | null;
  max_completion_length?: number | null;
  soft_completion_penalty_length?: number | null;
  gradient_checkpointing_kwargs?: Record<string, unknown> | null;
  bf16?: boolean;
  scale_rewards?: boolean;
  max_grad_norm?: number;
  report_to?: string;
  log_completions?: boolean;
  logging_steps?: number;
  generation_batch_size?: number | null;
  mask_truncated_completions?: boolean;
  async_generation_timeout?: number;
  max_seq_len?: number | null;
  lora_config?: LoraConfigWire | null;
  max_steps?: number;
  warmup_steps?: number;
  loss_type?: string;
  num_training_gpus?: number;
  weight_decay?: number;
}

/** The keys Arbor HEAD accepts in `trainer_config` (for checks and messages). */
export const TRAINER_CONFIG_KEYS = [
  "temperature",
  "beta",
  "num_generations",
  "per_device_train_batch_size",
  "learning_rate",
  "gradient_accumulation_steps",
  "gradient_checkpointing",
  "lr_scheduler_type",
  "max_prompt_length",
  "max_completion_length",
  "soft_completion_penalty_length",
  "gradient_checkpointing_kwargs",
  "bf16",
  "scale_rewards",
  "max_grad_norm",
  "report_to",
  "log_completions",
  "logging_steps",
  "generation_batch_size",
  "mask_truncated_completions",
  "async_generation_timeout",
  "max_seq_len",
  "lora_config",
  "max_steps",
  "warmup_steps",
  "loss_type",
  "num_training_gpus",
  "weight_decay",
] as const satisfies ReadonlyArray<keyof TrainerConfigWire>;

/** `InferenceLaunchRequest` as musique sends it: the model only (vLLM then uses the model's own context length). */
interface InferenceConfigWire {
  model: string;
}

interface GpuConfigWire {
  type: "multi";
  multi: { num_inference_gpus: number; num_training_gpus: number };
}

export interface InitializeRequest {
  run_name?: string;
  model: string;
  trainer_config: TrainerConfigWire;
  inference_config: InferenceConfigWire;
  gpu_config: GpuConfigWire;
}

export interface StepRequest {
  job_id: string;
  /** Required by the schema, unused by the server. */
  model: string;
  /** Required by the schema; the server assigns its own ids in arrival order. */
  batch_id: number;
  /** Exactly `num_generations` samples: one group. */
  batch: GrpoChatData[];
  metrics?: Record<string, number>;
}

export interface CheckpointRequest {
  job_id: string;
  checkpoint_name: string;
  metadata?: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// GRPOStatus (response of every GRPO route)

/** A checkpoint Arbor saved. Up to v0.2.10 Arbor sent only a path string: the other fields are then null. */
export interface CheckpointRecord {
  name: string;
  /** Absolute directory on the Arbor machine: <storage>/<job_id>/checkpoints/<name>. */
  directory: string;
  globalStep: number | null;
  requested: boolean;
  metadata: Record<string, unknown> | null;
  /** Unix seconds. */
  timestamp: number | null;
}

export interface GrpoStatus {
  jobId: string;
  /** "running" after initialize (and after terminate); "cancelled" after cancel. */
  status: string | null;
  /** The model name to sample from: the job id for the whole job. */
  currentModel: string;
  checkpoints: Record<string, CheckpointRecord>;
  lastCheckpoint: string | null;
  /** Batch ids the trainer has requested and not yet received (may be stale by ~0.5 s). */
  pendingBatchIds: number[];
}

const CheckpointRecordWireSchema = v.looseObject({
  checkpoint_name: v.optional(v.string()),
  checkpoint_dir: v.string(),
  global_step: v.optional(v.nullable(v.number())),
  requested: v.optional(v.nullable(v.boolean())),
  metadata: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
  timestamp: v.optional(v.nullable(v.number())),
});

const GrpoStatusWireSchema = v.looseObject({
  job_id: v.string(),
  status: v.optional(v.nullable(v.string()), null),
  current_model: v.string(),
  checkpoints: v.optional(v.nullable(v.record(v.string(), v.union([v.string(), CheckpointRecordWireSchema]))), {}),
  last_checkpoint: v.optional(v.nullable(v.string()), null),
  pending_batch_ids: v.optional(v.nullable(v.array(v.pipe(v.number(), v.integer()))), []),
});

/** Parse a GRPOStatus body; returns the issues as one line when it does not match. */
export function parseGrpoStatus(body: unknown): { ok: true; status: GrpoStatus } | { ok: false; problem: string } {
  const result = v.safeParse(GrpoStatusWireSchema, body);
  if (!result.success) {
    const problem = result.issues
      .slice(0, 3)
      .map((issue) => {
        const path = issue.path?.map((item) => String(item.key)).join(".") ?? "";
        return path ? `${path}: ${issue.message}` : issue.message;
      })
      .join("; ");
    return { ok: false, problem };
  }
  const wire = result.output;
  const checkpoints: Record<string, CheckpointRecord> = {};
  for (const [name, record] of Object.entries(wire.checkpoints ?? {})) {
    checkpoints[name] =
      typeof record === "string"
        ? { name, directory: record, globalStep: null, requested: true, metadata: null, timestamp: null }
        : {
            name: record.checkpoint_name ?? name,
            directory: record.checkpoint_dir,
            globalStep: record.global_step ?? null,
            requested: record.requested ?? true,
            metadata: record.metadata ?? null,
            timestamp: record.timestamp ?? null,
          };
  }
  return {
    ok: true,
    status: {
      jobId: wire.job_id,
      status: wire.status ?? null,
      currentModel: wire.current_model,
      checkpoints,
      lastCheckpoint: wire.last_checkpoint ?? null,
      pendingBatchIds: [...(wire.pending_batch_ids ?? [])].sort((a, b) => a - b),
    },
  };
}
