/**
 * The GRPO training loop (DSPy's GRPO.compile with multitask=True, over Arbor HEAD):
 *
 *   initialize the Arbor job → validate on dev (baseline, step 0) → for each step: pick k
 *   examples (seeded per-epoch shuffle), run N rollouts of each at --temperature with the job id
 *   as the model (no cache), reward = combined metric of the whole rollout (format failure → −1),
 *   build the groups, post them as the trainer asks for batch ids, record everything → validate
 *   every --num-steps-for-val steps and after the last one, checkpoint per --checkpoint →
 *   terminate (Arbor saves checkpoint_final).
 *
 * No idle trainer (issue 19 item 3): once step N's rollouts are done, step N+1's run while step
 * N's groups are posted and trained (--overlap-rollouts, the default), so the trainer finds the
 * next group ready. Never more than one step ahead: step N+2's rollouts start only after the
 * trainer has asked for every group of step N. A step followed by a validation is not overlapped
 * (the validation samples the weights trained on it). Step N+1's results are recorded only after
 * step N is, so the store and a resume see steps in order. Per step the store keeps the rollout
 * time, the time musique waited for the trainer to ask, and the time the trainer waited for
 * musique (batches.ts).
 *
 * The Arbor job is an ArborJob (jobs.ts): recorded before initialize, with a run name unique per
 * job, its checkpoints recorded with it, ended by terminate, or on a failure or stop signal by
 * --on-interrupt (terminate or cancel; a lost trainer is always cancelled).
 *
 * Steps are numbered from 1: step N's rollouts, groups and rewards are recorded under N, and a
 * validation under the number of steps completed (0 = before training), so step N is followed by
 * the validation "after N steps" with the same number (docs/store.md "Conventions"). With
 * `arbor: null` (--dry-run) nothing is sent: rollouts use `model`, groups go to `onGroups`, and
 * there is no validation or checkpoint. The caller (src/run/) loads data, creates the run,
 * validates the configuration (validate.ts) and owns the run status.
 */
import { DEFAULTS } from "../config/defaults.ts";
import type { GrpoSettings } from "./settings.ts";
import type { ConcurrencyGauge } from "../http/limit.ts";
import type { Example } from "../data/types.ts";
import { InterruptedError, ServiceError } from "../errors.ts";
import type { ChatClient } from "../lm/types.ts";
import { log } from "../log.ts";
import type { Retriever } from "../retrieval/types.ts";
import type { Store } from "../store/database.ts";
import { checkpointsOf, recordGroups, recordRollouts, recordTrainingStep } from "../store/training.ts";
import { groupAdvantages, mean, unbiasedStandardDeviation } from "./advantage.ts";
import type { ArborClient } from "./arbor.ts";
import { ARBOR_SERVICE } from "./arbor-errors.ts";
import type { GrpoStatus } from "./arbor-wire.ts";
import { BatchFeeder } from "./batches.ts";
import { checkpointName, evaluateOnDev, validationDue, type DevRunner, type DevScores } from "./evaluation.ts";
import { buildGroups, postingOrder, type GroupBuildOptions, type GrpoGroup } from "./groups.ts";
import type { Program } from "../program/signatures.ts";
import { runRollouts, type ProgramSettings, type ScoredRun } from "./rollouts.ts";
import { RolloutsAhead, type RolledStep } from "./rollouts-ahead.ts";
import { StepSampler } from "./sampler.ts";
import { stepHealth } from "./step-health.ts";
import type { HealthNumbers } from "../metrics/training-health.ts";
import { ArborJob, stopJob } from "./jobs.ts";
import { arborRunName, buildInitializeRequest, type ArborTrainSettings } from "./trainer-config.ts";
import type { ArborJobRecord } from "../store/jobs.ts";
import { isServiceFailure } from "../program/types.ts";

