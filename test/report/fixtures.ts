/**
 * Databases for the report/compare tests, filled by the REAL `musique evaluate` against the fake
 * OpenAI server (built once per test process and shared), plus training runs written through the
 * store's training repository functions (`musique train` is not registered yet).
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scoreExample } from "../../src/metrics/reward.ts";
import type { ProgramResult } from "../../src/program/types.ts";
import {
  createRun,
  openStore,
  recordExampleResult,
  recordRollouts,
  recordRunExamples,
  recordTrainingStep,
  recordValidation,
  updateRunStatus,
} from "../../src/store/index.ts";
import { startFakeArbor } from "../fakes/arbor.ts";
import { dspyCompletion, dspyResponder, startFakeOpenAI, userFields, type FakeResponder } from "../fakes/openai.ts";
import { ROOT, runCli } from "../helpers/cli.ts";
import { trainArgs } from "../helpers/train.ts";

export const LIMIT = 20;
/** An answer that would run script if the page did not escape it. */
export const HOSTILE_ANSWER = `<img src=x onerror="console.error('not escaped')"> & "quoted"`;

export interface EvaluateDatabase {
  directory: string;
  database: string;
  outputs: string;
}

interface SampleRow {
  question: string;
  answer: string;
}

export function sampleRows(): SampleRow[] {
  const text = readFileSync(join(ROOT, "src", "data", "sample", "musique_ans_dev_sample150.jsonl"), "utf8");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as SampleRow);
}

/** The default DSPy responder, except the answer module answers `answerFor(question)` when it returns a string. */
export function answering(answerFor: (question: string) => string | undefined): FakeResponder {
  const base = dspyResponder();
  return (request) => {
    const system = request.messages.find((message) => message.role === "system")?.content ?? "";
    const user = request.messages.find((message) => message.role === "user")?.content ?? "";
    if (system.includes("`answer`")) {
      const answer = answerFor(userFields(user).question ?? "");
      if (answer !== undefined) return dspyCompletion({ reasoning: "Looked it up.", answer });
    }
    return base(request);
  };
}

async function evaluate(baseUrl: string, database: string, outputs: string, name: string, extra: string[] = []): Promise<void> {
  const result = await runCli([
    "evaluate",
    "--datasets",
    "sample",
    "--limit",
    String(LIMIT),
    "--retriever",
    "lexical",
    "--base-url",
    baseUrl,
    "--db",
    database,
    "--output-dir",
    outputs,
    "--run-name",
    name,
    ...extra,
  ]);
  if (result.exitCode !== 0) throw new Error(`evaluate ${name} failed (${result.exitCode}):\n${result.stderr}`);
}

async function build(): Promise<EvaluateDatabase> {
  const directory = mkdtempSync(join(tmpdir(), "musique-report-"));
  const database = join(directory, "m.db");
  const outputs = join(directory, "outputs");
  const answers = new Map(sampleRows().map((row) => [row.question, row.answer]));
  const fake = await startFakeOpenAI({});
  try {
    // a: the default fake model; a-again: the same (replayed from the response cache).
    await evaluate(fake.baseUrl, database, outputs, "a");
    await evaluate(fake.baseUrl, database, outputs, "a-again");
    // b: gold answers for about half of the questions (those of even length), one hostile answer,
    // two retried calls and one parse failure (its ChatAdapter reply and both JSON fallback replies broken).
    let hostile: string | undefined;
    fake.setResponder(
      answering((question) => {
        if (question.length % 2 === 0) return answers.get(question);
        hostile ??= question;
        return question === hostile ? HOSTILE_ANSWER : undefined;
      }),
    );
    fake.setFaults([
      { kind: "status", status: 503, retryAfterMs: 1 },
      { kind: "status", status: 503, retryAfterMs: 1 },
      { kind: "malformed" },
      { kind: "malformed" },
      { kind: "malformed" },
    ]);
    await evaluate(fake.baseUrl, database, outputs, "b", ["--no-cache", "--concurrency", "1"]);
    // right / wrong: every answer right, every answer wrong.
    fake.setResponder(answering((question) => answers.get(question)));
    await evaluate(fake.baseUrl, database, outputs, "right", ["--no-cache"]);
    fake.setResponder(answering(() => "zebra xylophone"));
    await evaluate(fake.baseUrl, database, outputs, "wrong", ["--no-cache"]);
    // c: another configuration and a smaller sample.
    fake.setResponder(dspyResponder());
    await evaluate(fake.baseUrl, database, outputs, "c", ["--top-n", "3", "--limit", "12", "--no-cache"]);
  } finally {
    await fake.stop();
  }
  return { directory, database, outputs };
}

