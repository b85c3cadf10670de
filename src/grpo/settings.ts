/**
 * The settings GRPO training takes, as the grpo/ layer defines them (issue 15 item 3): plain
 * values, not the `train` command's flag schema. `musique train`'s options (src/config/schemas.ts
 * TrainOptions) are passed as they are, so the type check fails if a flag and its setting part.
 * Meanings and defaults: README "Training" and src/config/defaults.ts.
 */
import type { ConcurrencySetting } from "../config/fields.ts";
import type { RewardVersion } from "../metrics/reward-versions.ts";
import type { NumHops } from "../program/hops.ts";
import type { RetrieverName } from "../retrieval/names.ts";
import type { CheckpointPolicy, FallbackSamples, ReportTo } from "./policies.ts";

export interface GrpoSettings {
  // the model and the Arbor job
  model: string;
  runName?: string;
  port: number;
  arborUrl?: string;
  baseUrl?: string[];
  dryRun: boolean;
  dryRunSteps: number;
  /** Step N+1's rollouts run while Arbor trains step N (--overlap-rollouts). */
  overlapRollouts: boolean;
  // GRPO and the trainer (Arbor's initialize request)
  temperature: number;
  klBeta: number;
  numRolloutsPerStep: number;
  batchSize: number;
  learningRate: number;
  gradientAccumulation: number;
  maxGradNorm: number;
  numTrainSteps: number;
  useLora: boolean;
  loraR: number;
  loraAlpha: number;
  loraDropout: number;
  numInferenceGpus: number;
  numTrainingGpus: number;
  numExamplesPerStep: number;
  reportTo: ReportTo;
  fallbackSamples: FallbackSamples;
  // the program's rollouts and their rewards
  numHops: NumHops;
  maxHops: number;
  retriever: RetrieverName;
  rerankUrl: string;
  topN: number;
  maxTokens: number;
  reward: RewardVersion;
  jsonFallback: boolean;
  seed: number;
  curriculum: boolean;
  concurrency: ConcurrencySetting;
  exampleTimeout: number;
  requestTimeout: number;
  // validation and checkpoints
  numStepsForVal: number;
  checkpoint: CheckpointPolicy;
}
