/**
 * `musique evaluate`: run the multi-hop program over a split, score every example, record it in
 * the store as it finishes, and write outputs/{run}/. Resumable: an interrupted run continues
 * with only the examples that have no final result. The run's life (open/resume, outputs,
 * status, resume hint) is the shared session (session.ts); this file keeps what is evaluate's.
 */
import type { EvaluateOptions } from "../config/schemas.ts";
import { loadExamples } from "../data/index.ts";
import type { Example } from "../data/types.ts";
import { ExitCode, ServiceError, UsageError } from "../errors.ts";
import { writeJsonFile, writeJsonLinesFile, writeOutputFile } from "../files.ts";
import { log, startProgress } from "../log.ts";
import { runMultiHop } from "../program/multihop.ts";
import { isServiceFailure } from "../program/types.ts";
import type { Retriever } from "../retrieval/types.ts";
import type { OpenAIChatClient } from "../lm/client.ts";
import { describeCacheCounts } from "../lm/cache.ts";
import { cacheCountsOf, createStoreCache } from "../store/cache.ts";
import { completedExampleIds, predictionsOf } from "../store/results.ts";
import { isResultStatus } from "../metrics/run-scores.ts";
import { runExampleOf } from "../store/runs.ts";
import { startResultWriter } from "../store/writer.ts";
import { ConcurrencyRecorder, programConcurrency } from "./concurrency.ts";
import { runExamples, serviceFailureError, type ExampleRuns, type ServiceEndpoints } from "./examples.ts";
import { examplesMarkdown, pickExamples } from "./outputs.ts";
import { officialRow } from "../data/official.ts";
import { missingCauses, officialPrediction, scoreRun, type RunScores } from "../metrics/run-scores.ts";
import { runSession, type RunSession } from "./session.ts";
import type { Program } from "../program/signatures.ts";
import { baseUrlsOf, buildChatClient, buildRetriever, loadProgram, multiHopOptions, preflight, programOfRun } from "./setup.ts";

export interface EvaluateSummary {
  run: string;
  /** incomplete: some examples have no result (service failures); exitCode says 4 or 5. */
  status: "completed" | "incomplete";
  exitCode: number;
  /** Examples without a result. */
  missing: number;
  database: string;
  outputDirectory: string;
  examples: number;
  ranNow: number;
  scores: RunScores | null;
  /** Module calls of the run, and how many the response cache answered. */
  cache: { answered: number; calls: number };
}

interface Prepared {
  examples: Example[];
  client: OpenAIChatClient;
  retriever: Retriever;
  program: Program;
}

export async function runEvaluate(requested: EvaluateOptions, signal: AbortSignal): Promise<EvaluateSummary> {
  return runSession(requested, signal, {
    kind: "evaluate",
    logFile: "run.log",
    namePrefix: () => "evaluate",
    prepare: async (options, store) => {
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
      const program = loadProgram(options.program);
      const retriever = buildRetriever(options);
      const client = buildChatClient(options, options.cache ? createStoreCache(store) : undefined);
      await preflight(options, retriever, signal, client);
      return { examples, client, retriever, program };
    },
    examples: ({ examples }) => examples.map((example, position) => runExampleOf(example, position, "test")),
    work: async (session, prepared) => {
      const summary = await evaluate(session, prepared);
      const note = summary.scores && summary.missing > 0 ? `${summary.missing} examples have no result (${missingCauses(summary.scores.overall)})` : null;
      return { outcome: summary.status, note, summary };
    },
    progress: (session) => `${predictionsOf(session.store, session.run.id).length} examples recorded`,
  });
}

