/**
 * `musique train`: GRPO through Arbor (or --dry-run against any OpenAI-compatible server).
 * Loads and validates everything before any GPU time is spent, owns the run's status, writes
 * outputs/{run}/, and resumes an interrupted run from its last completed step.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import type { TrainOptions } from "../config/schemas.ts";
import { loadExamples } from "../data/index.ts";
import type { Example } from "../data/types.ts";
import { InterruptedError, UsageError } from "../errors.ts";
import { arborBaseUrl, ArborClient, requireArbor } from "../grpo/arbor.ts";
import type { DevScores } from "../grpo/evaluation.ts";
import { runGrpoLoop, type GrpoLoopSummary, type StepGroups, type StepProgress } from "../grpo/loop.ts";
import { validateTrainConfig } from "../grpo/validate.ts";
import { log } from "../log.ts";
import type { Store } from "../store/database.ts";
import { openStore } from "../store/database.ts";
import { predictionsOf } from "../store/results.ts";
import { findRun, recordRunExamples, updateRunStatus, type RunRecord } from "../store/runs.ts";
import { bestValidation, checkpointsOf, lastCompletedStep } from "../store/training.ts";
import { resumeOptions, startNewRun } from "./config.ts";
import { runDirectory, teeLogTo, writeJson, writeJsonLines } from "./outputs.ts";
import { formatDuration } from "./progress.ts";
import { officialPrediction, scoreRun } from "./scores.ts";
import { buildChatClient, buildRetriever, preflight } from "./setup.ts";

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

/** Where a resumed run continues, and what cannot be restored. */
function resumePoint(store: Store, run: RunRecord, options: TrainOptions): ResumePoint {
  const last = lastCompletedStep(store, run.id);
  const startStep = last === null ? 0 : last + 1;
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
  const checkpoint = checkpointsOf(store, run.id)
    .filter((record) => record.directory)
    .sort((a, b) => a.step - b.step)
    .at(-1);
  log.info(`resuming ${run.name} at step ${startStep + 1} (${startStep} completed)${best ? `, best validation reward ${best.reward.toFixed(4)} at step ${best.step}` : ""}`);
  log.warn("not restored on resume: the optimizer and learning-rate scheduler state (Arbor has no resume API; a new job starts them afresh)");
  if (!checkpoint?.directory) {
    if (startStep > 0) log.warn(`no Arbor checkpoint was recorded for ${run.name}: the new job starts from ${options.model} (the weights learned so far are not restored)`);
    return { startStep, best, initialModel: undefined };
  }
  if (options.useLora) {
    log.warn(
      `the last checkpoint ${checkpoint.name} (${checkpoint.directory}) holds LoRA adapters only, which Arbor cannot initialize a job from: ` +
        `the new job starts from ${options.model}. To continue from the adapter, merge it into the base model (peft merge_and_unload) and start a new run with --model <merged dir>.`,
    );
    return { startStep, best, initialModel: undefined };
  }
  log.info(`the new Arbor job starts from checkpoint ${checkpoint.name} at ${checkpoint.directory}`);
  return { startStep, best, initialModel: checkpoint.directory };
}

function openTrainRun(store: Store, options: TrainOptions, existing: RunRecord | null): RunRecord {
  if (existing) {
    if (existing.kind !== "train") {
      throw new UsageError(`run "${existing.name}" is a ${existing.kind} run`, { fix: `resume it with musique ${existing.kind} --resume ${existing.name}` });
    }
    if (existing.status === "completed") {
      throw new UsageError(`run "${existing.name}" is already completed`, { fix: "start a new run (a different --run-name)" });
    }
    return existing;
  }
  return startNewRun(store, "train", options.dryRun ? "dry-run" : "train", options);
}

function progressReporter(startedAt: number, startStep: number): (progress: StepProgress) => void {
  return (progress) => {
    const fresh = progress.completed - startStep;
    const perStep = (Date.now() - startedAt) / 1000 / Math.max(1, fresh);
    const eta = formatDuration(perStep * (progress.total - progress.completed));
    log.info(
      `step ${progress.completed}/${progress.total} | reward ${progress.meanReward.toFixed(4)} ± ${progress.rewardSpread.toFixed(4)} | ` +
        `format failures ${progress.formatFailures} | groups ${progress.groups} | ` +
        `validation ${progress.validation === null ? "—" : progress.validation.toFixed(4)} | ETA ${eta}`,
    );
  };
}

function groupsWriter(path: string): (steps: readonly StepGroups[]) => void {
  return (steps) => {
    for (const entry of steps) {
      for (const group of entry.groups) {
        appendFileSync(
          path,
          JSON.stringify({ step: entry.step, example_id: entry.example.id, module: group.module, invocation: group.invocation, batch: group.samples }) + "\n",
        );
      }
    }
  };
}

export async function runTrain(requested: TrainOptions, signal: AbortSignal): Promise<TrainSummary> {
  const store = openStore(requested.db);
  try {
    return await trainWithStore(store, requested, signal);
  } finally {
    store.close();
  }
}