let built: Promise<EvaluateDatabase> | undefined;

/** The shared evaluate database (built on first use). */
export function evaluateDatabase(): Promise<EvaluateDatabase> {
  built ??= build();
  return built;
}

export interface TrainDatabase {
  directory: string;
  database: string;
  outputs: string;
  run: string;
}

async function buildTrain(): Promise<TrainDatabase> {
  const directory = mkdtempSync(join(tmpdir(), "musique-report-train-"));
  const database = join(directory, "train.db");
  const outputs = join(directory, "outputs");
  const arbor = startFakeArbor({});
  try {
    const result = await runCli(trainArgs({ arborUrl: arbor.baseUrl, database, outputDir: outputs, run: "trained" }));
    if (result.exitCode !== 0) throw new Error(`train failed (${result.exitCode}):\n${result.stderr}`);
  } finally {
    await arbor.stop();
  }
  return { directory, database, outputs, run: "trained" };
}

let builtTrain: Promise<TrainDatabase> | undefined;

/** A database with one run of the real `musique train` against the fake Arbor (built on first use). */
export function trainDatabase(): Promise<TrainDatabase> {
  builtTrain ??= buildTrain();
  return builtTrain;
}

function trajectoryResult(answer: string, retrieved: Array<{ id: string; supporting: boolean }>): ProgramResult {
  const document = (item: { id: string; supporting: boolean }) => ({
    id: item.id,
    title: `Paragraph ${item.id}`,
    body: `Body of paragraph ${item.id}.`,
    text: `# Paragraph ${item.id}\nBody of paragraph ${item.id}.`,
    isSupporting: item.supporting,
    score: 1,
  });
  const half = Math.ceil(retrieved.length / 2);
  return {
    answer,
    collectedInfo: ["info one", "info two"],
    retrievedIds: retrieved.map((item) => item.id),
    hopsUsed: 2,
    hops: [
      { hop: 0, query: "first query", retrieved: retrieved.slice(0, half).map(document), documentsText: "", keyInformation: "info one" },
      { hop: 1, query: "second query", retrieved: retrieved.slice(half).map(document), documentsText: "", keyInformation: "info two" },
    ],
    calls: [],
    failure: null,
  };
}

/**
 * A training run written through src/store/training.ts: steps 1–4 × 2 examples × 4 rollouts, step
 * metrics (with KL and loss when `withTrainerMetrics`), validations before training and after step 2 (best)
 * and their predictions (the 2-hop example is fixed by training, the 3-hop one stays wrong).
 */
