/**
 * Suite "throughput", part 1 (issue 19 acceptance): `--concurrency auto` against simulated
 * inference servers in simulated time (bench/simulate-servers.ts: the real endpoint pool and
 * adaptive limit, test/fakes/batching-model.ts servers), side by side with a sweep of fixed
 * --concurrency on the same server and seed. Five seeds per server (the completion lengths
 * drawn); every figure is the median over them with min – max. Seconds of CPU, no waiting.
 *
 * 1. Servers batching K = 8, 64, 256 and 512 sequences (step 5 ms · (1 + b/128), median 60
 *    tokens: a 7B model on one H100, batching-model.ts): auto's throughput ÷ the best fixed
 *    setting's, and auto's p50 latency ÷ that of the smallest fixed setting within 1 % of the
 *    best throughput (the knee: a larger setting only adds queueing).
 * 2. An API refusing above R = 100 requests/s (429 + Retry-After; 1.2 s per answer, no batching
 *    limit): auto's throughput ÷ R and the share refused, after the first 10 s.
 * 3. Three servers (K = 8, 64, 256) behind repeated --base-url, auto: total ÷ the sum of each
 *    one's best fixed throughput from (1), same seed.
 */
import { DEFAULTS } from "../src/config/defaults.ts";
import type { BatchingModelOptions } from "../test/fakes/batching-model.ts";
import { atLeast, atMost, figuresFor, progress, summarize, type Figure } from "./measure.ts";
import { simulate, type EndpointFigures, type SimulationResult } from "./simulate-servers.ts";

const SEEDS = [1, 2, 3, 4, 5];
/** Fixed settings swept, as multiples of K. */
const SWEEP = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2];
const SERVERS = [8, 64, 256, 512];
const WARM_MS = 60_000;
const MEASURE_MS = 240_000;
const RATE = 100;
const RATE_WARM_MS = 10_000;
const RATE_MEASURE_MS = 240_000;
const API: BatchingModelOptions = { maxBatch: 100_000, stepMs: 20, batchForDoubleStep: Number.POSITIVE_INFINITY, seed: 1 };
const MAX = DEFAULTS.maxConcurrency;

interface Sweep {
  maxBatch: number;
  /** Per seed: every fixed setting, auto, the best setting and the knee. */
  seeds: Array<{
    seed: number;
    fixed: Array<{ concurrency: number; run: SimulationResult }>;
    auto: SimulationResult;
    best: SimulationResult;
    knee: { concurrency: number; run: SimulationResult };
  }>;
}

function model(maxBatch: number, seed: number): BatchingModelOptions {
  return { maxBatch, seed };
}

function sweepServer(maxBatch: number): Sweep {
  const settings = [...new Set(SWEEP.map((share) => Math.min(MAX, Math.max(1, Math.round(share * maxBatch)))))];
  return {
    maxBatch,
    seeds: SEEDS.map((seed) => {
      const servers = [{ model: model(maxBatch, seed) }];
      const fixed = settings.map((concurrency) => ({
        concurrency,
        run: simulate({ servers, concurrency, maxConcurrency: MAX, warmMs: WARM_MS, measureMs: MEASURE_MS }),
      }));
      const auto = simulate({ servers, concurrency: "auto", maxConcurrency: MAX, warmMs: WARM_MS, measureMs: MEASURE_MS });
      const best = fixed.reduce((top, entry) => (entry.run.throughput > top.run.throughput ? entry : top)).run;
      const knee = fixed.find((entry) => entry.run.throughput >= 0.99 * best.throughput) ?? { concurrency: 0, run: best };
      return { seed, fixed, auto, best, knee };
    }),
  };
}

function range(values: number[], decimals: number): string {
  const summary = summarize(values);
  const text = (value: number) => value.toFixed(decimals);
  return summary.min === summary.max ? text(summary.median) : `${text(summary.median)} (${text(summary.min)}–${text(summary.max)})`;
}

/** What the limiter converged to: time-weighted mean over the measured stretch, its min – max, end of slow start. */
function convergence(endpoints: EndpointFigures[]): string {
  const settled = endpoints.map((endpoint) => endpoint.settledAtMs).filter((at): at is number => at !== null);
  return (
    `limit ${range(
      endpoints.map((endpoint) => endpoint.limitMean),
      0,
    )}, moving within ${Math.min(...endpoints.map((endpoint) => endpoint.limitMin))}–${Math.max(...endpoints.map((endpoint) => endpoint.limitMax))}` +
    (settled.length > 0
      ? `, slow start ended after ${range(
          settled.map((at) => at / 1000),
          1,
        )} s`
      : "")
  );
}

function sweepTable(sweep: Sweep): string {
  const first = sweep.seeds[0];
  if (first === undefined) return "";
  return first.fixed
    .map((entry, index) => {
      const runs = sweep.seeds.map((seed) => seed.fixed[index]?.run).filter((run): run is SimulationResult => run !== undefined);
      return `C = ${entry.concurrency}: ${range(
        runs.map((run) => run.throughput),
        1,
      )} calls/s, p50 ${range(
        runs.map((run) => run.p50Ms),
        0,
      )} ms`;
    })
    .join("; ");
}

