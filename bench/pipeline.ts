/**
 * Suite "pipeline": how close evaluate gets to the LM's own latency. A fake LM (own process)
 * answers every call after a fixed L = 50 ms; the real pipeline runs in this process: the
 * evaluate loop (Limiter → runMultiHop with the lexical retriever → scoreExample → the results
 * writer thread of a temporary SQLite store), as src/run/evaluate.ts runs it, and runEvaluate
 * itself end to end on a JSONL file. Figure: wall time ÷ ideal, ideal = calls·L / C. Also
 * measures the store's share of the wall time (hand-off to the writer + the final commit wait).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { DEFAULTS } from "../src/config/defaults.ts";
import { EvaluateSchema } from "../src/config/schemas.ts";
import type { Example } from "../src/data/types.ts";
import { createChatClient, type OpenAIChatClient } from "../src/lm/client.ts";
import { Limiter } from "../src/http/limit.ts";
import { scoreExample, type ExampleScore } from "../src/metrics/index.ts";
import { runMultiHop } from "../src/program/multihop.ts";
import type { ProgramResult } from "../src/program/types.ts";
import { LexicalRetriever } from "../src/retrieval/lexical.ts";
import { runEvaluate } from "../src/run/evaluate.ts";
import { openStore, type Store } from "../src/store/database.ts";
import { startResultWriter } from "../src/store/writer.ts";
import { createRun, recordRunExamples } from "../src/store/runs.ts";
import { VERSION } from "../src/version.ts";
import { atMost, figuresFor, progress, repeat, summarize, type Figure, type Summary } from "./measure.ts";
import { BENCH_HOPS, benchProgramOptions, programCpuPerExample, ReplayClient } from "./program-cpu.ts";
import { replicatedExamples, replicatedRecords, temporaryDirectory } from "./records.ts";
import { threadCpu, threadCpuSince, type ThreadCpu } from "./threads.ts";

const LATENCY_MS = 50;

/** Examples per run and runs, per concurrency; C = 1 is kept short (its ideal is calls · 50 ms). */
const PLAN = [
  { concurrency: 1, examples: 20, runs: 3 },
  { concurrency: 16, examples: 500, runs: 3 },
  { concurrency: 64, examples: 500, runs: 7 },
] as const;
const END_TO_END_RUNS = 3;

export interface FakeLm {
  baseUrl: string;
  stop(): void;
}

/** Start bench/fake-lm-child.ts and wait for its URL. */
export async function startFakeLm(latencyMs: number): Promise<FakeLm> {
  return startServerChild("fake-lm-child.ts", [String(latencyMs)]);
}

