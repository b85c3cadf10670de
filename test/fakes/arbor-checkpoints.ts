/**
 * What a checkpoint folder of Arbor's trainer holds on disk, for the fake Arbor (arbor.ts) when it
 * is asked to write them (`writeCheckpoints`): HF Trainer's `_save_checkpoint` writes the weights
 * (a LoRA adapter or the full model) and trainer_state.json, whose `log_history` has one entry
 * every `logging_steps` optimizer steps (HF's default 500) with loss, grad_norm, learning_rate,
 * the epoch and the step, plus the metrics Arbor's trainer adds (kl when beta > 0, reward,
 * reward_std, frac_reward_zero_std, completion lengths) — the shape of transformers 4.5x with
 * TRL-style GRPO metrics. The numbers are made up but deterministic; the rewards are the groups'.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FakeJob } from "./arbor-types.ts";

function number(value: unknown, fallback: number): number {
  return typeof value === "number" ? value : fallback;
}

function rewardsOf(batch: readonly unknown[]): number[] {
  return batch.map((item) => number((item as { reward?: unknown }).reward, 0));
}

/** HF's log_history of a job that has trained `job.groups.length` optimizer steps (one group each). */
function logHistory(job: FakeJob): Array<Record<string, number>> {
  const config = (job.request.trainer_config ?? {}) as Record<string, unknown>;
  const every = number(config.logging_steps, 500);
  const learningRate = number(config.learning_rate, 1e-6);
  const beta = number(config.beta, 0.04);
  const history: Array<Record<string, number>> = [];
  for (let step = every; step <= job.groups.length; step += every) {
    const window = job.groups.slice(step - every, step).map((group) => rewardsOf(group.batch));
    const rewards = window.flat();
    const mean = rewards.reduce((sum, value) => sum + value, 0) / Math.max(1, rewards.length);
    const spreads = window.map((group) => {
      const groupMean = group.reduce((sum, value) => sum + value, 0) / Math.max(1, group.length);
      return Math.sqrt(group.reduce((sum, value) => sum + (value - groupMean) ** 2, 0) / Math.max(1, group.length - 1));
    });
    const entry: Record<string, number> = {
      "completions/mean_length": 60 + (step % 7),
      epoch: step / Math.max(1, job.maxSteps),
      frac_reward_zero_std: spreads.filter((spread) => spread === 0).length / Math.max(1, spreads.length),
      grad_norm: 0.5 / Math.sqrt(step),
      learning_rate: learningRate,
      loss: 0.05 / step,
      reward: mean,
      reward_std: spreads.reduce((sum, value) => sum + value, 0) / Math.max(1, spreads.length),
      step,
    };
    if (beta > 0) entry.kl = 0.001 * step;
    history.push(entry);
  }
  return history;
}

/** Write `<directory>/` as HF's trainer does at a checkpoint of `job`. */
export function writeCheckpointFolder(directory: string, job: FakeJob): void {
  mkdirSync(directory, { recursive: true });
  const config = (job.request.trainer_config ?? {}) as Record<string, unknown>;
  if (config.lora_config) {
    writeFileSync(
      join(directory, "adapter_config.json"),
      JSON.stringify({ peft_type: "LORA", base_model_name_or_path: job.model, ...(config.lora_config as object) }),
    );
    writeFileSync(join(directory, "adapter_model.safetensors"), new Uint8Array(64));
  } else {
    writeFileSync(join(directory, "config.json"), JSON.stringify({ _name_or_path: job.model, model_type: "qwen2" }));
    writeFileSync(join(directory, "model.safetensors"), new Uint8Array(64));
  }
  const state = {
    best_global_step: null,
    best_metric: null,
    best_model_checkpoint: null,
    epoch: job.groups.length / Math.max(1, job.maxSteps),
    eval_steps: 500,
    global_step: job.groups.length,
    is_hyper_param_search: false,
    is_local_process_zero: true,
    is_world_process_zero: true,
    log_history: logHistory(job),
    logging_steps: number(config.logging_steps, 500),
    max_steps: job.maxSteps,
    num_input_tokens_seen: 0,
    num_train_epochs: 1,
    save_steps: 500,
    total_flos: 0,
    train_batch_size: number(config.per_device_train_batch_size, 8),
    trial_name: null,
    trial_params: null,
  };
  // HF: json.dumps(..., indent=2, sort_keys=True) + "\n"
  writeFileSync(join(directory, "trainer_state.json"), JSON.stringify(state, null, 2) + "\n");
}