/** What the loop needs: the flags of the initialize request, plus those of rollouts and validation. */
type GrpoLoopSettings = ArborTrainSettings &
  Pick<
    GrpoSettings,
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
    | "requestTimeout"
    | "jsonFallback"
    | "fallbackSamples"
    | "overlapRollouts"
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
  /** The predictors (--program FILE); default: the reference script's. */
  program?: Program;
  /** Called with every step's groups (e.g. to write groups.jsonl). */
  onGroups?: (groups: readonly StepGroups[]) => void | Promise<void>;
  /** Resume: steps already completed (0 = a new run); the baseline validation is skipped. */
  startStep?: number;
  /** Resume: the best validation so far, so checkpoints only follow real improvements. */
  initialBest?: DevScores | null;
  /** Resume: initialize the Arbor job from this model (a checkpoint directory) instead of --model. */
  initialModel?: string;
  /** This run's number for a new Arbor job (1, then one more per resume): its run name is `<run>-r<attempt>`. */
  attempt?: number;
  /** Resume with every step trained: the earlier job that still serves the trained weights (no new job). */
  servingJob?: ArborJobRecord;
  /** Resume: the validation after the last step is already recorded. */
  finalValidated?: boolean;
  /** What to do with the Arbor job on Ctrl-C or failure: terminate (saves checkpoint_final) or cancel. */
  onStop?: "terminate" | "cancel";
  /** Program runs in flight (run/concurrency.ts: follows the LM servers with --concurrency auto); default: the fixed --concurrency. */
  concurrency?: number | ConcurrencyGauge;
  /** Called after every step (progress line). */
  onStep?: (progress: StepProgress) => void;
  /** Batch feeder overrides (tests). */
  pollIntervalMs?: number;
  stallTimeoutSeconds?: number;
  stallFloorSeconds?: number;
  stepAcceptSeconds?: number;
}

export interface GrpoLoopSummary {
  jobId: string | null;
  stepsCompleted: number;
  validations: DevScores[];
  best: DevScores | null;
  checkpoints: Array<{ step: number; name: string; directory: string | null }>;
  groupsPosted: number;
}

