/**
 * Suite "store": rows per second into a fresh SQLite store (WAL, as openStore sets it up), for
 * the writers as the program batches them: recordExampleResult (one transaction per example:
 * the prediction + its module calls), recordRollouts (one transaction per training step of
 * 6 examples × 8 rollouts).
 * The rows are real: program results of the 150 sample examples against the fake LM.
 * (The store's share of evaluate wall time is measured in the pipeline suite.)
 */
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { DEFAULTS } from "../src/config/defaults.ts";
import { openStore, type Store } from "../src/store/database.ts";
import { packRecord, unpackRecord } from "../src/store/packed-rows.ts";
import { exampleRows, recordExampleResult, writeExampleRows } from "../src/store/results.ts";
import { inTransaction } from "../src/store/database.ts";
import { createRun, recordRunExamples, type RunKind } from "../src/store/runs.ts";
import { recordRollouts, type RolloutResult } from "../src/store/training.ts";
import { VERSION } from "../src/version.ts";
import { figuresFor, progress, repeat, type Figure, type Summary } from "./measure.ts";
import { collectResults, type ScoredResult } from "./pipeline.ts";
import { copyId, temporaryDirectory } from "./records.ts";

const RUNS = 5;
/** Examples recorded per run by recordExampleResult. */
const EXAMPLES = 3_000;
/** Training steps per run; each step has numExamplesPerStep × numRolloutsPerStep rollouts. */
const STEPS = 60;
/** Examples per transaction of the writer thread (writer-worker.ts MAX_BATCH). */
const WRITER_BATCH = 64;
const EXAMPLES_PER_STEP = DEFAULTS.numExamplesPerStep;
const ROLLOUTS_PER_EXAMPLE = DEFAULTS.numRolloutsPerStep;

interface Measured {
  perSecond: Summary;
  moduleCallsPerSecond: Summary;
  /** Database + WAL bytes per row written (last run). */
  bytesPerRow: number;
}

