/**
 * Validation during training (DSPy's report_validation_metrics): run the program once per dev
 * example with the job's current weights, record every prediction under the number of GRPO steps
 * completed (0 = the baseline before training), and decide whether to checkpoint. The dev runs
 * are made and recorded by the caller's `DevRunner` (src/run: the same path as `evaluate`).
 */
import type { CheckpointPolicy } from "./policies.ts";
import type { Example } from "../data/types.ts";
import { log } from "../log.ts";
import { averageOf } from "../metrics/index.ts";
import type { ExampleScore } from "../metrics/index.ts";
import type { Store } from "../store/database.ts";
import { recordValidation } from "../store/training.ts";
import type { ProgramSettings } from "./rollouts.ts";
import { isServiceFailure, type ProgramResult } from "../program/types.ts";
import { missingCauses } from "../metrics/run-scores.ts";

/** One dev example's run and its score (already recorded by the runner). */
interface DevRun {
  example: Example;
  result: ProgramResult;
  score: ExampleScore;
}

/** Runs the dev examples of a validation with `program` and records each prediction under `step`. */
export type DevRunner = (step: number, dev: readonly Example[], program: ProgramSettings, signal: AbortSignal) => Promise<DevRun[]>;

export interface DevScores {
  /** GRPO steps completed when the validation ran (0 = baseline). */
  step: number;
  /** Mean combined reward: the validation score checkpoints follow. */
  reward: number;
  em: number;
  f1: number;
  recall: number;
  supportF1: number;
  examples: number;
  formatFailures: number;
  /** Dev examples without a result (service failures): left out of the means. */
  lmErrors: number;
}

/** The dev examples without a result by their real cause (LM, retrieval, deadline), as evaluate counts them. */
function causesOf(runs: readonly DevRun[]): { missing: number; lm_errors: number; retrieval_errors: number; deadlines: number } {
  const failures = runs.flatMap((run) => (run.result.failure && isServiceFailure(run.result.failure) ? [run.result.failure] : []));
  const retrieval = failures.filter((failure) => failure.kind === "service" && failure.service === "retrieval").length;
  const deadlines = failures.filter((failure) => failure.kind === "deadline").length;
  return { missing: failures.length, lm_errors: failures.length - retrieval - deadlines, retrieval_errors: retrieval, deadlines };
}

export async function evaluateOnDev(
  store: Store,
  runId: number,
  step: number,
  dev: readonly Example[],
  settings: ProgramSettings,
  signal: AbortSignal,
  best: number | null,
  runDev: DevRunner,
): Promise<DevScores> {
  const runs = await runDev(step, dev, settings, signal);
  // Service failures are not scores: the means are over the examples with a result.
  const results = runs.filter((run) => !isServiceFailure(run.result.failure));
  const scores: DevScores = {
    step,
    // Evaluation scores the metric; a failed example scores 0 (DSPy's Evaluate, failure_score=0).
    reward: averageOf(results.map((run) => run.score.reward)),
    em: averageOf(results.map((run) => run.score.em)),
    f1: averageOf(results.map((run) => run.score.f1)),
    recall: averageOf(results.map((run) => run.score.recall)),
    supportF1: averageOf(results.map((run) => run.score.supportF1)),
    examples: results.length,
    formatFailures: results.filter((run) => run.result.failure?.kind === "format").length,
    lmErrors: runs.length - results.length,
  };
  const isBest = best === null || scores.reward > best;
  recordValidation(store, runId, {
    step,
    em: scores.em,
    f1: scores.f1,
    recall: scores.recall,
    supportF1: scores.supportF1,
    reward: scores.reward,
    nExamples: scores.examples,
    isBest,
  });
  log.info(
    `validation after ${step} step${step === 1 ? "" : "s"}: reward ${scores.reward.toFixed(4)}, EM ${scores.em.toFixed(3)}, ` +
      `F1 ${scores.f1.toFixed(3)}, recall ${scores.recall.toFixed(3)} on ${scores.examples} dev examples` +
      (scores.formatFailures > 0 ? ` (${scores.formatFailures} format failures)` : "") +
      (scores.lmErrors > 0 ? `; ${scores.lmErrors} of ${runs.length} dev examples have no result (${missingCauses(causesOf(runs))}) and are left out` : "") +
      (isBest && best !== null ? " — new best" : ""),
  );
  return scores;
}

/** DSPy validates before training, every N steps, and after the last step. */
export function validationDue(completedSteps: number, numStepsForValidation: number, totalSteps: number): boolean {
  return completedSteps === 0 || completedSteps === totalSteps || completedSteps % numStepsForValidation === 0;
}

/**
 * The checkpoint to save after a validation, or null: whenever a validation beats the best so
 * far, the first one (the baseline) included. single-best keeps one directory, "best", replaced
 * on every improvement (Arbor replaces a checkpoint directory of the same name); improvements
 * keeps step_<n> for each improvement.
 */
export function checkpointName(policy: CheckpointPolicy, scores: DevScores, best: number | null): string | null {
  if (policy === "none") return null;
  if (best !== null && !(scores.reward > best)) return null;
  return policy === "single-best" ? "best" : `step_${scores.step}`;
}
