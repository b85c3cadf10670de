/**
 * `musique evaluate`: run the multi-hop program over a split, score every example, record it in
 * the store as it finishes, and write outputs/{run}/. Resumable: an interrupted run continues
 * with only the examples that have no final result.
 */
import { join } from "node:path";
import type { EvaluateOptions } from "../config/schemas.ts";
import { loadExamples } from "../data/index.ts";
import type { Example } from "../data/types.ts";
import { ExitCode, InterruptedError, ServiceError, UsageError } from "../errors.ts";
import { Limiter } from "../http/limit.ts";
import { log } from "../log.ts";
import { scoreExample } from "../metrics/index.ts";
import { failedRun } from "../program/failure.ts";
import { runMultiHop } from "../program/multihop.ts";
import type { ProgramResult } from "../program/types.ts";
import { createStoreCache } from "../store/cache.ts";
import { openStore, type Store } from "../store/database.ts";
import { completedExampleIds, predictionsOf } from "../store/results.ts";
import { startResultWriter, type ResultWriter } from "../store/writer.ts";
import { findRun, recordRunExamples, updateRunStatus, type RunRecord } from "../store/runs.ts";
import {
  examplesMarkdown,
  pickExamples,
  runDirectory,
  teeLogTo,
  writeOutputFile,
  writeJson,
  writeJsonLines,
  type ExampleForReport,
} from "./outputs.ts";
import { Progress } from "./progress.ts";
import { officialGold, officialPrediction, scoreRun, type RunScores } from "./scores.ts";
import { buildChatClient, buildRetriever, multiHopOptions, preflight } from "./setup.ts";
import { operationalKeys, resumeOptions, startNewRun } from "./config.ts";
import { isServiceFailure } from "../program/types.ts";

export interface EvaluateSummary {
  run: string;
  status: "completed" | "interrupted";
  database: string;
  outputDirectory: string;
  examples: number;
  ranNow: number;
  scores: RunScores | null;
}

/** Consecutive examples that fail on infrastructure before the run stops instead of going on. */
const MAX_CONSECUTIVE_INFRA_FAILURES = 8;

function openRun(store: Store, options: EvaluateOptions): { run: RunRecord; options: EvaluateOptions } {
  if (options.resume) {
    const run = findRun(store, options.resume);
    if (!run) {
      throw new UsageError(`no run named "${options.resume}" in ${store.path}`, {
        fix: "list runs with `musique runs` (and pass the same --db)",
      });
    }
    if (run.kind !== "evaluate") {
      throw new UsageError(`run "${run.name}" is a ${run.kind} run`, { fix: `resume it with musique ${run.kind} --resume ${run.name}` });
    }
    return { run, options: resumeOptions(run.configJson, options) };
  }
  const run = startNewRun(store, "evaluate", "evaluate", options);
  return { run, options: { ...options, runName: run.name } };
}

export async function runEvaluate(requested: EvaluateOptions, signal: AbortSignal): Promise<EvaluateSummary> {
  const store = openStore(requested.db);
  try {
    return await evaluateWithStore(store, requested, signal);
  } finally {
    store.close();
  }
}

async function evaluateWithStore(store: Store, requested: EvaluateOptions, signal: AbortSignal): Promise<EvaluateSummary> {
  // Resolve the effective options first (a resumed run uses its stored configuration).
  const existing = requested.resume ? findRun(store, requested.resume) : null;
  const options = existing ? resumeOptions(existing.configJson, requested) : requested;
  if (existing) log.info(`resuming ${existing.name} (${existing.status}); keeping its configuration except ${operationalKeys.join(", ")}`);

  const loaded = await loadExamples(options.datasets, {
    revision: options.revision,
    seed: options.seed,
    noiseRate: options.noiseRate,
    size: options.testSize,
    skipInvalid: options.skipInvalid,
    signal,
  });
  const examples = options.limit ? loaded.examples.slice(0, options.limit) : loaded.examples;
  if (examples.length === 0) throw new UsageError(`no examples in ${options.datasets}`, { fix: "check --datasets" });

  const retriever = buildRetriever(options);
  const client = buildChatClient(options, options.cache ? createStoreCache(store) : undefined);
  await preflight(options, retriever, signal);

  const { run } = openRun(store, requested);
  let directory: string;
  try {
    directory = runDirectory(options.outputDir, run.name);
  } catch (error) {
    updateRunStatus(store, run.id, "failed", error instanceof Error ? error.message : String(error));
    throw error;
  }
  const stopTee = teeLogTo(join(directory, "run.log"));
  try {
    if (!existing) {
      recordRunExamples(
        store,
        run.id,
        examples.map((example, position) => ({ exampleId: example.id, position, role: "test", nHops: example.nHops, shape: example.shape })),
      );
    }
    updateRunStatus(store, run.id, "running");
    writeJson(join(directory, "config.json"), JSON.parse(run.configJson));
    const done = completedExampleIds(store, run.id);
    const pending = examples.filter((example) => !done.has(example.id));
    log.info(
      `run ${run.name}: ${examples.length} examples (${done.size} already done), retriever ${options.retriever}, ` +
        `${options.numHops} hops, model ${options.model} at T=${options.temperature}; database ${store.path}`,
    );

    const writer = await startResultWriter(store.path, store);
    let reports: ExampleForReport[];
    try {
      reports = await runPending(writer, run, pending, examples.length - pending.length, examples.length, options, signal, {
        client,
        retriever,
      });
    } finally {
      await writer.close();
    }

    const predictions = predictionsOf(store, run.id);
    const scores = scoreRun(examples, predictions);
    if (signal.aborted) {
      updateRunStatus(store, run.id, "interrupted");
      log.warn(`interrupted: ${predictions.length}/${examples.length} examples recorded. Resume with:\n  musique evaluate --resume ${run.name} --db ${store.path}`);
      throw new InterruptedError(`evaluation ${run.name} interrupted`, { fix: `musique evaluate --resume ${run.name} --db ${store.path}` });
    }
    const byId = new Map(predictions.map((prediction) => [prediction.exampleId, prediction]));
    writeJsonLines(join(directory, "predictions.jsonl"), examples.map((example) => officialPrediction(example.id, byId.get(example.id))));
    writeJsonLines(join(directory, "gold.jsonl"), examples.map(officialGold));
    writeJson(join(directory, "scores.json"), { run: run.name, ...scores });
    if (reports.length > 0) writeOutputFile(join(directory, "examples.md"), examplesMarkdown(run.name, pickExamples(reports)));
    const lmErrors = scores.overall.lm_errors;
    updateRunStatus(store, run.id, "completed", lmErrors > 0 ? `${lmErrors} examples failed on LM/service errors` : null);
    if (lmErrors > 0) log.warn(`${lmErrors} examples failed on service errors; re-run them with: musique evaluate --resume ${run.name}`);
    return {
      run: run.name,
      status: "completed",
      database: store.path,
      outputDirectory: directory,
      examples: examples.length,
      ranNow: pending.length,
      scores,
    };
  } catch (error) {
    if (!(error instanceof InterruptedError)) updateRunStatus(store, run.id, "failed", error instanceof Error ? error.message : String(error));
    throw error;
  } finally {
    stopTee();
  }
}