function freshStore(directory: string, name: string, kind: RunKind): { store: Store; runId: number; path: string } {
  const path = join(directory, `${name}.db`);
  const store = openStore(path);
  const run = createRun(store, { name, kind, config: { bench: name }, toolVersion: VERSION });
  return { store, runId: run.id, path };
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function removeDatabase(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
}

/** Time `write` over a fresh store per run; rows/s over all rows and over module-call rows. */
async function measure(
  directory: string,
  label: string,
  kind: RunKind,
  prepare: (store: Store, runId: number) => void,
  write: (store: Store, runId: number) => { rows: number; moduleCalls: number },
): Promise<Measured> {
  const moduleCallRates: number[] = [];
  let bytesPerRow = 0;
  const perSecond = await repeat(
    RUNS,
    (run) => {
      const { store, runId, path } = freshStore(directory, `${label}-${run < 0 ? "warmup" : run}`, kind);
      try {
        prepare(store, runId);
        const started = performance.now();
        const { rows, moduleCalls } = write(store, runId);
        const seconds = (performance.now() - started) / 1000;
        if (run >= 0) moduleCallRates.push(moduleCalls / seconds);
        const bytes = ["", "-wal"].reduce((sum, suffix) => sum + (existsSync(path + suffix) ? statSync(path + suffix).size : 0), 0);
        bytesPerRow = bytes / rows;
        return rows / seconds;
      } finally {
        store.close();
        removeDatabase(path);
      }
    },
    1,
  );
  const sorted = [...moduleCallRates].sort((left, right) => left - right);
  return {
    perSecond,
    moduleCallsPerSecond: {
      median: sorted[Math.floor(sorted.length / 2)] ?? 0,
      min: sorted[0] ?? 0,
      max: sorted[sorted.length - 1] ?? 0,
      runs: moduleCallRates,
    },
    bytesPerRow,
  };
}

/** One training step's rollouts: 6 examples × 8 rollouts, cycling through the collected results. */
function stepRollouts(results: readonly ScoredResult[], step: number): RolloutResult[] {
  const rollouts: RolloutResult[] = [];
  for (let example = 0; example < EXAMPLES_PER_STEP; example++) {
    for (let rollout = 0; rollout < ROLLOUTS_PER_EXAMPLE; rollout++) {
      const source = results[(step * EXAMPLES_PER_STEP * ROLLOUTS_PER_EXAMPLE + example * ROLLOUTS_PER_EXAMPLE + rollout) % results.length] as ScoredResult;
      rollouts.push({ exampleId: copyId(source.example.id, step), rolloutIndex: rollout, result: source.result, score: source.score });
    }
  }
  return rollouts;
}

export async function runStoreSuite(): Promise<Figure[]> {
  const figure = figuresFor("store");
  progress("store: collecting real program results (fake LM, no latency)");
  const results = await collectResults(150);
  const callsPerResult = results.reduce((sum, item) => sum + item.result.calls.length, 0) / results.length;
  const directory = temporaryDirectory("store");
  const figures: Figure[] = [];
  try {
    progress(`store: recordExampleResult × ${EXAMPLES} per run`);
    const perExample = await measure(
      directory,
      "examples",
      "evaluate",
      (store, runId) => {
        const items = Array.from({ length: EXAMPLES }, (_, index) => results[index % results.length] as ScoredResult);
        recordRunExamples(
          store,
          runId,
          items.map((item, position) => ({
            exampleId: copyId(item.example.id, Math.floor(position / results.length)),
            position,
            role: "test",
            nHops: item.example.nHops,
            shape: item.example.shape,
          })),
        );
      },
      (store, runId) => {
        let rows = 0;
        let moduleCalls = 0;
        for (let index = 0; index < EXAMPLES; index++) {
          const { example, result, score } = results[index % results.length] as ScoredResult;
          const exampleId = copyId(example.id, Math.floor(index / results.length));
          recordExampleResult(store, runId, { exampleId, nHops: example.nHops, goldAnswers: example.answers, result, score });
          rows += 1 + result.calls.length;
          moduleCalls += result.calls.length;
        }
        return { rows, moduleCalls };
      },
    );
    figures.push(
      figure({
        name: "recordExampleResult, 1 transaction per example: rows/s",
        unit: "rows/s",
        value: perExample.perSecond,
        note: `${EXAMPLES} examples per run, each 1 prediction + ${callsPerResult} module calls; module-call rows alone ${Math.round(perExample.moduleCallsPerSecond.median).toLocaleString("en-US")}/s; ~${kib(perExample.bytesPerRow)} per row on disk; ${RUNS} runs, fresh database each`,
      }),
    );

    progress(`store: the writer thread's work, ${EXAMPLES} packed examples in transactions of ${WRITER_BATCH} per run`);
    const writerCpu = await repeat(
      RUNS,
      (run) => {
        const { store, runId, path } = freshStore(directory, `writer-${run < 0 ? "warmup" : run}`, "evaluate");
        try {
          const messages = Array.from({ length: EXAMPLES }, (_, index) => {
            const { example, result, score } = results[index % results.length] as ScoredResult;
            const exampleId = copyId(example.id, Math.floor(index / results.length));
            return packRecord(index, runId, exampleRows({ exampleId, nHops: example.nHops, goldAnswers: example.answers, result, score }));
          });
          const before = process.cpuUsage();
          for (let start = 0; start < messages.length; start += WRITER_BATCH) {
            const batch = messages.slice(start, start + WRITER_BATCH).map(unpackRecord);
            inTransaction(store, () => {
              for (const item of batch) writeExampleRows(store, item.runId, item.rows);
            });
          }
          const cpu = process.cpuUsage(before);
          return (cpu.user + cpu.system) / 1000 / EXAMPLES;
        } finally {
          store.close();
          removeDatabase(path);
        }
      },
      1,
    );
    figures.push(
      figure({
        name: `the writer thread's work per example: unpack + SQLite in transactions of ${WRITER_BATCH} (CPU)`,
        unit: "ms",
        value: writerCpu,
        decimals: 3,
        note: `what src/store/writer-worker.ts does per example (1 prediction + ${callsPerResult} module calls, prompts included); the floor of recording every call`,
      }),
    );

    const steps = Array.from({ length: STEPS }, (_, step) => stepRollouts(results, step));
    const rowsOf = (rollouts: readonly RolloutResult[]) => rollouts.reduce((sum, rollout) => sum + 1 + rollout.result.calls.length, 0);
    const callsOf = (rollouts: readonly RolloutResult[]) => rollouts.reduce((sum, rollout) => sum + rollout.result.calls.length, 0);
    const rollouts = STEPS * EXAMPLES_PER_STEP * ROLLOUTS_PER_EXAMPLE;

    progress(`store: recordRollouts, ${STEPS} steps × ${EXAMPLES_PER_STEP * ROLLOUTS_PER_EXAMPLE} rollouts per run`);
    const perStep = await measure(
      directory,
      "rollouts",
      "train",
      () => undefined,
      (store, runId) => {
        let rows = 0;
        let moduleCalls = 0;
        steps.forEach((step, index) => {
          recordRollouts(store, runId, index, step);
          rows += rowsOf(step);
          moduleCalls += callsOf(step);
        });
        return { rows, moduleCalls };
      },
    );
    figures.push(
      figure({
        name: `recordRollouts, 1 transaction per step (${EXAMPLES_PER_STEP * ROLLOUTS_PER_EXAMPLE} rollouts): rows/s`,
        unit: "rows/s",
        value: perStep.perSecond,
        note: `${rollouts} rollouts per run, each 1 rollout row + ${callsPerResult} module calls; module-call rows alone ${Math.round(perStep.moduleCallsPerSecond.median).toLocaleString("en-US")}/s; ~${kib(perStep.bytesPerRow)} per row on disk`,
      }),
    );
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  return figures;
}
