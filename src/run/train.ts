/**
 * `musique train`: GRPO through Arbor (or --dry-run against any OpenAI-compatible server).
 * Loads and validates everything before any GPU time is spent, writes outputs/{run}/, and resumes
 * an interrupted run from its last completed step. The run's life (open/resume, outputs, status,
 * resume hint) is the shared session (session.ts); validation records its predictions through
 * the evaluate path (examples.ts).
 */
import { snakeKeys } from "../config/keys.ts";
import { DEFAULTS } from "../config/defaults.ts";
import type { TrainOptions } from "../config/schemas.ts";
import { loadExamples } from "../data/index.ts";
import type { Example } from "../data/types.ts";
import { UsageError } from "../errors.ts";
import { writeJsonFile, writeJsonLinesFile } from "../files.ts";
import { arborBaseUrl, ArborClient, requireArbor } from "../grpo/arbor.ts";
import type { DevRunner, DevScores } from "../grpo/evaluation.ts";
import { runGrpoLoop, type GrpoLoopContext, type GrpoLoopSummary, type StepProgress } from "../grpo/loop.ts";
import { settlePreviousJobs } from "../grpo/resume.ts";
import { runOnce } from "../grpo/rollouts.ts";
import { validateTrainConfig } from "../grpo/validate.ts";
import type { OpenAIChatClient } from "../lm/client.ts";
import { log, progressOutput, startProgress } from "../log.ts";
import { healthWarnings, stepHealthText, type TrainingHealth } from "../metrics/training-health.ts";
import { trainingHealthOf } from "../store/health.ts";
import type { Retriever } from "../retrieval/types.ts";
import type { Store } from "../store/database.ts";
import { predictionsOf } from "../store/results.ts";
import { runExampleOf, type RunRecord } from "../store/runs.ts";
import { bestValidation, checkpointsOf, groupLinesOf, lastCompletedStep, newestCheckpoint, validationsOf } from "../store/training.ts";
import { startResultWriter, type ResultWriter } from "../store/writer.ts";
import { ConcurrencyRecorder, programConcurrency } from "./concurrency.ts";
import { runAllExamples, type ServiceEndpoints } from "./examples.ts";
import { isResultStatus, officialPrediction, scoreRun } from "../metrics/run-scores.ts";
import { nextSteps, type NextSteps } from "./next-steps.ts";
import { runSession, type RunSession } from "./session.ts";
import type { Program } from "../program/signatures.ts";
import { baseUrlsOf, buildChatClient, buildRetriever, loadProgram, preflight, programOfRun } from "./setup.ts";

export interface TrainSummary {
  run: string;
  status: "completed";
  dryRun: boolean;
  database: string;
  outputDirectory: string;
  jobId: string | null;
  stepsCompleted: number;
  best: DevScores | null;
  checkpoints: GrpoLoopSummary["checkpoints"];
  groupsFile: string | null;
  /** Rewards, learning signal, format failures and JSON fallback over every step (README "Training health"). */
  health: TrainingHealth;
  /** Loud warnings about the health (e.g. most groups carry no signal); also logged. */
  warnings: string[];
  /** How to serve, evaluate and compare the best checkpoint (null for a dry run, or without a checkpoint folder). */
  next: NextSteps | null;
}

interface ResumePoint {
  startStep: number;
  best: DevScores | null;
  initialModel: string | undefined;
}

async function loadSplits(options: TrainOptions, signal: AbortSignal): Promise<{ train: Example[]; dev: Example[] }> {
  const common = { revision: options.revision, seed: options.seed, noiseRate: options.noiseRate, skipInvalid: options.skipInvalid, signal };
  const train = await loadExamples(options.datasets, { ...common, size: options.trainSize, curriculum: options.curriculum });
  const dev = options.dryRun ? { examples: [] } : await loadExamples(options.evalDatasets, { ...common, size: options.devSize });
  log.info(`train: ${train.examples.length} examples from ${options.datasets}; dev: ${dev.examples.length} from ${options.evalDatasets}`);
  return { train: train.examples, dev: dev.examples };
}

