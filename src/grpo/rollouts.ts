/**
 * Rollouts of one GRPO step: N runs of the program per example at the training temperature,
 * sampling from the Arbor job (model = job id, never from the response cache), each scored with
 * the combined reward of the whole run. Validation runs the dev set with the same program
 * settings through `runOnce` (DSPy validates the student with its training LM).
 */
import type { NumHops } from "../program/hops.ts";
import type { RewardVersion } from "../metrics/reward-versions.ts";
import type { Example } from "../data/types.ts";
import { InterruptedError, stopsRun } from "../errors.ts";
import { Limiter, type ConcurrencyGauge } from "../http/limit.ts";
import type { ChatClient } from "../lm/types.ts";
import { FORMAT_FAILURE_REWARD, scoreExample, type ExampleScore } from "../metrics/reward.ts";
import { failedRun } from "../program/failure.ts";
import { runMultiHop } from "../program/multihop.ts";
import type { ProgramResult } from "../program/types.ts";
import type { Program } from "../program/signatures.ts";
import type { Retriever } from "../retrieval/types.ts";

export interface ProgramSettings {
  client: ChatClient;
  retriever: Retriever;
  topN: number;
  numHops: NumHops;
  maxHops: number;
  temperature: number;
  maxTokens: number;
  /** The Arbor job id (or the base model in a dry run). */
  model: string;
  reward: RewardVersion;
  /** Program runs in flight at once (--concurrency; with auto, a gauge following the LM servers: run/concurrency.ts). */
  concurrency: number | ConcurrencyGauge;
  /** Whole-run deadline (--example-timeout). */
  deadlineSeconds?: number;
  /** DSPy's JSONAdapter fallback (--json-fallback, default on). */
  jsonFallback?: boolean;
  /** The predictors (--program FILE); default: the reference script's. */
  program?: Program;
}

export interface ScoredRun {
  example: Example;
  /** 0…N−1 for training rollouts; −1 for a validation run. */
  rolloutIndex: number;
  result: ProgramResult;
  score: ExampleScore;
  /** The GRPO reward of the whole run: the combined reward, or −1 if a call broke the format. */
  reward: number;
}

/**
 * DSPy's GRPO reward of a rollout: the metric, except that a format failure scores the whole
 * rollout format_failure_score (−1), so every sample of that rollout carries −1.
 */
function rolloutReward(result: ProgramResult, score: ExampleScore): number {
  return result.failure?.kind === "format" ? FORMAT_FAILURE_REWARD : score.reward;
}

/** One program run; service failures that are not fatal become an LM failure in the result. */
export async function runOnce(example: Example, settings: ProgramSettings, signal: AbortSignal): Promise<ProgramResult> {
  try {
    return await runMultiHop(example, {
      client: settings.client,
      retriever: settings.retriever,
      topN: settings.topN,
      numHops: settings.numHops,
      maxHops: settings.maxHops,
      temperature: settings.temperature,
      maxTokens: settings.maxTokens,
      model: settings.model,
      noCache: true,
      ...(settings.deadlineSeconds === undefined ? {} : { deadlineSeconds: settings.deadlineSeconds }),
      ...(settings.jsonFallback === undefined ? {} : { jsonFallback: settings.jsonFallback }),
      ...(settings.program ? { program: settings.program } : {}),
      signal,
    });
  } catch (error) {
    if (error instanceof InterruptedError || signal.aborted) throw signal.reason ?? error;
    if (stopsRun(error)) throw error;
    return failedRun(error);
  }
}

function scored(example: Example, rolloutIndex: number, result: ProgramResult, reward: RewardVersion): ScoredRun {
  const score = scoreExample(example, result, reward);
  return { example, rolloutIndex, result, score, reward: rolloutReward(result, score) };
}

/** N rollouts of every example, all in flight together (bounded by settings.concurrency). */
export async function runRollouts(
  examples: readonly Example[],
  rolloutsPerExample: number,
  settings: ProgramSettings,
  signal: AbortSignal,
): Promise<ScoredRun[][]> {
  const limiter = new Limiter(settings.concurrency);
  try {
    return await Promise.all(
      examples.map((example) =>
        Promise.all(
          Array.from({ length: rolloutsPerExample }, (_, rolloutIndex) =>
            limiter.run(async () => scored(example, rolloutIndex, await runOnce(example, settings, signal), settings.reward)),
          ),
        ),
      ),
    );
  } finally {
    limiter.close();
  }
}
