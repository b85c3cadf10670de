/**
 * The GRPO training loop (DSPy's GRPO.compile with multitask=True, over Arbor HEAD):
 *
 *   initialize the Arbor job → validate on dev (baseline, step 0) → for each step: pick k
 *   examples (seeded per-epoch shuffle), run N rollouts of each at --temperature with the job id
 *   as the model (no cache), reward = combined metric of the whole rollout (format failure → −1),
 *   build the groups, post them as the trainer asks for batch ids (never more than one step
 *   ahead), record everything → validate every --num-steps-for-val steps and after the last one,
 *   checkpoint per --checkpoint → terminate (Arbor saves checkpoint_final).
 *
 * Steps are counted from 0; a validation's step is the number of steps completed. With
 * `arbor: null` (--dry-run) nothing is sent: rollouts use `model`, groups go to `onGroups`, and
 * there is no validation or checkpoint. The caller (src/run/) loads data, creates the run,
 * validates the configuration (validate.ts) and owns the run status.
 */
import type { TrainOptions } from "../config/schemas.ts";
import type { Example } from "../data/types.ts";
import { InterruptedError, ServiceError } from "../errors.ts";
import type { ChatClient } from "../lm/types.ts";
import { log } from "../log.ts";
import type { Retriever } from "../retrieval/types.ts";
import type { Store } from "../store/database.ts";
import { recordCheckpoint, recordGroups, recordRollouts, recordTrainingStep } from "../store/training.ts";
import { groupAdvantages, mean, unbiasedStandardDeviation } from "./advantage.ts";
import type { ArborClient } from "./arbor.ts";
import { ARBOR_SERVICE } from "./arbor-errors.ts";
import type { GrpoStatus } from "./arbor-wire.ts";
import { BatchFeeder } from "./batches.ts";
import { checkpointName, evaluateOnDev, validationDue, type DevRunner, type DevScores } from "./evaluation.ts";
import { buildGroups, type GrpoGroup } from "./groups.ts";
import { runRollouts, type ProgramSettings, type ScoredRun } from "./rollouts.ts";
import { StepSampler } from "./sampler.ts";
import { buildInitializeRequest, type ArborTrainSettings } from "./trainer-config.ts";
import { isServiceFailure } from "../program/types.ts";

/** What the loop needs: the flags of the initialize request, plus those of rollouts and validation. */
export type GrpoLoopSettings = ArborTrainSettings &
  Pick<
    TrainOptions,
    | "seed"
    | "curriculum"
    | "topN"
    | "maxTokens"
    | "reward"
    | "concurrency"
    | "exampleTimeout"
    | "numStepsForVal"
    | "checkpoint"
    | "dryRunSteps"
  >;

/** The groups of one example in one step, as built and (unless dry run) posted. */
export interface StepGroups {
  step: number;
  example: Example;
  groups: GrpoGroup[];
  /** Arbor's batch id of each group (null in a dry run). */
  batchIds: Array<number | null>;
}

export interface GrpoLoopContext {
  store: Store;
  runId: number;
  train: readonly Example[];
  dev: readonly Example[];
  /** null: dry run (no Arbor). */
  arbor: ArborClient | null;
  client: ChatClient;
  retriever: Retriever;
  settings: GrpoLoopSettings;
  signal: AbortSignal;
  /** Runs and records the dev examples of each validation (src/run: the evaluate path). */
  runDev: DevRunner;
  /** Called with every step's groups (e.g. to write groups.jsonl). */
  onGroups?: (groups: readonly StepGroups[]) => void | Promise<void>;
  /** Resume: steps already completed (0 = a new run); the baseline validation is skipped. */
  startStep?: number;
  /** Resume: the best validation so far, so checkpoints only follow real improvements. */
  initialBest?: DevScores | null;
  /** Resume: initialize the Arbor job from this model (a checkpoint directory) instead of --model. */
  initialModel?: string;
  /** What to do with the Arbor job on Ctrl-C or failure: terminate (saves checkpoint_final) or cancel. */
  onStop?: "terminate" | "cancel";
  /** Called after every step (progress line). */
  onStep?: (progress: StepProgress) => void;
  /** Batch feeder overrides (tests). */
  pollIntervalMs?: number;
  stallTimeoutSeconds?: number;
}

export interface GrpoLoopSummary {
  jobId: string | null;
  stepsCompleted: number;
  validations: DevScores[];
  best: DevScores | null;
  checkpoints: Array<{ step: number; name: string; directory: string | null }>;
  groupsPosted: number;
}

interface StepResult {
  meanReward: number;
  rewardSpread: number;
  formatFailures: number;
  groups: number;
}

export interface StepProgress {
  /** Steps completed (1-based count). */
  completed: number;
  total: number;
  meanReward: number;
  /** Unbiased standard deviation of the rollout rewards of the step. */
  rewardSpread: number;
  formatFailures: number;
  groups: number;
  /** The latest validation reward, if any. */
  validation: number | null;
}