/** Where a resumed run continues (steps, best score), before its earlier Arbor jobs are settled. */
function resumePoint(store: Store, run: RunRecord): ResumePoint {
  // Steps are numbered from 1, so the last completed step is the number of steps completed.
  const startStep = lastCompletedStep(store, run.id) ?? 0;
  const bestRecord = bestValidation(store, run.id);
  const best: DevScores | null =
    bestRecord && bestRecord.reward !== null
      ? {
          step: bestRecord.step,
          reward: bestRecord.reward,
          em: bestRecord.em ?? 0,
          f1: bestRecord.f1 ?? 0,
          recall: bestRecord.recall ?? 0,
          supportF1: bestRecord.supportF1 ?? 0,
          examples: bestRecord.nExamples,
          formatFailures: 0,
          lmErrors: 0,
        }
      : null;
  log.info(
    `resuming ${run.name} at step ${startStep + 1} (${startStep} completed)${best ? `, best validation reward ${best.reward.toFixed(4)} after ${best.step} steps` : ""}`,
  );
  return { startStep, best, initialModel: undefined };
}

/** What a new job of a resumed run starts from: the newest checkpoint with --no-lora, else --model. */
function initialModelFor(store: Store, run: RunRecord, options: TrainOptions, startStep: number): string | undefined {
  log.warn("not restored on resume: the optimizer and learning-rate scheduler state (Arbor has no resume API; a new job starts them afresh)");
  const checkpoint = newestCheckpoint(store, run.id);
  if (!checkpoint?.directory) {
    if (startStep > 0)
      log.warn(`no Arbor checkpoint was recorded for ${run.name}: the new job starts from ${options.model} (the weights learned so far are not restored)`);
    return undefined;
  }
  if (options.useLora) {
    log.warn(
      `the newest checkpoint ${checkpoint.name} (${checkpoint.directory}) holds LoRA adapters only, which Arbor cannot initialize a job from: ` +
        `the new job starts from ${options.model}. To continue from the adapter, merge it into the base model (peft merge_and_unload) and start a new run with --model <merged dir>.`,
    );
    return undefined;
  }
  log.info(`the new Arbor job starts from the newest checkpoint, ${checkpoint.name} (after ${checkpoint.step} steps) at ${checkpoint.directory}`);
  return checkpoint.directory;
}

/**
 * A resumed run's earlier Arbor jobs, settled (their checkpoints recorded, their GPUs freed), and
 * how the run goes on: a new job from the newest checkpoint, or — every step trained — the last
 * job, which still serves the trained weights, for the final validation.
 */
async function continueFrom(session: RunSession<TrainOptions>, arbor: ArborClient, resume: ResumePoint): Promise<Partial<GrpoLoopContext>> {
  const { store, run, options, signal } = session;
  const trained = resume.startStep >= options.numTrainSteps;
  const settled = await settlePreviousJobs({
    store,
    runId: run.id,
    arbor,
    stepsCompleted: resume.startStep,
    keepLast: trained,
    waitSeconds: options.requestTimeout,
    signal,
  });
  const finalValidated = validationsOf(store, run.id).some((validation) => validation.step === options.numTrainSteps);
  if (trained && (finalValidated || settled.serving)) {
    return { attempt: settled.nextAttempt, finalValidated, ...(settled.serving ? { servingJob: settled.serving } : {}) };
  }
  const initialModel = initialModelFor(store, run, options, resume.startStep);
  return { attempt: settled.nextAttempt, finalValidated, ...(initialModel ? { initialModel } : {}) };
}

/** The steps this run makes: --num-train-steps, or --dry-run-steps of them in a dry run. */
function plannedSteps(options: TrainOptions): number {
  return options.dryRun ? Math.min(options.dryRunSteps, options.numTrainSteps) : options.numTrainSteps;
}

