/**
 * Suite "throughput" (issue 19): does `--concurrency auto` keep inference servers as busy as the
 * best fixed --concurrency, without piling up latency or refusals?
 *
 * Part 1, the acceptance figures, runs in simulated time (bench/throughput-simulated.ts). Part 2,
 * here, checks the same over real HTTP with the real client, in real time and short windows: a
 * server is test/fakes/batching-lm.ts in its own process (bench/batching-lm-child.ts; the model of
 * test/fakes/batching-model.ts, with short completions so a run takes seconds), and this process
 * runs the evaluate loop as musique does (src/run/examples.ts runExamples → runMultiHop with the
 * lexical retriever → the results writer thread; the real LM client and endpoint pool), with a
 * fixed --concurrency or with auto, for a warm-up and then a measured stretch. Throughput = LM
 * calls the server finished in the measured stretch per second; latency = the server's own
 * (arrival to answer, median), so requests the client holds back do not count. Every run starts
 * a fresh server.
 *
 * 1. K = 64: a short sweep of fixed concurrencies, then auto; the best fixed setting and auto run
 *    again side by side, and the figures are auto ÷ best over those pairs.
 * 2. An API limited to R requests/s: auto's throughput ÷ R and the share refused, measured for
 *    20 s after the first 10 s.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DEFAULTS } from "../src/config/defaults.ts";
import type { ConcurrencySetting } from "../src/config/fields.ts";
import type { Example } from "../src/data/types.ts";
import { InterruptedError } from "../src/errors.ts";
import { createChatClient } from "../src/lm/client.ts";
import { runMultiHop } from "../src/program/multihop.ts";
import { LexicalRetriever } from "../src/retrieval/lexical.ts";
import { programConcurrency } from "../src/run/concurrency.ts";
import { runExamples } from "../src/run/examples.ts";
import { startResultWriter } from "../src/store/writer.ts";
import type { BatchingLmOptions, BatchingLmStats } from "../test/fakes/batching-lm.ts";
import { atLeast, atMost, figuresFor, progress, summarize, type Figure } from "./measure.ts";
import { openBenchStore, startServerChild, type FakeLm } from "./pipeline.ts";
import { benchProgramOptions } from "./program-cpu.ts";
import { replicatedExamples, temporaryDirectory } from "./records.ts";
import { simulatedThroughputFigures } from "./throughput-simulated.ts";

interface ServerSpec {
  label: string;
  options: BatchingLmOptions;
  /** Fixed concurrencies of the sweep. */
  sweep: number[];
}

/** Short completions keep the bench short: latency scales with them, the ratios do not. */
const MEDIAN_TOKENS = 40;
const SERVERS: ServerSpec[] = [{ label: "K = 64", options: { maxBatch: 64, stepMs: 3, medianTokens: MEDIAN_TOKENS, seed: 64 }, sweep: [48, 64, 96, 128] }];
/** The rate-limited API: R requests/s, no batching slowdown, capacity far beyond; ~0.9 s per answer (an API's pace, as in part 1). */
const RATE = 100;
const API: BatchingLmOptions = {
  maxBatch: 100_000,
  stepMs: 20,
  batchForDoubleStep: Number.POSITIVE_INFINITY,
  medianTokens: MEDIAN_TOKENS,
  ratePerSecond: RATE,
  seed: 100,
};
const RATE_WARM_MS = 10_000;
const RATE_MEASURE_MS = 20_000;
/** auto and the best fixed setting run this many times side by side (the sweep's run counts as the first). */
const PAIRS = 2;
const MAX_CONCURRENCY = DEFAULTS.maxConcurrency;

interface Timing {
  warmMs: number;
  measureMs: number;
}

interface Measured {
  /** LM calls finished per second over the measured stretch (all servers). */
  throughput: number;
  perServer: number[];
  /** Median server latency (arrival to answer) of those calls. */
  p50Ms: number;
  refused: number;
  /** Per endpoint: the limit over the measured stretch (time-weighted mean, min, max). */
  limits: Array<{ mean: number; min: number; max: number }>;
}

/** The mean latency of a request on this server at batch `batch` (ms), to size the run. */
function latencyMs(options: BatchingLmOptions, batch: number): number {
  const tokens = (options.medianTokens ?? 60) * Math.exp((0.5 * 0.5) / 2) + 2;
  const doubling = options.batchForDoubleStep ?? 128;
  return tokens * (options.stepMs ?? 5) * (1 + Math.min(batch, options.maxBatch) / doubling);
}

function timingFor(options: BatchingLmOptions, auto: boolean): Timing {
  const latency = latencyMs(options, options.maxBatch);
  return { warmMs: Math.max(auto ? 8000 : 2000, (auto ? 18 : 4) * latency), measureMs: Math.max(5000, 8 * latency) };
}

async function statsOf(server: FakeLm): Promise<BatchingLmStats> {
  const response = await fetch(`${server.baseUrl.replace(/\/v1$/, "")}/fake/stats`);
  return (await response.json()) as BatchingLmStats;
}

