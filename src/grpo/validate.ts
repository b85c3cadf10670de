/**
 * Checks a `musique train` configuration before any GPU time is spent. Arbor validates
 * num_generations only after vLLM has launched (and keeps those GPUs; arbor.md §2d), and its
 * trainer checks its own rules after loading the model (initialize then hangs), so every bad
 * combination is a UsageError (exit 2) here, with the numbers and values that work.
 */
import type { GrpoSettings } from "./settings.ts";
import { UsageError } from "../errors.ts";
import { arborBaseUrl } from "./arbor.ts";

export type TrainValidationSettings = Pick<
  GrpoSettings,
  | "numRolloutsPerStep"
  | "batchSize"
  | "gradientAccumulation"
  | "numTrainingGpus"
  | "numInferenceGpus"
  | "numExamplesPerStep"
  | "temperature"
  | "port"
  | "arborUrl"
  | "baseUrl"
  | "rerankUrl"
  | "retriever"
  | "dryRun"
>;

export interface DatasetSizes {
  /** Training examples after preparation (and --train-size). */
  train: number;
  /** Validation examples after preparation (and --dev-size). */
  dev: number;
}

function divisors(value: number): number[] {
  const result: number[] = [];
  for (let candidate = 2; candidate <= value; candidate++) if (value % candidate === 0) result.push(candidate);
  return result;
}

/** The smallest per-device batch size ≥ `from` for which the effective batch is divisible by `groupSize`. */
export function nearestBatchSize(groupSize: number, from: number, perBatchFactor: number): number {
  for (let batch = Math.max(1, from); ; batch++) if ((batch * perBatchFactor) % groupSize === 0) return batch;
}

type GroupSettings = Pick<TrainValidationSettings, "numRolloutsPerStep" | "batchSize" | "gradientAccumulation" | "numTrainingGpus">;

/** Group sizes every trainer rule accepts: multiples of GPUs × accumulation that divide the effective batch. */
export function workingRolloutCounts(settings: GroupSettings): number[] {
  const unit = settings.numTrainingGpus * settings.gradientAccumulation;
  const effective = settings.batchSize * unit;
  const counts: number[] = [];
  for (let count = unit; count <= effective; count += unit) if (count >= 2 && effective % count === 0) counts.push(count);
  return counts;
}

/** Accumulation values every trainer rule accepts for the current group size, batch size and GPUs. */
export function workingAccumulations(settings: GroupSettings): number[] {
  const groupSize = settings.numRolloutsPerStep;
  const values: number[] = [];
  for (let accumulation = 1; accumulation * settings.numTrainingGpus <= groupSize; accumulation++) {
    const unit = settings.numTrainingGpus * accumulation;
    if (groupSize % unit === 0 && (settings.batchSize * unit) % groupSize === 0) values.push(accumulation);
  }
  return values;
}

/** Training GPU counts every trainer rule accepts for the current group size, batch size and accumulation. */
function workingTrainingGpus(settings: GroupSettings): number[] {
  const groupSize = settings.numRolloutsPerStep;
  const values: number[] = [];
  for (let gpus = 1; gpus * settings.gradientAccumulation <= groupSize; gpus++) {
    const unit = gpus * settings.gradientAccumulation;
    if (groupSize % unit === 0 && (settings.batchSize * unit) % groupSize === 0) values.push(gpus);
  }
  return values;
}

/** The rollouts of one group each trainer GPU and micro-step gets (HEAD `_prepare_inputs`), and how many are dropped. */
export function rolloutsTrained(settings: GroupSettings): { trained: number; dropped: number } {
  const { numRolloutsPerStep: groupSize, numTrainingGpus: gpus, gradientAccumulation: accumulation } = settings;
  const perGpu = Math.ceil(groupSize / gpus);
  let trained = 0;
  for (let gpu = 0; gpu < gpus; gpu++) {
    const slice = Math.max(0, Math.min(perGpu, groupSize - gpu * perGpu));
    trained += Math.floor(slice / accumulation) * accumulation;
  }
  return { trained, dropped: groupSize - trained };
}

function fixFor(settings: GroupSettings): string {
  const counts = workingRolloutCounts(settings);
  const accumulations = workingAccumulations(settings);
  const parts: string[] = [];
  if (counts.length > 0) parts.push(`--num-rollouts-per-step ${counts.join(" or ")}`);
  if (accumulations.length > 0) parts.push(`--gradient-accumulation ${accumulations.join(" or ")}`);
  const gpus = workingTrainingGpus(settings).filter((count) => count !== settings.numTrainingGpus);
  if (gpus.length > 0) parts.push(`--num-training-gpus ${gpus.join(" or ")}`);
  return parts.length > 0 ? `use ${parts.join(", or ")}` : "use --num-rollouts-per-step 8 --gradient-accumulation 4 --num-training-gpus 2 --batch-size 8";
}

/**
 * Every rule Arbor HEAD's ArborGRPOConfig and trainer enforce on the group size (arbor.md §2d), in
 * the order a job would meet them. Arbor checks the first two only after vLLM has launched, and
 * the trainer checks the third after loading the model: the trainer then dies before its control
 * socket answers, initialize never returns and the job's GPUs stay taken until Arbor restarts.
 */
