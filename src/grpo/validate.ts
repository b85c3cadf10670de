/**
 * Checks a `musique train` configuration before any GPU time is spent. Arbor validates
 * num_generations only after vLLM has launched (and keeps those GPUs; arbor.md §2d), so a bad
 * combination is a UsageError (exit 2) here, with the numbers and a fix.
 */
import type { TrainOptions } from "../config/schemas.ts";
import { UsageError } from "../errors.ts";
import { arborBaseUrl } from "./arbor.ts";

export type TrainValidationSettings = Pick<
  TrainOptions,
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

/** GRPO group size against the trainer's effective batch (HEAD's ArborGRPOConfig check). */
export function checkGroupSize(settings: TrainValidationSettings): void {
  const groupSize = settings.numRolloutsPerStep;
  if (!Number.isInteger(groupSize) || groupSize < 2) {
    throw new UsageError(`--num-rollouts-per-step must be at least 2 (got ${groupSize})`, {
      cause: "GRPO compares rollouts of the same example; one rollout has no advantage",
      fix: "use --num-rollouts-per-step 8 (the reference value)",
    });
  }
  const perBatchFactor = settings.numTrainingGpus * settings.gradientAccumulation;
  const effective = settings.batchSize * perBatchFactor;
  if (effective % groupSize === 0) return;
  const valid = divisors(effective);
  const closest = [...valid].sort((a, b) => Math.abs(a - groupSize) - Math.abs(b - groupSize) || a - b)[0];
  const batch = nearestBatchSize(groupSize, settings.batchSize, perBatchFactor);
  throw new UsageError(
    `--num-rollouts-per-step ${groupSize} does not divide the effective train batch ` +
      `(--batch-size ${settings.batchSize} × --num-training-gpus ${settings.numTrainingGpus} × ` +
      `--gradient-accumulation ${settings.gradientAccumulation} = ${effective})`,
    {
      cause: "Arbor's trainer needs whole groups in every batch and would refuse the job after loading the model",
      fix:
        `use --num-rollouts-per-step ${closest ?? 2} (valid values for ${effective}: ${valid.join(", ")}), ` +
        `or --batch-size ${batch}`,
    },
  );
}

/** Dataset sizes against the per-step needs. */
export function checkDatasetSizes(settings: TrainValidationSettings, sizes: DatasetSizes): void {
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
export function checkEndpoints(settings: TrainValidationSettings): void {
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
      fix: `start the rerank service elsewhere (docker compose up rerank; default http://localhost:8931) or move Arbor with --port`,
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
