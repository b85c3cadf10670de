/**
 * The command line of a small `musique train` run on the fixture records against a (fake) Arbor:
 * 30 train / 6 dev examples, 3 steps of 2 examples, validation every 2 steps, lexical retrieval.
 * `extra` flags come last, so they override (our parser takes the last value). Also fake-model
 * responders whose answers vary between rollouts, so GRPO rewards differ.
 */
import { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { dspyCompletion, dspyResponder, isJsonRequest, userFields, type FakeResponder } from "../fakes/openai.ts";

/** The training records the train tests use. */
const TRAIN_RECORDS = "test/fixtures/musique_ans_train_sample100.jsonl";

export interface TrainRun {
  arborUrl: string;
  database: string;
  outputDir: string;
  run: string;
  extra?: string[];
}

export function trainArgs({ arborUrl, database, outputDir, run, extra = [] }: TrainRun): string[] {
  return [
    "train",
    "--datasets",
    TRAIN_RECORDS,
    "--eval-datasets",
    "test/fixtures/musique_ans_dev_sample150.jsonl",
    "--train-size",
    "30",
    "--dev-size",
    "6",
    "--num-train-steps",
    "3",
    "--num-examples-per-step",
    "2",
    "--num-steps-for-val",
    "2",
    "--retriever",
    "lexical",
    "--arbor-url",
    arborUrl,
    "--db",
    database,
    "--output-dir",
    outputDir,
    "--run-name",
    run,
    ...extra,
  ];
}

/** Answers vary between rollouts (so rewards differ); everything else is the DSPy responder. */
export function varyingResponder(): FakeResponder {
  const base = dspyResponder();
  let counter = 0;
  return (request) => {
    const user = request.messages.at(-1)?.content ?? "";
    if (!user.includes("[[ ## all_information ## ]]") || user.includes("has_collected_enough_info")) return base(request);
    const fields = userFields(user);
    const lines = (fields.all_information ?? "").split("\n").map((line) => line.replace(/^# /, ""));
    counter += 1;
    const answer = counter % 3 === 0 ? "unknown" : (lines[counter % Math.max(1, lines.length)] ?? "unknown");
    return dspyCompletion({ reasoning: "From the collected information.", answer });
  };
}

/** The gold answer of each question of the training fixture (TRAIN_RECORDS). */
function goldAnswers(): Map<string, string> {
  const lines = readFileSync(TRAIN_RECORDS, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");
  return new Map(
    lines.map((line) => {
      const record = JSON.parse(line) as { question: string; answer: string };
      return [record.question.trim(), record.answer];
    }),
  );
}

/**
 * Every other answer to the same prompt (so within each group) is the gold answer, the others
 * "unknown": the rewards inside every group differ, as GRPO needs.
 */
export function spreadResponder(): FakeResponder {
  const base = dspyResponder();
  const gold = goldAnswers();
  const asked = new Map<string, number>();
  return (request) => {
    const user = request.messages.at(-1)?.content ?? "";
    if (isJsonRequest(request) || !user.includes("[[ ## all_information ## ]]") || user.includes("has_collected_enough_info")) return base(request);
    const count = (asked.get(user) ?? 0) + 1;
    asked.set(user, count);
    const answer = count % 2 === 1 ? (gold.get((userFields(user).question ?? "").trim()) ?? "unknown") : "unknown";
    return dspyCompletion({ reasoning: "From the collected information.", answer });
  };
}

/** The rows of a read-only query on a run's database. */
export function rows<T>(database: string, sql: string): T[] {
  const db = new Database(database, { readonly: true });
  try {
    return db.query(sql).all() as T[];
  } finally {
    db.close();
  }
}
