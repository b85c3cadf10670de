/**
 * A results database for the musique view tests, filled by the real CLI against the fakes: two
 * evaluations of the same 12 sample questions ("base" answers nothing right, "better" answers
 * about half right, so compare has fixed examples), and a 3-step training run ("trained") on the
 * fake Arbor whose answers alternate between gold and "unknown" (so groups have reward spread);
 * "base" is tagged "baseline". Plus a running
 * `musique view` on it, and a dry run whose LM answers only when the test releases it.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeArbor } from "../fakes/arbor.ts";
import { startFakeOpenAI, type FakeResponder } from "../fakes/openai.ts";
import { ROOT, runCli, spawnCli, type CliResult } from "../helpers/cli.ts";
import { trainArgs } from "../helpers/train.ts";
import { answering, sampleRows } from "../report/fixtures.ts";

export const EVALUATE_LIMIT = 12;

export interface ViewDatabase {
  directory: string;
  database: string;
  outputs: string;
}

function goldAnswers(): Map<string, string> {
  const answers = new Map<string, string>();
  for (const file of ["musique_ans_train_sample100.jsonl", "musique_ans_dev_sample150.jsonl"]) {
    for (const line of readFileSync(join(ROOT, "test", "fixtures", file), "utf8").split("\n")) {
      if (line.trim() === "") continue;
      const record = JSON.parse(line) as { question: string; answer: string };
      answers.set(record.question, record.answer);
    }
  }
  return answers;
}

/** Every other answer is the gold one, the rest "unknown": rollouts of one example get different rewards. */
function varyingResponder(): FakeResponder {
  const gold = goldAnswers();
  let counter = 0;
  return answering((question) => {
    counter += 1;
    return counter % 2 === 0 ? (gold.get(question) ?? "unknown") : "unknown";
  });
}

async function mustSucceed(what: string, result: Promise<CliResult>): Promise<void> {
  const done = await result;
  if (done.exitCode !== 0) throw new Error(`${what} failed (${done.exitCode}):\n${done.stderr}`);
}

function evaluateArgs(baseUrl: string, database: ViewDatabase, name: string): string[] {
  return [
    "evaluate",
    "--datasets",
    "sample",
    "--limit",
    String(EVALUATE_LIMIT),
    "--retriever",
    "lexical",
    "--base-url",
    baseUrl,
    "--db",
    database.database,
    "--output-dir",
    database.outputs,
    "--run-name",
    name,
    "--no-cache",
  ];
}

export async function buildViewDatabase(): Promise<ViewDatabase> {
  const directory = mkdtempSync(join(tmpdir(), "musique-view-"));
  const database: ViewDatabase = { directory, database: join(directory, "view.db"), outputs: join(directory, "outputs") };
  const answers = new Map(sampleRows().map((row) => [row.question, row.answer]));
  const lm = await startFakeOpenAI({});
  try {
    await mustSucceed("evaluate base", runCli(evaluateArgs(lm.baseUrl, database, "base")));
    lm.setResponder(answering((question) => (question.length % 2 === 0 ? answers.get(question) : undefined)));
    await mustSucceed("evaluate better", runCli(evaluateArgs(lm.baseUrl, database, "better")));
  } finally {
    await lm.stop();
  }
  const arbor = startFakeArbor({ responder: varyingResponder() });
  try {
    await mustSucceed("train", runCli(trainArgs({ arborUrl: arbor.baseUrl, database: database.database, outputDir: database.outputs, run: "trained" })));
  } finally {
    await arbor.stop();
  }
  await mustSucceed("tag", runCli(["runs", "tag", "base", "--tag", "baseline", "--db", database.database]));
  return database;
}

export interface RunningView {
  /** The server's root URL. */
  url: string;
  /** The URL as printed (with ?tag=… under --tag). */
  printed: string;
  stderr(): Promise<string>;
  stop(): Promise<number>;
}

/**
 * `musique view --db DATABASE --port 0`, once it has printed its URL. It runs in a new empty
 * folder, so the compiled binary (MUSIQUE_BIN) proves it needs no file beside it.
 */
export async function startView(database: string, extra: string[] = []): Promise<RunningView> {
  const child = spawnCli(["view", "--db", database, "--port", "0", ...extra], { cwd: mkdtempSync(join(tmpdir(), "musique-view-cwd-")) });
  const reader = child.stdout.getReader();
  let seen = "";
  const deadline = Date.now() + 60_000;
  while (!/http:\/\/\S+\n/.test(seen)) {
    const { value, done } = await reader.read();
    if (done || Date.now() > deadline) {
      child.kill();
      throw new Error(`musique view printed no URL:\n${seen}\n${await new Response(child.stderr).text()}`);
    }
    seen += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const printed = /(http:\/\/\S+)\n/.exec(seen)?.[1] ?? "";
  const url = /^http:\/\/[^/]+\//.exec(printed)?.[0] ?? "";
  return {
    url,
    printed,
    stderr: () => new Response(child.stderr).text(),
    async stop() {
      child.kill("SIGTERM");
      return child.exited;
    },
  };
}

export interface GatedDryRun {
  run: string;
  /** Let the LM answer: the dry run's steps then run to the end. */
  release(): void;
  /** The dry run's result once it has finished (after release). */
  finished: Promise<CliResult>;
}

/** A `train --dry-run` of `steps` steps whose LM holds every chat request until `release()`. */
export async function startGatedDryRun(database: ViewDatabase, run: string, steps: number): Promise<GatedDryRun> {
  const gate = Promise.withResolvers<void>();
  const varying = varyingResponder();
  const lm = await startFakeOpenAI({
    responder: async (request) => {
      await gate.promise;
      return varying(request);
    },
  });
  const args = trainArgs({
    arborUrl: "http://127.0.0.1:9/v1/",
    database: database.database,
    outputDir: database.outputs,
    run,
    extra: ["--dry-run", "--dry-run-steps", String(steps), "--num-train-steps", String(steps), "--base-url", lm.baseUrl],
  });
  const finished = runCli(args).finally(() => lm.stop());
  return { run, release: () => gate.resolve(), finished };
}