/**
 * One log line per training step (kept in train.log, never redrawn in place): `step N/T`, the
 * step's health (GRPO reward, the spread inside its groups, groups with no spread, format
 * failures, JSON fallback), the latest validation, ETA.
 */
function progressReporter(total: number, startStep: number, dryRun: boolean): (progress: StepProgress) => void {
  const progress = startProgress({ label: "step", total, alreadyDone: startStep, item: "step", intervalMs: 0, output: progressOutput(false) });
  return (step) => {
    const validation = step.validation === null ? "validation —" : `validation ${step.validation.reward.toFixed(4)} (after ${step.validation.step} steps)`;
    progress.set(step.completed, dryRun ? stepHealthText(step.health) : `${stepHealthText(step.health)} | ${validation}`);
  };
}

/** groups.jsonl regenerated from the database (atomically): a resume or a kill never leaves half lines. */
function writeGroupsFile(store: Store, runId: number, path: string): void {
  writeJsonLinesFile(path, groupLinesOf(store, runId), "--output-dir");
}

/** Validation through the evaluate path: the shared example runner and the results writer thread. */
function devRunner(session: RunSession<TrainOptions>, writer: ResultWriter, endpoints: ServiceEndpoints): DevRunner {
  return (step, dev, program, signal) =>
    runAllExamples({
      runId: session.run.id,
      step,
      examples: dev,
      program: (example, exampleSignal) => runOnce(example, program, exampleSignal),
      reward: program.reward,
      concurrency: program.concurrency,
      writer,
      signal,
      endpoints,
      resumeCommand: session.resumeCommand,
    });
}

interface Prepared {
  train: Example[];
  dev: Example[];
  arborUrl: string;
  client: OpenAIChatClient;
  retriever: Retriever;
  program: Program;
}

export async function runTrain(requested: TrainOptions, signal: AbortSignal): Promise<TrainSummary> {
  return runSession(requested, signal, {
    kind: "train",
    logFile: "train.log",
    namePrefix: (options) => (options.dryRun ? "dry-run" : "train"),
    checkResume: (run) => {
      if (run.status === "completed") throw new UsageError(`run "${run.name}" is already completed`, { fix: "start a new run (a different --run-name)" });
    },
    prepare: async (options) => {
      validateTrainConfig(options);
      const program = loadProgram(options.program);
      const { train, dev } = await loadSplits(options, signal);
      validateTrainConfig(options, { train: train.length, dev: dev.length });
      const arborUrl = arborBaseUrl({ arborUrl: options.arborUrl, port: options.port });
      const lmSettings = options.dryRun ? options : { ...options, baseUrl: [arborUrl.replace(/\/+$/, "")] };
      const retriever = buildRetriever(options);
      const client = buildChatClient(lmSettings);
      if (options.dryRun) await preflight(lmSettings, retriever, signal);
      else {
        // Arbor answers nothing while it launches a model for any client (minutes): allow for it.
        await requireArbor(arborUrl, { signal, timeoutSeconds: Math.min(options.arborTimeout, DEFAULTS.arborProbeTimeoutSeconds) });
        await retriever.preflight(signal);
      }
      return { train, dev, arborUrl, client, retriever, program };
    },
    examples: ({ train, dev }) => [
      ...train.map((example, position) => runExampleOf(example, position, "train")),
      ...dev.map((example, position) => runExampleOf(example, position, "dev")),
    ],
    work: async (session, prepared) => ({ outcome: "completed", summary: await train(session, prepared) }),
    progress: (session) => `${lastCompletedStep(session.store, session.run.id) ?? 0} completed steps`,
  });
}