function median(values: number[]): number {
  return values.length === 0 ? 0 : summarize(values).median;
}

let runNumber = 0;

/** Run the evaluate loop against fresh servers; measure after the warm-up. */
async function drive(
  specs: BatchingLmOptions[],
  concurrency: ConcurrencySetting,
  timing: Timing,
  examples: readonly Example[],
  directory: string,
): Promise<Measured> {
  const servers = await Promise.all(
    specs.map((options) =>
      startServerChild("batching-lm-child.ts", [JSON.stringify(options, (_key, value) => (value === Number.POSITIVE_INFINITY ? null : value))]),
    ),
  );
  const database = join(directory, `run-${runNumber++}.db`);
  const { store, runId } = openBenchStore(database, examples, `throughput-${runNumber}`);
  const writer = await startResultWriter(database, store);
  const abort = new AbortController();
  try {
    const client = createChatClient({
      baseUrls: servers.map((server) => server.baseUrl),
      apiKey: DEFAULTS.apiKey,
      model: DEFAULTS.model,
      temperature: DEFAULTS.evaluateTemperature,
      maxTokens: DEFAULTS.maxTokens,
      maxRetries: 20,
      requestTimeoutSeconds: 300,
      concurrency,
      maxConcurrency: MAX_CONCURRENCY,
    });
    const changes: Array<{ endpoint: number; at: number; limit: number }> = [];
    const urls = servers.map((server) => server.baseUrl);
    client.pool.onLimitChange((url, change) => changes.push({ endpoint: urls.indexOf(url), at: performance.now(), limit: change.limit }));
    const retriever = new LexicalRetriever();
    let finished = false;
    const running = runExamples({
      runId,
      step: -1,
      examples,
      program: (example, signal) => runMultiHop(example, benchProgramOptions(client, retriever, signal)),
      reward: DEFAULTS.reward,
      concurrency: programConcurrency({ concurrency, maxConcurrency: MAX_CONCURRENCY }, client.concurrency),
      writer,
      signal: abort.signal,
      endpoints: { lm: urls.join(", "), retrieval: "" },
      resumeCommand: "(bench)",
    })
      .catch((error: unknown) => {
        if (!(error instanceof InterruptedError)) throw error;
      })
      .finally(() => {
        finished = true;
      });
    await Bun.sleep(timing.warmMs);
    const before = await Promise.all(servers.map(statsOf));
    const measureStart = performance.now();
    await Bun.sleep(timing.measureMs);
    const after = await Promise.all(servers.map(statsOf));
    const measureEnd = performance.now();
    if (finished) throw new Error(`the run ran out of its ${examples.length} examples before the end of the measurement`);
    abort.abort(new InterruptedError());
    await running;
    const perServer = after.map((stats, index) => {
      const start = before[index]?.now ?? 0;
      return stats.completions.filter((record) => record.answeredAt > start && record.answeredAt <= stats.now);
    });
    const seconds = timing.measureMs / 1000;
    const limits = servers.map((_server, endpoint) =>
      limitOver(changes, endpoint, client.pool.endpoints[endpoint]?.limit?.limit ?? 0, measureStart, measureEnd, concurrency),
    );
    return {
      throughput: perServer.reduce((sum, records) => sum + records.length, 0) / seconds,
      perServer: perServer.map((records) => records.length / seconds),
      p50Ms: median(perServer.flat().map((record) => record.answeredAt - record.arrivedAt)),
      refused: after.reduce((sum, stats, index) => sum + stats.refusals.filter((at) => at > (before[index]?.now ?? 0)).length, 0),
      limits,
    };
  } finally {
    abort.abort(new InterruptedError());
    await writer.close();
    store.close();
    for (const server of servers) server.stop();
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${database}${suffix}`, { force: true });
  }
}

/** An endpoint's limit over [start, end]: time-weighted mean, min and max (a fixed setting: itself). */
function limitOver(
  changes: ReadonlyArray<{ endpoint: number; at: number; limit: number }>,
  endpoint: number,
  final: number,
  start: number,
  end: number,
  concurrency: ConcurrencySetting,
): { mean: number; min: number; max: number } {
  if (concurrency !== "auto") return { mean: concurrency, min: concurrency, max: concurrency };
  const own = changes.filter((change) => change.endpoint === endpoint);
  let current = [...own].reverse().find((change) => change.at <= start)?.limit ?? own[0]?.limit ?? final;
  let area = 0;
  let min = current;
  let max = current;
  let at = start;
  for (const change of own.filter((entry) => entry.at > start && entry.at <= end)) {
    area += current * (change.at - at);
    at = change.at;
    current = change.limit;
    min = Math.min(min, current);
    max = Math.max(max, current);
  }
  area += current * (end - at);
  return { mean: area / (end - start), min, max };
}

function limitText(limit: { mean: number; min: number; max: number }): string {
  return limit.min === limit.max ? String(limit.min) : `${limit.mean.toFixed(0)} (${limit.min}–${limit.max})`;
}

async function sweepServer(spec: ServerSpec, examples: readonly Example[], directory: string): Promise<Figure[]> {
  const figure = figuresFor("throughput");
  const fixedTiming = timingFor(spec.options, false);
  const autoTiming = timingFor(spec.options, true);
  const sweep: Array<{ concurrency: number; measured: Measured }> = [];
  for (const concurrency of spec.sweep) {
    progress(`throughput: ${spec.label}, --concurrency ${concurrency} (${((fixedTiming.warmMs + fixedTiming.measureMs) / 1000).toFixed(0)} s)`);
    sweep.push({ concurrency, measured: await drive([spec.options], concurrency, fixedTiming, examples, directory) });
  }
  const best = sweep.reduce((top, entry) => (entry.measured.throughput > top.measured.throughput ? entry : top));
  const pairs: Array<{ fixed: Measured; auto: Measured }> = [];
  for (let pair = 0; pair < PAIRS; pair++) {
    progress(
      `throughput: ${spec.label}, auto${pair > 0 ? ` and --concurrency ${best.concurrency} again` : ""} (${((autoTiming.warmMs + autoTiming.measureMs) / 1000).toFixed(0)} s)`,
    );
    const auto = await drive([spec.options], "auto", autoTiming, examples, directory);
    const fixed = pair === 0 ? best.measured : await drive([spec.options], best.concurrency, fixedTiming, examples, directory);
    pairs.push({ fixed, auto });
  }
  const table = sweep
    .map((entry) => `C = ${entry.concurrency}: ${entry.measured.throughput.toFixed(1)} calls/s, p50 ${entry.measured.p50Ms.toFixed(0)} ms`)
    .join("; ");
  const autoText = pairs
    .map(
      (entry) =>
        `${entry.auto.throughput.toFixed(1)} calls/s, p50 ${entry.auto.p50Ms.toFixed(0)} ms at limit ${limitText(entry.auto.limits[0] ?? { mean: 0, min: 0, max: 0 })}`,
    )
    .join("; ");
  const server = `K = ${spec.options.maxBatch}, step ${spec.options.stepMs} ms · (1 + b/${spec.options.batchForDoubleStep ?? 128}), median ${MEDIAN_TOKENS} tokens`;
  return [
    figure({
      name: `HTTP, real client, ${spec.label}: auto ÷ best fixed --concurrency, throughput`,
      unit: "×",
      value: summarize(pairs.map((entry) => entry.auto.throughput / entry.fixed.throughput)),
      decimals: 3,
      goal: atLeast(0.95, "≥ 0.95"),
      note: `${server}. Sweep: ${table}; best C = ${best.concurrency}. auto (measured after ${(autoTiming.warmMs / 1000).toFixed(0)} s): ${autoText}`,
    }),
    figure({
      name: `HTTP, real client, ${spec.label}: auto ÷ best fixed --concurrency, p50 latency`,
      unit: "×",
      value: summarize(pairs.map((entry) => entry.auto.p50Ms / entry.fixed.p50Ms)),
      decimals: 2,
      goal: atMost(1.5, "≤ 1.5"),
      note: "the servers' own latency (arrival to answer), median over the measured stretch",
    }),
  ];
}

async function rateLimited(examples: readonly Example[], directory: string): Promise<Figure[]> {
  const figure = figuresFor("throughput");
  const runs: Measured[] = [];
  for (let run = 0; run < PAIRS; run++) {
    progress(`throughput: API limited to ${RATE} requests/s, auto (${(RATE_WARM_MS + RATE_MEASURE_MS) / 1000} s)`);
    runs.push(await drive([API], "auto", { warmMs: RATE_WARM_MS, measureMs: RATE_MEASURE_MS }, examples, directory));
  }
  const share = (measured: Measured) => (100 * measured.refused) / (measured.refused + measured.throughput * (RATE_MEASURE_MS / 1000));
  return [
    figure({
      name: `HTTP, real client, API limited to R = ${RATE} requests/s: auto's throughput ÷ R, after the first 10 s`,
      unit: "×",
      value: summarize(runs.map((measured) => measured.throughput / RATE)),
      decimals: 3,
      goal: atLeast(0.9, "≥ 0.9"),
      note: `token bucket of R/s with a burst of R, 429 with retry-after-ms; limit over the stretch: ${runs.map((measured) => limitText(measured.limits[0] ?? { mean: 0, min: 0, max: 0 })).join("; ")}`,
    }),
    figure({
      name: "HTTP, real client, rate-limited API: requests refused (429) after the first 10 s",
      unit: "%",
      value: summarize(runs.map(share)),
      decimals: 2,
      goal: atMost(2, "< 2 %"),
    }),
  ];
}

export async function runThroughputSuite(): Promise<Figure[]> {
  const directory = temporaryDirectory("throughput");
  // Enough examples for the longest run at the highest throughput (4 LM calls each).
  const examples = await replicatedExamples(6_000);
  try {
    const figures: Figure[] = [];
    for (const spec of SERVERS) figures.push(...(await sweepServer(spec, examples, directory)));
    figures.push(...(await rateLimited(examples, directory)));
    return [...simulatedThroughputFigures(), ...figures];
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