async function trainWithStore(store: Store, requested: TrainOptions, signal: AbortSignal): Promise<TrainSummary> {
  const existing = requested.resume ? findRun(store, requested.resume) : null;
  if (requested.resume && !existing) {
    throw new UsageError(`no run named "${requested.resume}" in ${store.path}`, { fix: "list runs with `musique runs` (and pass the same --db)" });
  }
  const options = existing ? resumeOptions(existing.configJson, requested) : requested;
  validateTrainConfig(options);
  const { train, dev } = await loadSplits(options, signal);
  validateTrainConfig(options, { train: train.length, dev: dev.length });

  const arborUrl = arborBaseUrl({ arborUrl: options.arborUrl, port: options.port });
  const lmSettings = options.dryRun ? options : { ...options, baseUrl: [arborUrl.replace(/\/+$/, "")] };
  const retriever = buildRetriever(options);
  const client = buildChatClient(lmSettings);
  if (options.dryRun) await preflight(lmSettings, retriever, signal);
  else {
    await requireArbor(arborUrl, { signal });
    await retriever.preflight(signal);
  }

  const run = openTrainRun(store, options, existing);
  const directory = runDirectory(options.outputDir, run.name);
  const stopTee = teeLogTo(join(directory, "train.log"));
  try {
    if (!existing) {
      recordRunExamples(store, run.id, [
        ...train.map((example, position) => ({ exampleId: example.id, position, role: "train" as const, nHops: example.nHops, shape: example.shape })),
        ...dev.map((example, position) => ({ exampleId: example.id, position, role: "dev" as const, nHops: example.nHops, shape: example.shape })),
      ]);
    }
    updateRunStatus(store, run.id, "running");
    writeJson(join(directory, "config.json"), JSON.parse(run.configJson));
    const resume = existing ? resumePoint(store, run, options) : { startStep: 0, best: null, initialModel: undefined };
    const groupsFile = options.dryRun ? join(directory, "groups.jsonl") : null;
    if (groupsFile) await Bun.write(groupsFile, "");
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
        ? `dry run ${run.name}: ${Math.min(options.dryRunSteps, options.numTrainSteps)} steps against ${options.model}, no Arbor; groups go to ${groupsFile}`
        : `training ${run.name}: ${options.numTrainSteps} steps × ${options.numExamplesPerStep} examples × ${options.numRolloutsPerStep} rollouts on Arbor at ${arborUrl}`,
    );
    const summary = await runGrpoLoop({
      store,
      runId: run.id,
      train,
      dev,
      arbor,
      client,
      retriever,
      settings: { ...options, runName: run.name },
      signal,
      startStep: resume.startStep,
      initialBest: resume.best,
      ...(resume.initialModel ? { initialModel: resume.initialModel } : {}),
      onStop: options.onInterrupt,
      onStep: progressReporter(Date.now(), resume.startStep),
      ...(groupsFile ? { onGroups: groupsWriter(groupsFile) } : {}),
    });
    writeTrainOutputs(store, run, directory, dev, summary);
    updateRunStatus(store, run.id, "completed");
    return {
      run: run.name,
      status: "completed",
      dryRun: options.dryRun,
      database: store.path,
      outputDirectory: directory,
      jobId: summary.jobId,
      stepsCompleted: summary.stepsCompleted,
      best: summary.best,
      checkpoints: summary.checkpoints,
      groupsFile,
    };
  } catch (error) {
    const interrupted = error instanceof InterruptedError || signal.aborted;
    updateRunStatus(store, run.id, interrupted ? "interrupted" : "failed", error instanceof Error ? error.message : String(error));
    const hint = `musique train --resume ${run.name} --db ${store.path}`;
    if (interrupted) {
      log.warn(`training interrupted after ${(lastCompletedStep(store, run.id) ?? -1) + 1} completed steps. Resume with:\n  ${hint}`);
      throw new InterruptedError(`training ${run.name} interrupted`, { fix: hint });
    }
    log.error(`training ${run.name} failed; after fixing the cause, continue with:\n  ${hint}`);
    throw error;
  } finally {
    stopTee();
  }
}

/** validations.json, scores.json and predictions.jsonl of the final validation, checkpoints.json. */
function writeTrainOutputs(store: Store, run: RunRecord, directory: string, dev: readonly Example[], summary: GrpoLoopSummary): void {
  writeJson(join(directory, "validations.json"), summary.validations);
  writeJson(join(directory, "checkpoints.json"), checkpointsOf(store, run.id));
  const final = summary.validations.at(-1);
  if (!final || dev.length === 0) return;
  const predictions = predictionsOf(store, run.id, final.step);
  const byId = new Map(predictions.map((prediction) => [prediction.exampleId, prediction]));
  writeJson(join(directory, "scores.json"), { run: run.name, step: final.step, best: summary.best, ...scoreRun(dev, predictions) });
  writeJsonLines(join(directory, "predictions.jsonl"), dev.map((example) => officialPrediction(example.id, byId.get(example.id))));
}