export interface StepProgress {
  /** Steps completed (the step just finished: steps count from 1). */
  completed: number;
  total: number;
  /** The step's rewards, learning signal, format failures and JSON fallback (step-health.ts). */
  health: HealthNumbers;
  /** The latest validation (reward, and after how many steps it ran), if any. */
  validation: { reward: number; step: number } | null;
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
  const totalSteps = arbor ? settings.numTrainSteps : Math.min(settings.dryRunSteps, settings.numTrainSteps);
  const job = arbor ? await openJob(context, arbor, startStep, totalSteps) : null;
  summary.jobId = job?.jobId ?? null;
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
    concurrency: context.concurrency ?? (settings.concurrency === "auto" ? DEFAULTS.maxConcurrency : settings.concurrency),
    deadlineSeconds: settings.exampleTimeout,
    jsonFallback: settings.jsonFallback,
    ...(context.program ? { program: context.program } : {}),
  };
  const feeder =
    arbor && job
      ? new BatchFeeder({
          arbor,
          jobId: job.jobId,
          stallTimeoutSeconds: context.stallTimeoutSeconds ?? settings.requestTimeout,
          ...(context.pollIntervalMs === undefined ? {} : { pollIntervalMs: context.pollIntervalMs }),
          ...(context.stallFloorSeconds === undefined ? {} : { stallFloorSeconds: context.stallFloorSeconds }),
          ...(context.stepAcceptSeconds === undefined ? {} : { stepAcceptSeconds: context.stepAcceptSeconds }),
        })
      : null;
  const sampler = new StepSampler(context.train.length, {
    examplesPerStep: settings.numExamplesPerStep,
    seed: settings.seed,
    shuffle: !settings.curriculum,
  });

  const validate = async (completed: number): Promise<void> => {
    if (!arbor || !job) return;
    const best = summary.best?.reward ?? null;
    const scores = await evaluateOnDev(context.store, context.runId, completed, context.dev, program, signal, best, context.runDev);
    summary.validations.push(scores);
    const name = checkpointName(settings.checkpoint, scores, best);
    if (best === null || scores.reward > best) summary.best = scores;
    if (name === null) return;
    if (job.state !== "running") {
      log.warn(`validation improved after step ${completed}, but job ${job.jobId} has already been terminated: its checkpoint_final holds these weights`);
      return;
    }
    const record = await job.checkpoint(name, completed, { step: completed, scores }, signal);
    log.info(`checkpoint ${name} saved${record ? ` at ${record.directory}` : ""}`);
  };

  const rollouts = new RolloutsAhead((step, rolloutSignal) => {
    recordTrainingStep(context.store, context.runId, { step, status: "running" });
    // The sampler counts from 0: step N takes the N-th slice of the epochs.
    return runRollouts(sampler.select(context.train, step - 1), settings.numRolloutsPerStep, program, rolloutSignal);
  }, signal);
  /** While musique does other work the trainer may wait: the feeder watches /status meanwhile. */
  const watched = <T>(work: Promise<T>): Promise<T> => (feeder ? feeder.during(work, signal) : work);

  try {
    if (startStep === 0) await watched(validate(0));
    for (let step = startStep + 1; step <= totalSteps; step++) {
      if (signal.aborted) throw signal.reason ?? new InterruptedError();
      const rolled = await watched(rollouts.take(step));
      const validationAfter = validationDue(step, settings.numStepsForVal, totalSteps);
      const overlap = feeder !== null && settings.overlapRollouts && step < totalSteps && !validationAfter;
      const health = await runStep(context, rolled, feeder, () => {
        if (overlap) rollouts.startAhead(step + 1);
      });
      summary.stepsCompleted = step;
      summary.groupsPosted = feeder?.postedCount ?? 0;
      if (job && feeder) job.notePosted(feeder.postedCount);
      if (validationAfter) await watched(validate(step));
      const validation = summary.validations.at(-1);
      context.onStep?.({ completed: step, total: totalSteps, health, validation: validation ? { reward: validation.reward, step: validation.step } : null });
    }
    if (job && startStep >= totalSteps && !context.finalValidated) await validate(totalSteps);
    if (job && job.state === "running") {
      const final = await job.finish(summary.stepsCompleted, signal);
      if (final) log.info(`Arbor saved ${final.name} at ${final.directory}`);
    } else if (job && job.state === "lost") {
      await job.cancel();
    }
    if (job) summary.checkpoints = checkpointsOf(context.store, context.runId).map(({ step, name, directory }) => ({ step, name, directory }));
    return summary;
  } catch (error) {
    await rollouts.abandon();
    if (job) await stopJob(job, error, context.onStop ?? "terminate", summary.stepsCompleted);
    throw error;
  }
}

/** Start this run's Arbor job, take over the one that still serves a fully trained run, or none is needed. */
async function openJob(context: GrpoLoopContext, arbor: ArborClient, startStep: number, totalSteps: number): Promise<ArborJob | null> {
  const { settings } = context;
  if (!context.servingJob && startStep >= totalSteps && context.finalValidated) {
    log.info("every step is trained and validated: no Arbor job is needed to finish the run");
    return null;
  }
  if (context.servingJob) {
    log.info(`every step is trained; validating with Arbor job ${context.servingJob.jobId ?? "?"}, which still serves the trained weights`);
    return ArborJob.attach(context.store, arbor, context.servingJob);
  }
  const initialModel = context.initialModel ?? settings.model;
  const attempt = context.attempt ?? 1;
  const name = arborRunName(settings.runName ?? "musique", attempt);
  const request = buildInitializeRequest({ ...settings, model: initialModel, runName: name }, totalSteps - startStep);
  log.info(
    `initializing Arbor GRPO job ${name} for ${initialModel} at ${arbor.baseUrl} (loading the model takes minutes; ` +
      `trainer max_steps ${request.trainer_config.max_steps ?? "?"}, above the groups this job can receive)`,
  );
  const job = await ArborJob.start({
    store: context.store,
    runId: context.runId,
    arbor,
    attempt,
    arborRunName: name,
    startStep,
    request,
    signal: context.signal,
  });
  log.info(`Arbor job ${job.jobId} is running; rollouts sample from it`);
  return job;
}