async function train(session: RunSession<TrainOptions>, prepared: Prepared): Promise<TrainSummary> {
  const { train, dev, arborUrl, client, retriever } = prepared;
  const { store, run, options, signal } = session;
  const program = programOfRun(session, prepared.program, options.numHops);
  const resume = session.resumed ? resumePoint(store, run) : { startStep: 0, best: null, initialModel: undefined };
  const groupsFile = options.dryRun ? session.file("groups.jsonl") : null;
  if (groupsFile) writeGroupsFile(store, run.id, groupsFile);
  const arbor = options.dryRun
    ? null
    : new ArborClient({
        baseUrl: arborUrl,
        initializeTimeoutSeconds: options.arborTimeout,
        requestTimeoutSeconds: options.requestTimeout,
        maxRetries: options.maxRetries,
      });
  log.info(
    options.dryRun
      ? `dry run ${run.name}: ${plannedSteps(options)} steps against ${options.model}, no Arbor; groups go to ${groupsFile}`
      : `training ${run.name}: ${options.numTrainSteps} steps × ${options.numExamplesPerStep} examples × ${options.numRolloutsPerStep} rollouts on Arbor at ${arborUrl}`,
  );
  const continuation = arbor && session.resumed ? await continueFrom(session, arbor, resume) : {};
  const endpoints = { lm: options.dryRun ? baseUrlsOf(options).join(", ") : arborUrl, retrieval: options.rerankUrl };
  const writer = await startResultWriter(store.path, store);
  const concurrency = new ConcurrencyRecorder(store, run.id, client.pool, options);
  let summary: GrpoLoopSummary;
  try {
    summary = await runGrpoLoop({
      store,
      runId: run.id,
      train,
      dev,
      arbor,
      client,
      retriever,
      settings: options,
      signal,
      runDev: devRunner(session, writer, endpoints),
      program,
      concurrency: programConcurrency(options, client.concurrency),
      startStep: resume.startStep,
      initialBest: resume.best,
      ...continuation,
      onStop: options.onInterrupt,
      onStep: progressReporter(plannedSteps(options), resume.startStep, options.dryRun),
      ...(groupsFile ? { onGroups: () => writeGroupsFile(store, run.id, groupsFile) } : {}),
    });
  } finally {
    concurrency.finish();
    await writer.close();
  }
  writeTrainOutputs(session, dev, summary);
  const health = trainingHealthOf(store, run.id);
  const warnings = healthWarnings(health);
  for (const warning of warnings) log.warn(warning);
  return {
    run: run.name,
    status: "completed",
    dryRun: options.dryRun,
    database: store.path,
    outputDirectory: session.directory,
    jobId: summary.jobId,
    stepsCompleted: summary.stepsCompleted,
    best: summary.best,
    checkpoints: summary.checkpoints,
    groupsFile,
    health,
    warnings,
    next: options.dryRun
      ? null
      : nextSteps({ options, run: run.name, database: store.path, arborUrl, best: summary.best, checkpoints: checkpointsOf(store, run.id) }),
  };
}

/** validations.json (every validation of the run), scores.json and predictions.jsonl of the final one, checkpoints.json. */
function writeTrainOutputs(session: RunSession<TrainOptions>, dev: readonly Example[], summary: GrpoLoopSummary): void {
  const { store, run } = session;
  const validations = validationsOf(store, run.id);
  // snake_case keys, as in every file musique writes (values such as Arbor's records keep theirs)
  writeJsonFile(session.file("validations.json"), validations.map(snakeKeys), "--output-dir");
  writeJsonFile(session.file("checkpoints.json"), checkpointsOf(store, run.id).map(snakeKeys), "--output-dir");
  const final = validations.at(-1);
  if (!final || dev.length === 0) return;
  const predictions = predictionsOf(store, run.id, final.step);
  const byId = new Map(predictions.map((prediction) => [prediction.exampleId, prediction]));
  writeJsonFile(
    session.file("scores.json"),
    { run: run.name, step: final.step, best: summary.best === null ? null : snakeKeys(summary.best), ...scoreRun(dev, predictions) },
    "--output-dir",
  );
  // As evaluate writes it: only examples with a result (service failures are not scores).
  const withResult = dev.filter((example) => isResultStatus(byId.get(example.id)?.status ?? ""));
  writeJsonLinesFile(
    session.file("predictions.jsonl"),
    withResult.map((example) => officialPrediction(example.id, byId.get(example.id))),
    "--output-dir",
  );
}
