/**
 * README "What happens when…": Ctrl-C during `musique query` and `musique compare`. Both run
 * their SQLite / bootstrap work on a worker thread (src/worker/), so the main thread handles
 * SIGINT at once and exits 130 — also for a statement that never ends, which SQLite runs
 * without ever returning to JavaScript. The rows of a query are written as they come.
 * Run through the compiled binary under `bun run test`, so the binary's worker entry is checked.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createRun, openStore, recordExampleResult, updateRunStatus } from "../../src/store/index.ts";
import { ExitCode } from "../../src/errors.ts";
import { cleanEnv, ROOT } from "../helpers/cli.ts";
import { EXAMPLE, programResult, scoreOf } from "../store/helpers.ts";
import { musiqueCommand, temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory("query-stop");
const database = join(directory, "musique.db");
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Two evaluation runs over the same 150 examples (enough for a long bootstrap). */
beforeAll(() => {
  const store = openStore(database);
  for (const [name, every] of [
    ["a", 2],
    ["b", 3],
  ] as const) {
    const run = createRun(store, { name, kind: "evaluate", config: {}, toolVersion: "test" });
    for (let index = 0; index < 150; index++) {
      const result = programResult(index % every === 0 ? "Paris" : "Lyon");
      recordExampleResult(store, run.id, { exampleId: `2hop__${index}`, nHops: 2, goldAnswers: EXAMPLE.answers, result, score: scoreOf(result) });
    }
    updateRunStatus(store, run.id, "completed");
  }
  store.close();
});

interface Running {
  /** Resolves once stderr (and, if asked, stdout) holds the text. */
  waitFor(stream: "stdout" | "stderr", text: string): Promise<void>;
  interrupt(): void;
  finished: Promise<{ exitCode: number | null; stdout: string; stderr: string }>;
}

/** Start musique reading its output as it arrives; SIGKILL after 60 s so nothing can hang. */
function start(args: string[]): Running {
  const child = Bun.spawn(musiqueCommand(args), { cwd: ROOT, env: cleanEnv(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const seen = { stdout: "", stderr: "" };
  const waiting: Array<() => void> = [];
  const pump = async (stream: "stdout" | "stderr", source: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of source) {
      // Keep only the head of stdout: the statement below never ends.
      if (stream === "stderr" || seen.stdout.length < 1_000_000) seen[stream] += decoder.decode(chunk, { stream: true });
      for (const wake of waiting.splice(0)) wake();
    }
  };
  const pumped = Promise.all([pump("stdout", child.stdout), pump("stderr", child.stderr)]);
  const finished = (async () => {
    await pumped;
    const exitCode = await child.exited;
    clearTimeout(killer);
    for (const wake of waiting.splice(0)) wake();
    return { exitCode: child.signalCode ? null : exitCode, ...seen };
  })();
  let ended = false;
  void finished.then(() => (ended = true));
  return {
    async waitFor(stream, text) {
      while (!seen[stream].includes(text)) {
        if (ended) throw new Error(`musique ended without printing ${JSON.stringify(text)} on ${stream}:\n${seen.stderr}`);
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
    interrupt: () => child.kill("SIGINT"),
    finished,
  };
}

const ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)";

describe("What happens when… (README): Ctrl-C stops long queries and comparisons", () => {
  test("Ctrl-C during a query that never returns a row → exit 130", async () => {
    const running = start(["query", `${ENDLESS} SELECT COUNT(*) FROM c`, "--db", database, "--log-level", "debug"]);
    await running.waitFor("stderr", "query runs on a worker thread (Ctrl-C stops it)");
    running.interrupt();
    const { exitCode, stdout, stderr } = await running.finished;
    expect(exitCode).toBe(ExitCode.interrupted);
    expect(stdout).toBe("");
    expect(stderr).toContain("query stopped before it finished (interrupted by SIGINT)");
  }, 70_000);

  test("rows of an endless result are written as they come, and Ctrl-C stops it → exit 130", async () => {
    const running = start(["query", `${ENDLESS} SELECT x FROM c`, "--db", database, "--format", "csv"]);
    await running.waitFor("stdout", "\n100000\n");
    running.interrupt();
    const { exitCode, stdout } = await running.finished;
    expect(exitCode).toBe(ExitCode.interrupted);
    expect(stdout.split("\n").slice(0, 4)).toEqual(["x", "1", "2", "3"]);
  }, 70_000);

  test("Ctrl-C during compare with 1,000,000 bootstrap resamples → exit 130, nothing printed", async () => {
    const running = start(["compare", "a", "b", "--resamples", "1000000", "--db", database, "--log-level", "debug"]);
    await running.waitFor("stderr", "compare runs on a worker thread (Ctrl-C stops it)");
    running.interrupt();
    const { exitCode, stdout } = await running.finished;
    expect(exitCode).toBe(ExitCode.interrupted);
    expect(stdout).toBe("");
  }, 70_000);
});