export function writeTrainingRun(database: string, name: string, withTrainerMetrics: boolean): void {
  const store = openStore(database);
  try {
    const run = createRun(store, {
      name,
      kind: "train",
      config: { runName: name, numTrainSteps: 4, seed: 89 },
      toolVersion: "test",
      dataset: "sample-train",
      retriever: "lexical",
    });
    const examples = [
      { id: "2hop__1_2", answers: ["Paris"], supportingIds: ["1", "3"], nHops: 2, shape: "2hop" },
      { id: "3hop1__4_5_6", answers: ["Bern"], supportingIds: ["2", "4", "6"], nHops: 3, shape: "3hop1" },
    ];
    recordRunExamples(
      store,
      run.id,
      examples.map((example, position) => ({ exampleId: example.id, position, role: "dev", nHops: example.nHops, shape: example.shape })),
    );
    for (let step = 1; step <= 4; step++) {
      const rollouts = examples.flatMap((example) =>
        [0, 1, 2, 3].map((rolloutIndex) => {
          const right = rolloutIndex < step;
          const result = trajectoryResult(right ? (example.answers[0] ?? "") : "wrong", [
            { id: example.supportingIds[0] ?? "0", supporting: true },
            { id: "9", supporting: false },
          ]);
          return { exampleId: example.id, rolloutIndex, result, score: scoreExample(example, result, "v1") };
        }),
      );
      recordRollouts(store, run.id, step, rollouts);
      const rewards = rollouts.map((rollout) => rollout.score.reward);
      const meanReward = rewards.reduce((sum, value) => sum + value, 0) / rewards.length;
      recordTrainingStep(store, run.id, {
        step,
        status: "completed",
        meanReward,
        numGroups: 2,
        metrics: withTrainerMetrics ? { loss: 0.5 / step, kl: 0.01 * (step - 1), learning_rate: 2e-5 } : undefined,
      });
    }
    recordValidation(store, run.id, { step: 0, em: 0, f1: 0.1, recall: 0.4, supportF1: 0.4, reward: 0.1, nExamples: 2 });
    recordValidation(store, run.id, { step: 2, em: 0.5, f1: 0.6, recall: 0.5, supportF1: 0.5, reward: 0.5, nExamples: 2, isBest: true });
    // Before training both answers are wrong; after 2 steps the 2-hop one is right (fixed), the 3-hop one still wrong.
    for (const example of examples) {
      const result = trajectoryResult(example.id.startsWith("2hop") ? "Lyon" : "Zurich", [
        { id: example.supportingIds[0] ?? "0", supporting: true },
        { id: "9", supporting: false },
      ]);
      recordExampleResult(store, run.id, {
        exampleId: example.id,
        step: 0,
        nHops: example.nHops,
        goldAnswers: example.answers,
        result,
        score: scoreExample(example, result, "v1"),
      });
    }
    for (const example of examples) {
      const result = trajectoryResult(example.id.startsWith("2hop") ? "Paris" : "Zurich", [
        { id: example.supportingIds[0] ?? "0", supporting: true },
        { id: "9", supporting: false },
        { id: example.supportingIds[1] ?? "0", supporting: true },
      ]);
      recordExampleResult(store, run.id, {
        exampleId: example.id,
        step: 2,
        nHops: example.nHops,
        goldAnswers: example.answers,
        result,
        score: scoreExample(example, result, "v1"),
      });
    }
    updateRunStatus(store, run.id, "completed");
  } finally {
    store.close();
  }
}

/**
 * Copy run `from` (its row, examples and predictions) as run `to` with SQL, changing config keys
 * (json_set paths like "$.retriever") and the matching run columns.
 */
export function copyRun(
  database: string,
  from: string,
  to: string,
  changes: { config?: Record<string, string>; dataset?: string; retriever?: string } = {},
): void {
  const db = new Database(database);
  try {
    const sets = Object.entries({ "$.runName": to, ...changes.config });
    db.query(
      `INSERT INTO runs (name, kind, status, started_at, finished_at, config_json, config_hash, tool_version, seed, dataset, model, retriever)
       SELECT ?, kind, status, started_at, finished_at, json_set(config_json, ${sets.map(() => "?, ?").join(", ")}), config_hash, tool_version, seed,
         COALESCE(?, dataset), model, COALESCE(?, retriever)
       FROM runs WHERE name = ?`,
    ).run(to, ...sets.flat(), changes.dataset ?? null, changes.retriever ?? null, from);
    db.query(
      `INSERT INTO run_examples (run_id, example_id, position, role, n_hops, shape, question, supporting_ids_json)
       SELECT (SELECT id FROM runs WHERE name = ?), example_id, position, role, n_hops, shape, question, supporting_ids_json
       FROM run_examples WHERE run_id = (SELECT id FROM runs WHERE name = ?)`,
    ).run(to, from);
    db.query(
      `INSERT INTO predictions (run_id, step, example_id, n_hops, answer, gold_answers_json, em, f1, recall, support_f1, reward,
         retrieved_ids_json, hops_used, status, trajectory_json, created_at)
       SELECT (SELECT id FROM runs WHERE name = ?), step, example_id, n_hops, answer, gold_answers_json, em, f1, recall, support_f1, reward,
         retrieved_ids_json, hops_used, status, trajectory_json, created_at
       FROM predictions WHERE run_id = (SELECT id FROM runs WHERE name = ?)`,
    ).run(to, from);
  } finally {
    db.close();
  }
}