/** Run GRPO training to the end (or --dry-run-steps); throws InterruptedError on Ctrl-C. */
export async function runGrpoLoop(context: GrpoLoopContext): Promise<GrpoLoopSummary> {
  const { arbor, settings, signal } = context;
  const startStep = context.startStep ?? 0;
  const summary: GrpoLoopSummary = {
    jobId: null,
    stepsCompleted: startStep,
    validations: [],
    best: context.initialBest ?? null,
    checkpoints: [],
    groupsPosted: 0,
  };
  let job: GrpoStatus | null = null;
  if (arbor) {
    const initialModel = context.initialModel ?? settings.model;
    log.info(`initializing the Arbor GRPO job for ${initialModel} at ${arbor.baseUrl} (loading the model takes minutes)`);
    job = await arbor.initialize(buildInitializeRequest({ ...settings, model: initialModel }), signal);
    summary.jobId = job.jobId;
    log.info(`Arbor job ${job.jobId} is running; rollouts sample from it`);
  }
  const model = job?.currentModel ?? settings.model;
  const program: ProgramSettings = {
    client: context.client,
    retriever: context.retriever,
    topN: settings.topN,
    numHops: settings.numHops,
    maxHops: settings.maxHops,
    temperature: settings.temperature,
    maxTokens: settings.maxTokens,
    model,
    reward: settings.reward,
    concurrency: settings.concurrency,
    deadlineSeconds: settings.exampleTimeout,
  };
  const feeder =
    arbor && job
      ? new BatchFeeder({
          arbor,
          jobId: job.jobId,
          ...(context.pollIntervalMs === undefined ? {} : { pollIntervalMs: context.pollIntervalMs }),
          ...(context.stallTimeoutSeconds === undefined ? {} : { stallTimeoutSeconds: context.stallTimeoutSeconds }),
        })
      : null;
  const sampler = new StepSampler(context.train.length, {
    examplesPerStep: settings.numExamplesPerStep,
    seed: settings.seed,
    shuffle: !settings.curriculum,
  });
  const totalSteps = arbor ? settings.numTrainSteps : Math.min(settings.dryRunSteps, settings.numTrainSteps);

  const validate = async (completed: number): Promise<void> => {
    if (!arbor || !job) return;
    const best = summary.best?.reward ?? null;
    const scores = await evaluateOnDev(context.store, context.runId, completed, context.dev, program, signal, best, context.runDev);
    summary.validations.push(scores);
    const name = checkpointName(settings.checkpoint, scores, best);
    if (best === null || scores.reward > best) summary.best = scores;
    if (name === null) return;
    const status = await arbor.checkpoint(job.jobId, name, { step: completed, scores }, signal);
    const record = status.checkpoints[name];
    recordCheckpoint(context.store, context.runId, {
      step: completed,
      name,
      directory: record?.directory ?? null,
      metadata: { step: completed, scores },
      arborRecord: record ?? null,
    });
    summary.checkpoints = summary.checkpoints.filter((entry) => entry.name !== name);
    summary.checkpoints.push({ step: completed, name, directory: record?.directory ?? null });
    log.info(`checkpoint ${name} saved${record ? ` at ${record.directory}` : ""}`);
  };

  try {
    if (startStep === 0) await validate(0);
    for (let step = startStep; step < totalSteps; step++) {
      if (signal.aborted) throw signal.reason ?? new InterruptedError();
      const result = await runStep(context, step, sampler, program, feeder);
      summary.stepsCompleted = step + 1;
      summary.groupsPosted = feeder?.postedCount ?? 0;
      if (validationDue(step + 1, settings.numStepsForVal, totalSteps)) await validate(step + 1);
      context.onStep?.({
        completed: step + 1,
        total: totalSteps,
        meanReward: result.meanReward,
        rewardSpread: result.rewardSpread,
        formatFailures: result.formatFailures,
        groups: result.groups,
        validation: summary.validations.at(-1)?.reward ?? null,
      });
    }
    if (arbor && job) {
      const final = await arbor.terminate(job.jobId, signal);
      recordFinal(context, summary, final);
    }
    return summary;
  } catch (error) {
    if (arbor && job) await stopAfterFailure(arbor, job.jobId, error, context.onStop ?? "terminate");
    throw error;
  }
}

function recordFinal(context: GrpoLoopContext, summary: GrpoLoopSummary, status: GrpoStatus): void {
  const final = status.checkpoints.checkpoint_final;
  if (!final) return;
  recordCheckpoint(context.store, context.runId, {
    step: summary.stepsCompleted,
    name: final.name,
    directory: final.directory,
    metadata: final.metadata,
    arborRecord: final,
  });
  summary.checkpoints.push({ step: summary.stepsCompleted, name: final.name, directory: final.directory });
  log.info(`Arbor saved ${final.name} at ${final.directory}`);
}

