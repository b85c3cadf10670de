/**
 * The database of the "view" suite: 100 runs and 20,160 training rollouts, written through the
 * store's own repository functions from real program results (the 150 sample questions against
 * the fake LM): 95 evaluations of the 150 questions (every other one with the EM of some answers
 * flipped, so comparisons have fixed and broken examples), and 5 training runs of 84 steps ×
 * 6 examples × 8 rollouts with their module calls, GRPO groups (built by src/grpo/groups.ts, so
 * request_json holds the real prompts) and advantages, step rows, and a validation of 50
 * examples every 10 steps.
 *
 *   bun bench/view-database.ts FILE     writes the database to FILE (for trying musique view)
 */
import { groupAdvantages } from "../src/grpo/advantage.ts";
import { buildGroups } from "../src/grpo/groups.ts";
import { openStore, type Store } from "../src/store/database.ts";
import { recordExampleResult } from "../src/store/results.ts";
import { createRun, recordRunExamples, updateRunStatus } from "../src/store/runs.ts";
import { recordGroups, recordRollouts, recordTrainingStep, recordValidation, type GroupRecord, type RolloutResult } from "../src/store/training.ts";
import { VERSION } from "../src/version.ts";
import { progress } from "./measure.ts";
import { collectResults, type ScoredResult } from "./pipeline.ts";
import { copyId } from "./records.ts";

const EVALUATE_RUNS = 95;
const TRAIN_RUNS = 5;
export const STEPS = 84;
const EXAMPLES_PER_STEP = 6;
const ROLLOUTS = 8;
const DEV_EXAMPLES = 50;
const VALIDATE_EVERY = 10;

export interface ViewBenchDatabase {
  path: string;
  evaluateRuns: string[];
  trainRuns: string[];
  rollouts: number;
  /** A real rollout, for writing more steps (the live-update figure). */
  sampleRollout: RolloutResult;
}

function flipped(item: ScoredResult, run: number, index: number): ScoredResult {
  if (run % 2 === 0 || index % 5 !== 0) return item;
  const em = item.score.em === 1 ? 0 : 1;
  return { ...item, score: { ...item.score, em, f1: em } };
}

function writeEvaluation(store: Store, name: string, run: number, results: readonly ScoredResult[]): void {
  const created = createRun(store, {
    name,
    kind: "evaluate",
    config: { datasets: "sample", retriever: "lexical", model: "bench-model", topN: 2, temperature: 0.5 },
    toolVersion: VERSION,
    dataset: "sample",
    model: "bench-model",
    retriever: "lexical",
  });
  recordRunExamples(
    store,
    created.id,
    results.map((item, position) => ({ exampleId: item.example.id, position, role: "test", nHops: item.example.nHops, shape: item.example.shape })),
  );
  results.forEach((base, index) => {
    const { example, result, score } = flipped(base, run, index);
    recordExampleResult(store, created.id, { exampleId: example.id, nHops: example.nHops, goldAnswers: example.answers, result, score });
  });
  updateRunStatus(store, created.id, "completed");
}

function stepRollouts(results: readonly ScoredResult[], step: number): { rollouts: RolloutResult[]; groups: GroupRecord[] } {
  const rollouts: RolloutResult[] = [];
  const groups: GroupRecord[] = [];
  for (let example = 0; example < EXAMPLES_PER_STEP; example++) {
    const exampleId = copyId(results[(step * EXAMPLES_PER_STEP + example) % results.length]?.example.id ?? "x", 0);
    const runs = Array.from({ length: ROLLOUTS }, (_, rollout) => results[(step * 7 + example * ROLLOUTS + rollout) % results.length] as ScoredResult);
    runs.forEach((run, rolloutIndex) => rollouts.push({ exampleId, rolloutIndex, result: run.result, score: run.score }));
    const built = buildGroups(
      runs.map((run) => ({ result: run.result, reward: run.score.reward })),
      { groupSize: ROLLOUTS },
    );
    for (const group of built.groups) {
      const rewards = group.samples.map((sample) => sample.reward);
      groups.push({
        exampleId,
        module: group.module,
        invocation: group.invocation,
        batchId: step,
        rewards,
        advantages: groupAdvantages(rewards),
        request: group.samples,
      });
    }
  }
  return { rollouts, groups };
}

