/**
 * What the fake Arbor (arbor.ts) knows about the processes behind a real Arbor HEAD job, as seen
 * against Arbor's own server code (../shared/tools/arbor-real; docs/specs/arbor.md §2d, §3):
 *
 * - The trainer: HF Trainer's epoch / gradient-accumulation loop over Arbor's dataloader (the
 *   stand-in's emulation of transformers 4.5x `_inner_training_loop`): len(dataloader) =
 *   ceil(max_steps / per_device_train_batch_size), an optimizer step every `accumulation`
 *   micro-steps and at every epoch end, one group fetched every `accumulation` micro-steps, exit at
 *   max_steps optimizer steps. When the epoch length is not a multiple of the accumulation, the
 *   trainer exits having consumed fewer than max_steps groups ("epoch / accumulation drift").
 * - The trainer's own checks: max_steps > 0 and num_generations ≥ GPUs × accumulation (it dies
 *   before its control socket answers, so initialize never answers); ArborGRPOConfig's (400).
 * - The GPUs: Arbor's GPUManager allocates inference + training GPUs per job id; terminate keeps
 *   them (vLLM goes on serving), cancel frees them; a failed or hung initialize keeps them.
 */

/** Groups a trainer consumes before it leaves its loop at `maxSteps` optimizer steps. */
export function groupsBeforeTrainerExit(maxSteps: number, batchSize: number, accumulation: number): number {
  const datasetLength = Math.max(1, maxSteps * accumulation);
  const batchesPerEpoch = Math.ceil(datasetLength / (batchSize * accumulation));
  const updatesPerEpoch = Math.max(Math.floor(batchesPerEpoch / accumulation) + (batchesPerEpoch % accumulation > 0 ? 1 : 0), 1);
  const epochs = Math.ceil(maxSteps / updatesPerEpoch);
  let microSteps = 0;
  let optimizerSteps = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let step = 0; step < batchesPerEpoch; step++) {
      microSteps += 1;
      if ((step + 1) % accumulation === 0 || step + 1 === batchesPerEpoch) optimizerSteps += 1;
      if (optimizerSteps >= maxSteps) return Math.ceil(microSteps / accumulation);
    }
  }
  return Math.ceil(microSteps / accumulation);
}

export interface TrainerConfig {
  numGenerations: number;
  batchSize: number;
  accumulation: number;
  gpus: number;
  maxSteps: number;
}

/** The trainer settings of an initialize body, with ArborGRPOConfig's defaults. */
export function trainerConfigOf(request: Record<string, unknown>): TrainerConfig {
  const trainer = (request.trainer_config ?? {}) as Record<string, unknown>;
  const gpuConfig = (request.gpu_config ?? {}) as { multi?: { num_training_gpus?: unknown } };
  const number = (value: unknown, fallback: number): number => (typeof value === "number" ? value : fallback);
  return {
    numGenerations: number(trainer.num_generations, 8),
    batchSize: number(trainer.per_device_train_batch_size, 8),
    accumulation: number(trainer.gradient_accumulation_steps, 1),
    gpus: number(gpuConfig.multi?.num_training_gpus, 1),
    maxSteps: number(trainer.max_steps, -1),
  };
}

/** ArborGRPOConfig.__post_init__'s group-size check (a ValueError, answered 400), or null. */
export function configError(config: TrainerConfig): string | null {
  const effective = config.batchSize * config.gpus * config.accumulation;
  if (config.numGenerations < 2) {
    return `GRPO requires at least 2 generations per prompt to calculate the advantages. You provided ${config.numGenerations}, which is less than the minimum required.`;
  }
  if (effective % config.numGenerations === 0) return null;
  const possible: number[] = [];
  for (let count = 2; count <= effective; count++) if (effective % count === 0) possible.push(count);
  return (
    `The effective train batch size (${config.gpus} x ${config.batchSize} x ${config.accumulation}) must be evenly divisible by the number of generations per ` +
    `prompt (${config.numGenerations}). Given the current effective train batch size, the valid values for the number of generations are: [${possible.join(", ")}].`
  );
}

/** Why the trainer process dies in its __init__ (initialize then never answers), or null. */
export function trainerStartError(config: TrainerConfig): string | null {
  if (config.maxSteps <= 0) return "ArborGRPOTrainer requires a finite `max_steps` when batches are supplied externally.";
  if (config.numGenerations < config.gpus * config.accumulation) {
    return `num_generations must be >= world_size * gradient_accumulation_steps. Got num_generations=${config.numGenerations}, world_size=${config.gpus}, gradient_accumulation_steps=${config.accumulation}`;
  }
  return null;
}

/**
 * Arbor's GPUManager over `count` fake GPUs. A GPU is unavailable while allocated to a job id or
 * physically busy (a process on it, as NVML reports). Allocations are keyed by job id: a reused id
 * replaces the old record, and what the old job's processes still run on stays busy for good.
 */
export class GpuPool {
  private readonly allocations = new Map<string, { inference: number[]; training: number[] }>();
  private readonly orphaned = new Set<number>();

  constructor(private readonly count: number) {}

  /** Allocate GPUs to `owner`, or return GPUAllocationError's message. */
  allocate(owner: string, inference: number, training: number): { inference: number[]; training: number[] } | string {
    const allocated = new Set([...this.allocations.values()].flatMap((entry) => [...entry.inference, ...entry.training]));
    const busy = new Set([...allocated, ...this.orphaned]);
    const free = [...Array(this.count).keys()].filter((gpu) => !busy.has(gpu));
    const wanted = inference + training;
    if (free.length < wanted) {
      const sorted = (values: Iterable<number>) => [...values].sort((a, b) => a - b).join(", ");
      return `Not enough free GPUs. Requested: ${wanted}, Free: [${free.join(", ")}], Busy: [${sorted(busy)}], Allocated: [${sorted(allocated)}]`;
    }
    const given = { inference: free.slice(0, inference), training: free.slice(inference, wanted) };
    this.allocations.set(owner, given);
    return given;
  }

  /** A job id is about to be reused: its old processes keep their GPUs busy, unreachable. */
  orphan(owner: string, vllmRunning: boolean, trainerRunning: boolean): void {
    const entry = this.allocations.get(owner);
    if (!entry) return;
    if (vllmRunning) for (const gpu of entry.inference) this.orphaned.add(gpu);
    if (trainerRunning) for (const gpu of entry.training) this.orphaned.add(gpu);
    this.allocations.delete(owner);
  }

  release(owner: string): void {
    this.allocations.delete(owner);
  }

  /** GPUs that no new job can get (allocated or busy). */
  get unavailable(): number {
    return new Set([...[...this.allocations.values()].flatMap((entry) => [...entry.inference, ...entry.training]), ...this.orphaned]).size;
  }
}