/** Best effort: keep what was learned (terminate saves checkpoint_final) and free the trainer. */
async function stopAfterFailure(arbor: ArborClient, jobId: string, error: unknown, how: "terminate" | "cancel"): Promise<void> {
  const reason = error instanceof InterruptedError ? "interrupted" : "failed";
  const what = how === "terminate" ? "terminate" : "cancel";
  log.warn(
    `training ${reason}; asking Arbor to ${what} job ${jobId}` +
      (how === "terminate" ? " (saves checkpoint_final, keeps vLLM serving it)" : " (frees its GPUs, saves nothing)"),
  );
  try {
    if (how === "terminate") await arbor.terminate(jobId, AbortSignal.timeout(120_000));
    else await arbor.cancel(jobId, AbortSignal.timeout(120_000));
  } catch (stopError) {
    log.warn(
      `could not ${what} Arbor job ${jobId}: ${stopError instanceof Error ? stopError.message : String(stopError)}; ` +
        "restart Arbor to free its GPUs",
    );
  }
}

async function runStep(
  context: GrpoLoopContext,
  step: number,
  sampler: StepSampler,
  program: ProgramSettings,
  feeder: BatchFeeder | null,
): Promise<StepResult> {
  const { store, runId, settings, signal } = context;
  recordTrainingStep(store, runId, { step, status: "running" });
  const examples = sampler.select(context.train, step);
  const rollouts = await runRollouts(examples, settings.numRolloutsPerStep, program, signal);
  const flat = rollouts.flat();
  recordRollouts(
    store,
    runId,
    step,
    flat.map((run) => ({ exampleId: run.example.id, rolloutIndex: run.rolloutIndex, result: run.result, score: run.score })),
  );
  const usable = flat.filter((run) => !isServiceFailure(run.result.failure));
  if (usable.length === 0) {
    recordTrainingStep(store, runId, { step, status: "failed", numGroups: 0 });
    throw new ServiceError(`every rollout of step ${step + 1} failed on a service error`, {
      service: ARBOR_SERVICE,
      url: context.arbor?.baseUrl ?? program.model,
      retryable: false,
      cause: flat[0]?.result.failure?.message ?? "no rollout finished",
      fix: "check that Arbor (or the LM server) and the retriever's services are up",
    });
  }

  const stepGroups: StepGroups[] = rollouts.map((runs) => exampleGroups(step, runs, settings.numRolloutsPerStep));
  const allGroups = stepGroups.flatMap((entry) => entry.groups);
  const formatFailures = flat.filter((run) => run.result.failure?.kind === "format").length;
  const rewards = usable.map((run) => run.reward);
  const metrics = { mean_reward: mean(rewards), format_failures: formatFailures, step: step + 1 };

  let arborResponse: GrpoStatus | null = null;
  if (feeder && allGroups.length > 0) {
    const posted = await feeder.post(
      allGroups.map((group) => group.samples),
      metrics,
      signal,
    );
    arborResponse = posted.lastStatus;
    let index = 0;
    for (const entry of stepGroups) entry.batchIds = entry.groups.map(() => posted.batchIds[index++] ?? null);
  } else if (allGroups.length === 0) {
    log.warn(`step ${step + 1}: no trainable groups (every rollout failed before its first module call finished)`);
  }

  recordGroups(
    store,
    runId,
    step,
    stepGroups.flatMap((entry) =>
      entry.groups.map((group, position) => ({
        exampleId: entry.example.id,
        module: group.module,
        invocation: group.invocation,
        batchId: entry.batchIds[position] ?? null,
        rewards: group.samples.map((sample) => sample.reward),
        advantages: groupAdvantages(group.samples.map((sample) => sample.reward)),
        request: group.samples,
        response: null,
      })),
    ),
  );
  if (context.onGroups) await context.onGroups(stepGroups);
  recordTrainingStep(store, runId, {
    step,
    status: allGroups.length > 0 ? "completed" : "skipped",
    meanReward: metrics.mean_reward,
    rewardStd: unbiasedStandardDeviation(rewards),
    formatFailures,
    numGroups: allGroups.length,
    arborResponse,
    metrics,
  });
  return { meanReward: metrics.mean_reward, rewardSpread: unbiasedStandardDeviation(rewards), formatFailures, groups: allGroups.length };
}

function exampleGroups(step: number, runs: readonly ScoredRun[], groupSize: number): StepGroups {
  const example = runs[0]?.example;
  if (!example) throw new Error("an example produced no rollouts");
  const built = buildGroups(
    runs.map((run) => ({ result: run.result, reward: run.reward })),
    { groupSize },
  );
  if (built.droppedRollouts.length > 0) {
    log.debug(`step ${step + 1}, example ${example.id}: ${built.droppedRollouts.length} rollouts left out after LM errors`);
  }
  for (const group of built.groups) {
    if (new Set(group.samples.map((sample) => JSON.stringify(sample))).size < 2) {
      log.debug(`step ${step + 1}, example ${example.id}: the ${group.module} group has no diversity (identical samples)`);
    }
  }
  return { step, example, groups: built.groups, batchIds: built.groups.map(() => null) };
}