function checkGroupSize(settings: TrainValidationSettings): void {
  const groupSize = settings.numRolloutsPerStep;
  const gpus = settings.numTrainingGpus;
  const accumulation = settings.gradientAccumulation;
  const fix = fixFor(settings);
  if (!Number.isInteger(groupSize) || groupSize < 2) {
    throw new UsageError(`--num-rollouts-per-step must be at least 2 (got ${groupSize})`, {
      cause: "GRPO compares rollouts of the same example; one rollout has no advantage",
      fix: "use --num-rollouts-per-step 8 (the reference value)",
    });
  }
  const unit = gpus * accumulation;
  if (groupSize < unit) {
    throw new UsageError(`--num-rollouts-per-step ${groupSize} is fewer than --num-training-gpus ${gpus} × --gradient-accumulation ${accumulation} = ${unit}`, {
      cause:
        "Arbor's trainer splits each group over its GPUs and then over the accumulation micro-steps, and stops with " +
        '"num_generations must be >= world_size * gradient_accumulation_steps"; initialize then never answers and the GPUs stay taken',
      fix,
    });
  }
  if (groupSize % unit !== 0) {
    const { trained, dropped } = rolloutsTrained(settings);
    throw new UsageError(
      `--num-rollouts-per-step ${groupSize} is not a multiple of --num-training-gpus ${gpus} × --gradient-accumulation ${accumulation} = ${unit}`,
      {
        cause:
          dropped > 0
            ? `Arbor's trainer would train only ${trained} of the ${groupSize} rollouts of every group and silently drop ${dropped} (it splits a group over its GPUs, then into equal micro-batches, and discards the remainder)`
            : `Arbor's trainer would split every group unevenly over its ${gpus} GPUs (${Math.ceil(groupSize / gpus)} rollouts each, the last ones fewer or none; a GPU with none crashes the trainer)`,
        fix,
      },
    );
  }
  const effective = settings.batchSize * unit;
  if (effective % groupSize === 0) return;
  const valid = divisors(effective);
  const batch = nearestBatchSize(groupSize, settings.batchSize, unit);
  throw new UsageError(
    `--num-rollouts-per-step ${groupSize} does not divide the effective train batch ` +
      `(--batch-size ${settings.batchSize} × --num-training-gpus ${gpus} × --gradient-accumulation ${accumulation} = ${effective})`,
    {
      cause: `Arbor's ArborGRPOConfig refuses it (valid group sizes for ${effective}: ${valid.join(", ")}) after vLLM has launched, and keeps the GPUs`,
      fix: `${fix}, or --batch-size ${batch}`,
    },
  );
}

/** Dataset sizes against the per-step needs. */
function checkDatasetSizes(settings: TrainValidationSettings, sizes: DatasetSizes): void {
  if (sizes.train < settings.numExamplesPerStep) {
    throw new UsageError(
      `--num-examples-per-step ${settings.numExamplesPerStep} needs at least ${settings.numExamplesPerStep} training ` +
        `examples, but the prepared training set has ${sizes.train}`,
      {
        cause: "--train-size, --datasets or filtering left too few examples",
        fix: `raise --train-size, use a larger --datasets slice, or lower --num-examples-per-step to ${Math.max(1, sizes.train)}`,
      },
    );
  }
  if (sizes.dev < 1 && !settings.dryRun) {
    throw new UsageError("the validation set is empty, so training cannot be validated or checkpointed", {
      cause: "--eval-datasets or --dev-size selected no examples",
      fix: "check --eval-datasets, or raise --dev-size",
    });
  }
}

function origin(text: string): string {
  const url = new URL(text);
  return `${url.protocol}//${url.hostname === "127.0.0.1" ? "localhost" : url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}

/** Rollouts must sample from the Arbor job: --base-url (if given) must be that Arbor server. */
function checkEndpoints(settings: TrainValidationSettings): void {
  if (settings.dryRun) return;
  const arbor = arborBaseUrl({ arborUrl: settings.arborUrl, port: settings.port });
  const baseUrls = settings.baseUrl ?? [];
  if (baseUrls.length > 1) {
    throw new UsageError(`training takes one --base-url (the Arbor server), got ${baseUrls.length}`, {
      cause: "rollouts must sample from the Arbor job's own vLLM, which only Arbor serves",
      fix: `drop --base-url (it defaults to the Arbor server ${arbor})`,
    });
  }
  const chat = baseUrls[0];
  if (chat !== undefined && origin(chat) !== origin(arbor)) {
    throw new UsageError(`--base-url ${chat} is not the Arbor server ${arbor}`, {
      cause: "rollouts call the job id as the model, which only Arbor's /v1/chat/completions serves",
      fix: "drop --base-url, or make --base-url and --arbor-url point at the same host and port",
    });
  }
  const needsRerank = settings.retriever === "hybrid" || settings.retriever === "semantic";
  if (needsRerank && origin(settings.rerankUrl) === origin(arbor)) {
    throw new UsageError(`--rerank-url ${settings.rerankUrl} points at the Arbor server ${arbor}`, {
      cause: "the rerank service and Arbor cannot share a port",
      fix: `start the rerank service elsewhere (docker compose up rerank in a folder \`musique init\` set up; default http://localhost:8931) or move Arbor with --port`,
    });
  }
}

/** Everything above; throws the first UsageError. */
export function validateTrainConfig(settings: TrainValidationSettings, sizes?: DatasetSizes): void {
  checkGroupSize(settings);
  if (!(settings.temperature > 0)) {
    throw new UsageError(`--temperature ${settings.temperature} makes every rollout identical`, {
      cause: "GRPO learns from differences between rollouts of one example; at temperature 0 all advantages are 0",
      fix: "use --temperature 0.7 (the reference value)",
    });
  }
  checkEndpoints(settings);
  if (sizes !== undefined) checkDatasetSizes(settings, sizes);
}
