/**
 * Suite "training": does Arbor's trainer wait for musique (issue 19 item 3)? `musique train` (the
 * CLI, from source) against the fake Arbor of test/fakes/arbor.ts with a timed trainer: every
 * group takes T = 600 ms to train (a real 7B optimizer step takes seconds: longer than musique's
 * 0.5 s /status poll), every chat call L = 800 ms to answer; 4 steps of 3 one-hop examples × 4
 * rollouts (6 groups a step: training 3.6 s a step, rollouts ≈ 2 s — faster than training, but
 * longer than the two groups Arbor's prefetch keeps queued, as with real step sizes). The fake records when each group arrived and when the trainer
 * finished it; the trainer's waiting share = time it waited for musique's next group ÷ time from
 * the first group's arrival to the end of the last group (before the first group nothing can
 * overlap). Side by side, alternating: the default (step N+1's rollouts while step N trains) and
 * --no-overlap-rollouts. Also musique's own estimate of the share from the /status polls, as
 * stored in training_steps and shown by `report`.
 */
import { join } from "node:path";
import { openStore } from "../src/store/database.ts";
import { trainingStepsOf } from "../src/store/reports.ts";
import { findRun } from "../src/store/runs.ts";
import { trainingTimesOf } from "../src/report/step-times.ts";
import { startFakeArbor } from "../test/fakes/arbor.ts";
import { dspyResponder } from "../test/fakes/openai.ts";
import { trainArgs } from "../test/helpers/train.ts";
import { atMost, figuresFor, progress, summarize, type Figure } from "./measure.ts";
import { temporaryDirectory } from "./records.ts";

const TRAIN_STEP_MS = 600;
const LATENCY_MS = 800;
const STEPS = 4;
const EXAMPLES_PER_STEP = 3;
const RUNS = 2;
const ROOT = join(import.meta.dir, "..");

interface Measured {
  /** The fake's truth: the trainer's waiting ÷ its span after the first group. */
  share: number;
  spanSeconds: number;
  /** musique's estimate (training_steps, as report shows it). */
  estimate: number | null;
  rolloutSecondsPerStep: number;
  trainingSecondsPerStep: number;
}

async function trainOnce(overlap: boolean, run: number): Promise<Measured> {
  const answer = dspyResponder();
  const arbor = startFakeArbor({ trainStepMs: TRAIN_STEP_MS, responder: async (request) => (await Bun.sleep(LATENCY_MS), answer(request)) });
  const directory = temporaryDirectory("training");
  const database = join(directory, "m.db");
  try {
    const extra = [
      ...[
        "--num-train-steps",
        String(STEPS),
        "--num-examples-per-step",
        String(EXAMPLES_PER_STEP),
        "--num-hops",
        "1",
        "--dev-size",
        "2",
        "--num-steps-for-val",
        "100",
      ],
      ...["--num-rollouts-per-step", "4", "--batch-size", "4", "--gradient-accumulation", "1", "--num-training-gpus", "1", "--concurrency", "16"],
      ...(overlap ? [] : ["--no-overlap-rollouts"]),
    ];
    const name = `bench-${overlap ? "overlap" : "serial"}-${run}`;
    const args = trainArgs({ arborUrl: arbor.baseUrl, database, outputDir: join(directory, "outputs"), run: name, extra });
    const child = Bun.spawn([process.execPath, join(ROOT, "src", "cli", "main.ts"), ...args], { cwd: ROOT, stdout: "ignore", stderr: "pipe", stdin: "ignore" });
    const stderr = await new Response(child.stderr).text();
    if ((await child.exited) !== 0) throw new Error(`musique train failed:\n${stderr.slice(-2000)}`);
    const [job] = [...arbor.jobs.keys()];
    const times = arbor.trainerTimes(job ?? "?");
    const store = openStore(database);
    try {
      const record = findRun(store, name);
      const rows = record ? trainingStepsOf(store, record.id) : [];
      const estimate = trainingTimesOf(rows);
      return {
        share: times.waitingMs / times.spanMs,
        spanSeconds: times.spanMs / 1000,
        estimate: estimate?.arborWaitingShare ?? null,
        rolloutSecondsPerStep: (estimate?.rolloutSeconds ?? 0) / STEPS,
        trainingSecondsPerStep: (times.groups / STEPS) * (TRAIN_STEP_MS / 1000),
      };
    } finally {
      store.close();
    }
  } finally {
    await arbor.stop();
    await Bun.$`rm -rf ${directory}`.quiet();
  }
}

export async function runTrainingSuite(): Promise<Figure[]> {
  const figure = figuresFor("training");
  const overlapped: Measured[] = [];
  const serial: Measured[] = [];
  for (let run = 0; run < RUNS; run++) {
    progress(`training: run ${run + 1}/${RUNS}, rollouts overlapped…`);
    overlapped.push(await trainOnce(true, run));
    progress(`training: run ${run + 1}/${RUNS}, --no-overlap-rollouts…`);
    serial.push(await trainOnce(false, run));
  }
  const percent = (values: readonly number[]) => summarize(values.map((value) => 100 * value));
  const estimates = overlapped.flatMap((entry) => (entry.estimate === null ? [] : [entry.estimate]));
  const serialEstimates = serial.flatMap((entry) => (entry.estimate === null ? [] : [entry.estimate]));
  const setting = `T = ${TRAIN_STEP_MS} ms a group, L = ${LATENCY_MS} ms a call, ${STEPS} steps of ${2 * EXAMPLES_PER_STEP} groups`;
  return [
    figure({
      name: "Arbor waiting for musique, rollouts overlapped (default)",
      unit: "% of time",
      value: percent(overlapped.map((entry) => entry.share)),
      decimals: 1,
      goal: atMost(5, "≤ 5 %"),
      note: `the fake trainer's own record (${setting}): time it waited for the next group ÷ first group's arrival to last group's end; rollouts faster than training`,
    }),
    figure({
      name: "Arbor waiting for musique, --no-overlap-rollouts",
      unit: "% of time",
      value: percent(serial.map((entry) => entry.share)),
      decimals: 1,
      note: "the same, with step N+1's rollouts only after the trainer took step N's last group (DSPy's order)",
    }),
    figure({
      name: "training time, overlapped ÷ not",
      unit: "×",
      value: summarize(overlapped.map((entry, index) => entry.spanSeconds / (serial[index]?.spanSeconds ?? entry.spanSeconds))),
      decimals: 2,
      note: "first group's arrival to last group's end, run by run side by side",
    }),
    figure({
      name: "musique's estimate of the waiting share, overlapped (report)",
      unit: "% of time",
      value: estimates.length > 0 ? percent(estimates) : summarize([Number.NaN]),
      decimals: 1,
      note: "from /status polls every 0.5 s (training_steps.arbor_waiting_seconds after step 1 ÷ step 1's end to the last step's end), as musique report shows it",
    }),
    figure({
      name: "musique's estimate of the waiting share, --no-overlap-rollouts (report)",
      unit: "% of time",
      value: serialEstimates.length > 0 ? percent(serialEstimates) : summarize([Number.NaN]),
      decimals: 1,
      note: "the same estimate for the serial runs",
    }),
    figure({
      name: "rollouts ÷ training per step",
      unit: "×",
      value: summarize(overlapped.map((entry) => entry.rolloutSecondsPerStep / entry.trainingSecondsPerStep)),
      decimals: 2,
      note: "the condition of the goal: rollout time (training_steps.rollout_seconds) ÷ groups × T",
    }),
  ];
}
