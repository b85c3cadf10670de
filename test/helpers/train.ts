/**
 * The command line of a small `musique train` run on the fixture records against a (fake) Arbor:
 * 30 train / 6 dev examples, 3 steps of 2 examples, validation every 2 steps, lexical retrieval.
 * `extra` flags come last, so they override (our parser takes the last value). Also a
 * fake-model responder whose answers vary between rollouts, so GRPO rewards differ.
 */
import { dspyCompletion, dspyResponder, userFields, type FakeResponder } from "../fakes/openai.ts";

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
    "test/fixtures/musique_ans_train_sample100.jsonl",
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