async function evaluate(session: RunSession<EvaluateOptions>, prepared: Prepared): Promise<EvaluateSummary> {
  const { examples, client, retriever } = prepared;
  const { store, run, options, signal } = session;
  const program = programOfRun(session, prepared.program, options.numHops);
  const done = completedExampleIds(store, run.id);
  const pending = examples.filter((example) => !done.has(example.id));
  log.info(
    `run ${run.name}: ${examples.length} examples (${done.size} already done), retriever ${options.retriever}, ` +
      `${options.numHops} hops, model ${options.model} at T=${options.temperature}`,
  );
  const cacheSoFar = describeCacheCounts(cacheCountsOf(store, run.id));
  if (options.cache && options.temperature === 0) {
    log.info(`identical temperature-0 requests are answered from the cache${cacheSoFar ? ` (so far ${cacheSoFar})` : " (--no-cache to re-ask)"}`);
  }
  const progress = startProgress({ label: "evaluate", total: examples.length, alreadyDone: examples.length - pending.length, item: "example" });
  const totals = { n: 0, em: 0, f1: 0 };
  const writer = await startResultWriter(store.path, store);
  const concurrency = new ConcurrencyRecorder(store, run.id, client.pool, options);
  let finished: ExampleRuns;
  try {
    finished = await runExamples({
      runId: run.id,
      step: -1,
      examples: pending,
      program: (example, exampleSignal) => runMultiHop(example, multiHopOptions(options, { client, retriever, program }, exampleSignal)),
      reward: options.reward,
      concurrency: programConcurrency(options, client.concurrency),
      writer,
      signal,
      endpoints: endpointsOf(options),
      resumeCommand: session.resumeCommand,
      onResult: ({ result, score }) => {
        if (!isServiceFailure(result.failure)) {
          totals.n += 1;
          totals.em += score.em;
          totals.f1 += score.f1;
        }
        progress.add(1, totals.n > 0 ? `EM ${(totals.em / totals.n).toFixed(3)} F1 ${(totals.f1 / totals.n).toFixed(3)}` : undefined);
      },
    });
  } finally {
    progress.finish();
    concurrency.finish();
    await writer.close();
  }

  const predictions = predictionsOf(store, run.id);
  const scores = scoreRun(examples, predictions);
  // Only examples with a result go into the official files, so `musique score` agrees with scores.json.
  const byId = new Map(predictions.map((prediction) => [prediction.exampleId, prediction]));
  const withResult = examples.filter((example) => isResultStatus(byId.get(example.id)?.status ?? ""));
  writeJsonLinesFile(
    session.file("predictions.jsonl"),
    withResult.map((example) => officialPrediction(example.id, byId.get(example.id))),
    "--output-dir",
  );
  writeJsonLinesFile(session.file("gold.jsonl"), withResult.map(officialRow), "--output-dir");
  writeJsonFile(session.file("scores.json"), { run: run.name, ...scores }, "--output-dir");
  const results = finished.runs.filter((item) => !isServiceFailure(item.result.failure));
  if (results.length > 0) writeOutputFile(session.file("examples.md"), examplesMarkdown(run.name, pickExamples(results)), "--output-dir");
  const cache = cacheCountsOf(store, run.id);
  const fromCache = describeCacheCounts(cache);
  if (fromCache) log.info(fromCache);
  const incomplete = scores.overall.missing > 0 ? incompleteRun(session, examples.length, scores, finished) : null;
  if (incomplete) log.error(incomplete.describe());
  return {
    run: run.name,
    status: incomplete ? "incomplete" : "completed",
    exitCode: incomplete?.exitCode ?? ExitCode.ok,
    database: store.path,
    outputDirectory: session.directory,
    examples: examples.length,
    ranNow: pending.length,
    missing: scores.overall.missing,
    scores,
    cache,
  };
}

function endpointsOf(options: EvaluateOptions): ServiceEndpoints {
  return { lm: baseUrlsOf(options).join(", "), retrieval: options.rerankUrl };
}

/**
 * Why a run is incomplete: how many examples have no result and why, that the scores are over the
 * others, and the resume command; exit 4 (or 5 when most failures were refusals, e.g. HTTP 400).
 */
function incompleteRun(session: RunSession<EvaluateOptions>, total: number, scores: RunScores, finished: ExampleRuns): ServiceError {
  const { overall } = scores;
  const failures = finished.runs.flatMap((item) => (item.result.failure && isServiceFailure(item.result.failure) ? [item.result.failure] : []));
  const summary =
    `${overall.missing} of ${total} examples have no result (${missingCauses(overall)}); ` +
    (overall.n > 0 ? `the scores are over the ${overall.n} that have one` : "no example has a score");
  const fix = `check the service, then run the missing examples with: ${session.resumeCommand}`;
  if (finished.stopped) return finished.stopped.reworded(`${finished.stopped.message}; ${summary}`, { fix });
  return serviceFailureError(summary, failures, endpointsOf(session.options), fix);
}