/** Start a fake server script of bench/ in its own process and wait for the URL it prints. */
export async function startServerChild(script: string, args: string[]): Promise<FakeLm> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, script), ...args], {
    stdout: "pipe",
    stderr: "inherit",
    stdin: "ignore",
  });
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${script} exited before printing its URL`);
    text += decoder.decode(value);
  }
  reader.releaseLock();
  const { baseUrl } = JSON.parse(text.slice(0, text.indexOf("\n"))) as { baseUrl: string };
  return { baseUrl, stop: () => child.kill() };
}

export interface ScoredResult {
  example: Example;
  result: ProgramResult;
  score: ExampleScore;
}

export interface LoopRun {
  wallMs: number;
  storeMs: number;
  calls: number;
  failures: number;
  meanCallMs: number;
  /** CPU time of this process (user + system, all threads) during the loop. */
  cpuMs: number;
  /** The same by thread (null without /proc): a thread that ended during the loop is not counted. */
  threads: ThreadCpu | null;
  results: ScoredResult[];
}

export function openBenchStore(path: string, examples: readonly Example[], name: string): { store: Store; runId: number } {
  const store = openStore(path);
  const run = createRun(store, { name, kind: "evaluate", config: { bench: name }, toolVersion: VERSION, retriever: "lexical" });
  recordRunExamples(
    store,
    run.id,
    examples.map((example, position) => ({ exampleId: example.id, position, role: "test", nHops: example.nHops, shape: example.shape })),
  );
  return { store, runId: run.id };
}

/** The LM client every evaluate bench uses: `evaluate`'s settings, a fixed concurrency. */
export function benchClient(baseUrl: string, concurrency: number): OpenAIChatClient {
  return createChatClient({
    baseUrls: [baseUrl],
    apiKey: DEFAULTS.apiKey,
    model: DEFAULTS.model,
    temperature: DEFAULTS.evaluateTemperature,
    maxTokens: DEFAULTS.maxTokens,
    maxRetries: DEFAULTS.maxRetries,
    requestTimeoutSeconds: 60,
    concurrency,
  });
}

/** The evaluate loop of src/run/evaluate.ts (runPending), minus progress output; the store time is measured. */
export async function runLoop(examples: readonly Example[], concurrency: number, baseUrl: string, databasePath: string): Promise<LoopRun> {
  const { store, runId } = openBenchStore(databasePath, examples, `bench-c${concurrency}`);
  const client = benchClient(baseUrl, concurrency);
  const retriever = new LexicalRetriever();
  const limiter = new Limiter(concurrency);
  const results: ScoredResult[] = [];
  let storeMs = 0;
  const writer = await startResultWriter(databasePath, store);
  const recorded: Array<Promise<void>> = [];
  const threadsBefore = threadCpu();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    examples.map((example) =>
      limiter.run(async () => {
        const result = await runMultiHop(example, benchProgramOptions(client, retriever));
        const score = scoreExample(example, result, DEFAULTS.reward);
        // As src/run/evaluate.ts: hand the example to the writer thread and free the slot. The
        // time measured is what the store costs the thread that drives the LM calls.
        const storeStarted = performance.now();
        recorded.push(writer.record(runId, { exampleId: example.id, nHops: example.nHops, goldAnswers: example.answers, result, score }));
        storeMs += performance.now() - storeStarted;
        results.push({ example, result, score });
      }),
    ),
  );
  const waitStarted = performance.now();
  await writer.flush();
  await Promise.all(recorded);
  const finalWaitMs = performance.now() - waitStarted;
  storeMs += finalWaitMs;
  const wallMs = performance.now() - started;
  const threads = threadCpuSince(threadsBefore); // before close: the writer thread ends there
  await writer.close();
  const cpu = process.cpuUsage(cpuBefore);
  store.close();
  const calls = results.reduce((sum, item) => sum + item.result.calls.length, 0);
  const latency = results.reduce((sum, item) => sum + item.result.calls.reduce((total, call) => total + call.latencyMs, 0), 0);
  const failures = results.filter((item) => item.result.failure !== null).length;
  return { wallMs, storeMs, calls, failures, meanCallMs: calls === 0 ? 0 : latency / calls, cpuMs: (cpu.user + cpu.system) / 1000, threads, results };
}

/** Real program results for `count` examples (fake LM without latency), for the store suite. */
export async function collectResults(count: number): Promise<ScoredResult[]> {
  const fake = await startFakeLm(0);
  const directory = temporaryDirectory("results");
  try {
    const run = await runLoop(await replicatedExamples(count), 64, fake.baseUrl, join(directory, "results.db"));
    if (run.failures > 0) throw new Error(`${run.failures} program runs failed against the fake LM`);
    return run.results;
  } finally {
    fake.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** CPU per example by thread (bench/threads.ts), when /proc could be read in every run. */
function threadFigures(runs: readonly LoopRun[], examples: number): Figure[] {
  const figure = figuresFor("pipeline");
  const threads = runs.flatMap((run) => (run.threads === null ? [] : [run.threads]));
  if (threads.length < runs.length) return [];
  const groups: Array<{ key: keyof ThreadCpu; what: string }> = [
    { key: "main", what: "main thread (program, retrieval, metrics, LM client JS, hand-off to the writer)" },
    { key: "writer", what: "results writer thread (SQLite)" },
    { key: "http", what: "Bun's HTTP client thread" },
    { key: "other", what: "other threads (JIT, garbage collector)" },
  ];
  return groups.map(({ key, what }) =>
    figure({
      name: `CPU per example, C = 64: ${what}`,
      unit: "ms",
      value: summarize(threads.map((thread) => thread[key] / examples)),
      decimals: 3,
      note: "from /proc/self/task (10 ms ticks, over the whole loop)",
    }),
  );
}

/** The program alone (bench/program-cpu.ts), 3 runs after one recording pass against the fake LM. */
async function programAlone(examples: readonly Example[], baseUrl: string): Promise<Summary> {
  const replay = new ReplayClient(benchClient(baseUrl, 64));
  await programCpuPerExample(examples, replay);
  replay.stopRecording();
  return repeat(3, () => programCpuPerExample(examples, replay), 1);
}

function idealMs(calls: number, concurrency: number): number {
  return (calls * LATENCY_MS) / concurrency;
}

async function endToEnd(baseUrl: string, directory: string): Promise<Summary> {
  const examples = 500;
  const concurrency = 64;
  const file = join(directory, "evaluate500.jsonl");
  await Bun.write(file, `${(await replicatedRecords(examples)).map((record) => JSON.stringify(record)).join("\n")}\n`);
  return repeat(
    END_TO_END_RUNS,
    async (run) => {
      const options = v.parse(EvaluateSchema, {
        datasets: file,
        db: join(directory, `end-to-end-${run}.db`),
        outputDir: join(directory, "outputs"),
        runName: `bench-end-to-end-${run < 0 ? "warmup" : run}`,
        baseUrl: [baseUrl],
        retriever: "lexical",
        numHops: BENCH_HOPS,
        concurrency,
        cache: false,
        logLevel: "warn",
      });
      const started = performance.now();
      const summary = await runEvaluate(options, new AbortController().signal);
      const wallMs = performance.now() - started;
      const lmErrors = summary.scores?.overall.lm_errors ?? 0;
      if (summary.ranNow !== examples || lmErrors > 0) throw new Error(`runEvaluate: ${summary.ranNow} run, ${lmErrors} LM errors`);
      return wallMs / idealMs(examples * 2 * BENCH_HOPS, concurrency);
    },
    1,
  );
}

export async function runPipelineSuite(): Promise<Figure[]> {
  const figure = figuresFor("pipeline");
  const storeFigure = figuresFor("store");
  const figures: Figure[] = [];
  const fake = await startFakeLm(LATENCY_MS);
  const directory = temporaryDirectory("pipeline");
  try {
    let databases = 0;
    for (const step of PLAN) {
      progress(`pipeline: C = ${step.concurrency}, ${step.examples} examples × ${step.runs} runs (L = ${LATENCY_MS} ms)`);
      const examples = await replicatedExamples(step.examples);
      const runs: LoopRun[] = [];
      const ratio = await repeat(
        step.runs,
        async () => {
          const run = await runLoop(examples, step.concurrency, fake.baseUrl, join(directory, `loop-${databases++}.db`));
          if (run.failures > 0) throw new Error(`pipeline: ${run.failures} examples failed against the fake LM`);
          runs.push(run);
          return run.wallMs / idealMs(run.calls, step.concurrency);
        },
        step.concurrency === 64 ? 1 : 0,
      );
      const calls = runs[0]?.calls ?? 0;
      const measured = runs.slice(-step.runs);
      const quantum = (Math.ceil(step.examples / step.concurrency) * step.concurrency) / step.examples;
      figures.push(
        figure({
          name: `evaluate loop, C = ${step.concurrency}: wall ÷ ideal (${step.examples} examples)`,
          unit: "×",
          value: ratio,
          decimals: 3,
          goal: step.concurrency === 64 ? atMost(1.1, "≤ 1.10") : undefined,
          note:
            `${calls} calls per run (${calls / step.examples} per example), ideal = ${calls} · ${LATENCY_MS} ms / ${step.concurrency} = ` +
            `${(idealMs(calls, step.concurrency) / 1000).toFixed(2)} s; median wall ${(summarize(measured.map((run) => run.wallMs)).median / 1000).toFixed(2)} s` +
            (quantum > 1.0005 ? `; ${step.examples} examples in slots of ${step.concurrency} alone make it ≥ ${quantum.toFixed(3)}` : "") +
            (step.concurrency === 1 ? "; C = 1 uses 20 examples to keep the run short" : ""),
        }),
      );
      if (step.concurrency === 64) {
        figures.push(
          figure({
            name: "LM call latency seen by the client, C = 64 (fake waits 50 ms)",
            unit: "ms",
            value: summarize(measured.map((run) => run.meanCallMs)),
            decimals: 1,
            note: "mean per call over each run (ModuleCallTrace.latencyMs, includes HTTP and JSON)",
          }),
          figure({
            name: "CPU time of the evaluate process per example, C = 64",
            unit: "ms",
            value: summarize(measured.map((run) => run.cpuMs / step.examples)),
            decimals: 2,
            goal: atMost(0.5, "≤ 0.5 ms"),
            note: `process.cpuUsage() over the loop (all threads); median busy share of wall ${summarize(measured.map((run) => (100 * run.cpuMs) / run.wallMs)).median.toFixed(0)} %`,
          }),
          ...threadFigures(measured, step.examples),
          figure({
            name: "CPU of the program alone per example, C = 64 (no HTTP, no store)",
            unit: "ms",
            value: await programAlone(examples, fake.baseUrl),
            decimals: 3,
            note: "runMultiHop + scoreExample with a client replaying the fake's answers in-process: prompts, parsing, BM25, metrics",
          }),
          storeFigure({
            name: "store share of evaluate wall time, C = 64 (main thread: hand-off to the writer thread + final wait)",
            unit: "%",
            value: summarize(measured.map((run) => (100 * run.storeMs) / run.wallMs)),
            decimals: 2,
            note: `median ${summarize(measured.map((run) => run.storeMs / step.examples)).median.toFixed(3)} ms per example (1 prediction + ${calls / step.examples} module calls; the writer thread commits batches of up to 64, or what came within 50 ms)`,
          }),
        );
      }
    }
    progress(`pipeline: runEvaluate end to end, C = 64, 500 examples × ${END_TO_END_RUNS} runs`);
    figures.push(
      figure({
        name: "runEvaluate end to end, C = 64: wall ÷ ideal (500 examples)",
        unit: "×",
        value: await endToEnd(fake.baseUrl, directory),
        decimals: 3,
        goal: atMost(1.1, "≤ 1.10"),
        note: "includes loading the JSONL file, preflight (GET /v1/models), run bookkeeping and writing outputs/",
      }),
    );
  } finally {
    fake.stop();
    rmSync(directory, { recursive: true, force: true });
  }
  return figures;
}
