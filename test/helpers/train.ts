/**
 * The command line of a small `musique train` run on the fixture records against a (fake) Arbor:
 * 30 train / 6 dev examples, 3 steps of 2 examples, validation every 2 steps, lexical retrieval.
 * `extra` flags come last, so they override (citty and our parser take the last value).
 */
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