function writeTraining(store: Store, name: string, results: readonly ScoredResult[]): number {
  const created = createRun(store, {
    name,
    kind: "train",
    config: {
      datasets: "sample-train",
      evalDatasets: "sample",
      retriever: "lexical",
      model: "bench-model",
      numTrainSteps: STEPS,
      numExamplesPerStep: EXAMPLES_PER_STEP,
      numRolloutsPerStep: ROLLOUTS,
      temperature: 0.7,
    },
    toolVersion: VERSION,
    dataset: "sample-train",
    model: "bench-model",
    retriever: "lexical",
  });
  const dev = results.slice(0, DEV_EXAMPLES);
  recordRunExamples(
    store,
    created.id,
    dev.map((item, position) => ({ exampleId: item.example.id, position, role: "dev", nHops: item.example.nHops, shape: item.example.shape })),
  );
  let count = 0;
  let best = -Infinity;
  for (let step = 0; step <= STEPS; step++) {
    if (step % VALIDATE_EVERY === 0 || step === STEPS) {
      dev.forEach((base, index) => {
        const { example, result, score } = flipped(base, step / VALIDATE_EVERY, index);
        recordExampleResult(store, created.id, { exampleId: example.id, step, nHops: example.nHops, goldAnswers: example.answers, result, score });
      });
      const reward = dev.reduce((sum, item) => sum + item.score.reward, 0) / dev.length + step / 1000;
      recordValidation(store, created.id, { step, em: 0.3, f1: 0.4, recall: 0.5, supportF1: 0.5, reward, nExamples: dev.length, isBest: reward > best });
      best = Math.max(best, reward);
    }
    if (step === STEPS) break;
    const { rollouts, groups } = stepRollouts(results, step);
    recordRollouts(store, created.id, step, rollouts);
    recordGroups(store, created.id, step, groups);
    const rewards = rollouts.map((rollout) => rollout.score.reward);
    const meanReward = rewards.reduce((sum, value) => sum + value, 0) / rewards.length;
    recordTrainingStep(store, created.id, {
      step,
      status: "completed",
      meanReward,
      numGroups: groups.length,
      metrics: { mean_reward: meanReward, step: step + 1 },
    });
    count += rollouts.length;
  }
  updateRunStatus(store, created.id, "completed");
  return count;
}

export async function buildViewBenchDatabase(path: string): Promise<ViewBenchDatabase> {
  progress("view: collecting real program results (fake LM, no latency)");
  const results = await collectResults(150);
  const store = openStore(path);
  const evaluateRuns: string[] = [];
  const trainRuns: string[] = [];
  let rollouts = 0;
  try {
    for (let run = 0; run < EVALUATE_RUNS; run++) {
      if (run % 20 === 0) progress(`view: evaluation ${run + 1} of ${EVALUATE_RUNS}`);
      const name = `evaluate-${String(run).padStart(3, "0")}`;
      writeEvaluation(store, name, run, results);
      evaluateRuns.push(name);
    }
    for (let run = 0; run < TRAIN_RUNS; run++) {
      progress(`view: training run ${run + 1} of ${TRAIN_RUNS} (${STEPS} steps)`);
      const name = `train-${run}`;
      rollouts += writeTraining(store, name, results);
      trainRuns.push(name);
    }
  } finally {
    store.close();
  }
  const first = results[0];
  if (!first) throw new Error("no program results");
  return { path, evaluateRuns, trainRuns, rollouts, sampleRollout: { exampleId: first.example.id, rolloutIndex: 0, result: first.result, score: first.score } };
}

if (import.meta.main) {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write("usage: bun bench/view-database.ts FILE\n");
    process.exit(2);
  }
  const built = await buildViewBenchDatabase(path);
  progress(`wrote ${built.path}: ${built.evaluateRuns.length + built.trainRuns.length} runs, ${built.rollouts} rollouts`);
}