/** Record a step's rollouts, build and post its groups (`beforePosting` may start the next step's rollouts). */
async function runStep(context: GrpoLoopContext, rolled: RolledStep, feeder: BatchFeeder | null, beforePosting: () => void): Promise<HealthNumbers> {
  const { store, runId, settings, signal } = context;
  const { step, rollouts } = rolled;
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
    throw new ServiceError(`every rollout of step ${step} failed on a service error`, {
      service: ARBOR_SERVICE,
      url: context.arbor?.baseUrl ?? settings.model,
      retryable: false,
      cause: flat[0]?.result.failure?.message ?? "no rollout finished",
      fix: "check that Arbor (or the LM server) and the retriever's services are up",
    });
  }

  const stepGroups: StepGroups[] = rollouts.map((runs) =>
    exampleGroups(step, runs, {
      groupSize: settings.numRolloutsPerStep,
      fallbackSamples: settings.fallbackSamples,
      ...(context.program ? { program: context.program } : {}),
    }),
  );
  const allGroups = stepGroups.flatMap((entry) => entry.groups);
  const formatFailures = flat.filter((run) => run.result.failure?.kind === "format").length;
  const rewards = usable.map((run) => run.reward);
  const metrics = { mean_reward: mean(rewards), format_failures: formatFailures, step };

  let arborResponse: GrpoStatus | null = null;
  beforePosting();
  if (feeder && allGroups.length > 0) {
    // DSPy's order: predictor-major, then example, then invocation (groups.ts postingOrder).
    const order = postingOrder(stepGroups);
    const posted = await feeder.post(
      order.map(([example, group]) => stepGroups[example]?.groups[group]?.samples ?? []),
      metrics,
      signal,
    );
    arborResponse = posted.lastStatus;
    order.forEach(([example, group], index) => {
      const entry = stepGroups[example];
      if (entry) entry.batchIds[group] = posted.batchIds[index] ?? null;
    });
  } else if (allGroups.length === 0) {
    log.warn(`step ${step}: no trainable groups (every rollout failed before its first module call finished)`);
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
  const times = feeder?.takeTimes();
  recordTrainingStep(store, runId, {
    step,
    status: allGroups.length > 0 ? "completed" : "skipped",
    meanReward: metrics.mean_reward,
    rewardStd: unbiasedStandardDeviation(rewards),
    formatFailures,
    numGroups: allGroups.length,
    arborResponse,
    metrics,
    rolloutSeconds: rolled.seconds,
    ...(times ? { waitingForArborSeconds: times.waitingForArborSeconds, arborWaitingSeconds: times.arborWaitingSeconds } : {}),
  });
  return stepHealth(flat, allGroups);
}

function exampleGroups(step: number, runs: readonly ScoredRun[], options: GroupBuildOptions): StepGroups {
  const example = runs[0]?.example;
  if (!example) throw new Error("an example produced no rollouts");
  const built = buildGroups(
    runs.map((run) => ({ result: run.result, reward: run.reward })),
    options,
  );
  if (built.droppedRollouts.length > 0) {
    log.debug(`step ${step}, example ${example.id}: ${built.droppedRollouts.length} rollouts left out after LM errors`);
  }
  for (const group of built.groups) {
    if (new Set(group.samples.map((sample) => JSON.stringify(sample))).size < 2) {
      log.debug(`step ${step}, example ${example.id}: the ${group.module} group has no diversity (identical samples)`);
    }
  }
  return { step, example, groups: built.groups, batchIds: built.groups.map(() => null) };
}