async function runPending(
  writer: ResultWriter,
  run: RunRecord,
  pending: readonly Example[],
  alreadyDone: number,
  total: number,
  options: EvaluateOptions,
  signal: AbortSignal,
  services: { client: ReturnType<typeof buildChatClient>; retriever: ReturnType<typeof buildRetriever> },
): Promise<ExampleForReport[]> {
  const progress = new Progress({ label: "evaluate", total, alreadyDone });
  const limiter = new Limiter(options.concurrency);
  const reports: ExampleForReport[] = [];
  const totals = { n: 0, em: 0, f1: 0 };
  let consecutiveInfraFailures = 0;
  let fatal: unknown;
  const abortRun = new AbortController();
  const runSignal = AbortSignal.any([signal, abortRun.signal]);
  const recorded: Array<Promise<void>> = [];

  await Promise.all(
    pending.map((example) =>
      limiter.run(async () => {
        if (runSignal.aborted) return;
        let result: ProgramResult;
        try {
          result = await runMultiHop(example, multiHopOptions(options, services, runSignal));
        } catch (error) {
          if (runSignal.aborted) return;
          // A refused request (401/403/404: wrong key, model not served) or a bug fails every
          // example alike: stop the run. Other service errors are this example's result.
          if (!(error instanceof ServiceError) || error.exitCode === ExitCode.rejected) {
            fatal ??= error;
            abortRun.abort(error);
            return;
          }
          result = failedRun(error);
        }
        if (runSignal.aborted && isServiceFailure(result.failure)) return; // abandoned mid-call: not a result
        const score = scoreExample(example, result, options.reward);
        // Committed by the writer thread within milliseconds; the slot is free for the next example.
        recorded.push(
          writer.record(run.id, { exampleId: example.id, nHops: example.nHops, goldAnswers: example.answers, result, score }).catch((error: unknown) => {
            fatal ??= error;
            abortRun.abort(error);
          }),
        );
        reports.push({ example, result, score });
        consecutiveInfraFailures = isServiceFailure(result.failure) ? consecutiveInfraFailures + 1 : 0;
        if (consecutiveInfraFailures >= Math.max(MAX_CONSECUTIVE_INFRA_FAILURES, options.concurrency) && !fatal) {
          fatal = new ServiceError(`stopping: ${consecutiveInfraFailures} examples in a row failed on service errors`, {
            service: "language model",
            url: options.baseUrl?.join(", ") ?? `port ${options.port}`,
            retryable: false,
            cause: result.failure?.message,
            fix: `check the server, then continue with: musique evaluate --resume ${run.name}`,
          });
          abortRun.abort(fatal);
        }
        totals.n += 1;
        totals.em += score.em;
        totals.f1 += score.f1;
        progress.tick(`EM ${(totals.em / totals.n).toFixed(3)} F1 ${(totals.f1 / totals.n).toFixed(3)}`);
      }),
    ),
  );
  await writer.flush();
  await Promise.all(recorded);
  progress.finish();
  if (fatal) throw fatal;
  const order = new Map(pending.map((example, index) => [example.id, index]));
  return reports.sort((a, b) => (order.get(a.example.id) ?? 0) - (order.get(b.example.id) ?? 0));
}