function serverFigures(sweep: Sweep): Figure[] {
  const figure = figuresFor("throughput");
  const label = `K = ${sweep.maxBatch}`;
  const autos = sweep.seeds.map((seed) => seed.auto);
  return [
    figure({
      name: `simulated server ${label}: auto ÷ best fixed --concurrency, throughput`,
      unit: "×",
      value: summarize(sweep.seeds.map((seed) => seed.auto.throughput / seed.best.throughput)),
      decimals: 3,
      goal: atLeast(0.95, "≥ 0.95"),
      note:
        `${SEEDS.length} seeds, ${WARM_MS / 1000} s warm-up then ${MEASURE_MS / 1000} s measured (simulated). Sweep (median (min–max) over seeds): ${sweepTable(sweep)}. ` +
        `Knee (smallest C within 1 % of the best): C = ${range(
          sweep.seeds.map((seed) => seed.knee.concurrency),
          0,
        )}. ` +
        `auto: ${range(
          autos.map((run) => run.throughput),
          1,
        )} calls/s, p50 ${range(
          autos.map((run) => run.p50Ms),
          0,
        )} ms, ${convergence(autos.flatMap((run) => run.endpoints))}`,
    }),
    figure({
      name: `simulated server ${label}: auto ÷ fixed at the knee, p50 latency`,
      unit: "×",
      value: summarize(sweep.seeds.map((seed) => seed.auto.p50Ms / seed.knee.run.p50Ms)),
      decimals: 3,
      goal: atMost(1.5, "≤ 1.5"),
      note: "the server's own latency (arrival to answer), median over the measured stretch; the knee is the best fixed setting with the least latency",
    }),
  ];
}

function rateLimitedFigures(): Figure[] {
  const figure = figuresFor("throughput");
  const runs = SEEDS.map((seed) =>
    simulate({
      servers: [{ model: { ...API, seed }, ratePerSecond: RATE }],
      concurrency: "auto",
      maxConcurrency: MAX,
      warmMs: RATE_WARM_MS,
      measureMs: RATE_MEASURE_MS,
    }),
  );
  return [
    figure({
      name: `simulated API limited to R = ${RATE} requests/s: auto's throughput ÷ R, after the first 10 s`,
      unit: "×",
      value: summarize(runs.map((run) => run.throughput / RATE)),
      decimals: 3,
      goal: atLeast(0.9, "≥ 0.9"),
      note: `token bucket of R/s with a burst of R, 429 + Retry-After (when the next token comes); ${RATE_MEASURE_MS / 1000} s measured; ${convergence(runs.flatMap((run) => run.endpoints))}`,
    }),
    figure({
      name: "simulated rate-limited API: requests refused (429) after the first 10 s",
      unit: "%",
      value: summarize(runs.map((run) => (100 * run.refused) / Math.max(1, run.sent))),
      decimals: 2,
      goal: atMost(2, "< 2 %"),
      note: `refused ÷ sent (${range(
        runs.map((run) => run.refused),
        0,
      )} of ${range(
        runs.map((run) => run.sent),
        0,
      )})`,
    }),
  ];
}

function threeServerFigures(sweeps: Sweep[]): Figure[] {
  const figure = figuresFor("throughput");
  const chosen = [8, 64, 256].map((maxBatch) => sweeps.find((sweep) => sweep.maxBatch === maxBatch)).filter((sweep): sweep is Sweep => sweep !== undefined);
  const runs = SEEDS.map((seed, index) => {
    const run = simulate({
      servers: chosen.map((sweep) => ({ model: model(sweep.maxBatch, seed) })),
      concurrency: "auto",
      maxConcurrency: MAX,
      warmMs: WARM_MS,
      measureMs: MEASURE_MS,
    });
    const sum = chosen.reduce((total, sweep) => total + (sweep.seeds[index]?.best.throughput ?? 0), 0);
    return { run, sum };
  });
  const perServer = chosen
    .map(
      (sweep, server) =>
        `K = ${sweep.maxBatch}: ${range(
          runs.map((entry) => entry.run.endpoints[server]?.throughput ?? 0),
          1,
        )} calls/s at ${convergence(runs.map((entry) => entry.run.endpoints[server]).filter((endpoint): endpoint is EndpointFigures => endpoint !== undefined))}`,
    )
    .join("; ");
  return [
    figure({
      name: "simulated servers K = 8, 64, 256 behind one client, auto: throughput ÷ the sum of each one's best fixed",
      unit: "×",
      value: summarize(runs.map((entry) => entry.run.throughput / entry.sum)),
      decimals: 3,
      goal: atLeast(0.9, "≥ 0.9"),
      note: `sum of the best fixed ${range(
        runs.map((entry) => entry.sum),
        1,
      )} calls/s, auto ${range(
        runs.map((entry) => entry.run.throughput),
        1,
      )}; per server: ${perServer}`,
    }),
  ];
}

export function simulatedThroughputFigures(): Figure[] {
  const started = performance.now();
  const sweeps: Sweep[] = [];
  for (const maxBatch of SERVERS) {
    progress(`throughput (simulated): K = ${maxBatch}, ${SEEDS.length} seeds × ${SWEEP.length} fixed settings and auto`);
    sweeps.push(sweepServer(maxBatch));
  }
  progress("throughput (simulated): rate-limited API, three servers");
  const figures = [...sweeps.flatMap(serverFigures), ...rateLimitedFigures(), ...threeServerFigures(sweeps)];
  progress(`throughput (simulated): done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return figures;
}
