/**
 * The training vocabulary (arbor.md): which validations leave checkpoints, which GRPO samples a
 * rescued call gives, where the trainer reports, and what happens to the Arbor job on a stop.
 * Owned here (the GRPO loop acts on them), built into flag schemas by src/config; imports
 * nothing, so every layer (config included) may import it.
 */
export const CHECKPOINT_POLICIES = ["single-best", "improvements", "none"] as const;
export type CheckpointPolicy = (typeof CHECKPOINT_POLICIES)[number];

/** GRPO samples of calls the JSON fallback rescued: DSPy's (ChatAdapter rendering) or on-policy (JSON prompt and reply). */
export const FALLBACK_SAMPLES = ["dspy", "on-policy"] as const;
export type FallbackSamples = (typeof FALLBACK_SAMPLES)[number];

/** Where Arbor's trainer sends its own metrics (HF TrainingArguments.report_to): nowhere, W&B or TensorBoard. */
export const REPORT_TO = ["none", "wandb", "tensorboard"] as const;
export type ReportTo = (typeof REPORT_TO)[number];

/** What happens to the Arbor job on Ctrl-C, SIGTERM, SIGHUP or failure: terminate (saves checkpoint_final) or cancel (frees GPUs). */
export const ON_INTERRUPT = ["terminate", "cancel"] as const;
