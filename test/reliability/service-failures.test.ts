/**
 * Service failures are not scores (README "What happens when…"): a run in which any example
 * failed on a service error ends `incomplete` with exit 4 (5 when the failures were refusals),
 * says how many examples are missing, why, and the resume command; its scores are over the
 * examples that have a result, with the missing count next to them (terminal table, scores.json,
 * report, runs); failures are labelled by their real cause; the stop rule ends a run early when
 * going on is pointless; a resume runs exactly the missing examples.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startFakeOpenAI, type FakeFault } from "../fakes/openai.ts";
import { startFakeRerank } from "../fakes/rerank.ts";
import { faultSchedule } from "../fakes/schedule.ts";
import { startFakeTei, type Fault } from "../fakes/tei.ts";
import { startRerankServer } from "../../src/retrieval/rerank/server.ts";
import { runCli } from "../helpers/cli.ts";
import { auditRun, evaluateArgs, queryAll, temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory("service-failures");
const outputDir = join(directory, "out");
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of stops) await stop();
  rmSync(directory, { recursive: true, force: true });
});

interface Scores {
  overall: { n: number; answer_f1: number | null; missing: number; lm_errors: number; retrieval_errors: number };
}

function scoresOf(run: string): Scores {
  return JSON.parse(readFileSync(join(outputDir, run, "scores.json"), "utf8")) as Scores;
}

describe("a run with examples that failed on service errors", () => {
  test("retrieval down behind a healthy /health: every example fails → incomplete, exit 4, labelled retrieval (not LM), no score", async () => {
    const rerank = startFakeRerank({ schedule: faultSchedule<Fault>({ seed: 2, rate: 1, faults: [{ kind: "status", status: 503 }] }) });
    const lm = await startFakeOpenAI({});
    stops.push(
      () => lm.stop(),
      () => rerank.stop(),
    );
    const database = join(directory, "retrieval.db");
    const run = "retrieval-down";
    const result = await runCli(
      evaluateArgs({
        database,
        outputDir,
        run,
        baseUrl: lm.baseUrl,
        limit: 6,
        extra: ["--retriever", "semantic", "--rerank-url", rerank.url, "--max-retries", "0"],
      }),
    );
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain("6 of 6 examples have no result (6 retrieval errors); no example has a score");
    expect(result.stderr).toContain(`musique evaluate --resume ${run} --db ${database}`);
    expect(result.stderr).toContain(rerank.url);
    expect(result.stdout).toContain("Average answer F1: no example has a score; 6 of 6 examples have no result (6 retrieval errors)");
    expect(result.stdout).not.toContain("F1 0.0");
    expect(auditRun(database, run)).toMatchObject({ status: "incomplete", byStatus: { retrieval_error: 6 } });
    expect(scoresOf(run).overall).toMatchObject({ n: 0, answer_f1: null, missing: 6, retrieval_errors: 6, lm_errors: 0 });

    const report = await runCli(["report", run, "--db", database]);
    const prose = report.stdout.replace(/\n {2}(?=\S)/g, " "); // report wraps its prose lines at the width, continuations indented
    expect(prose).toContain("scored 0 of 6 examples; 6 have no result (6 retrieval errors)");
    expect(prose).toContain("0 LM-error, 6 retrieval-error and 0 past-deadline examples (no result)");
    expect(report.stdout).not.toContain("recall after hop"); // no table of zeros for examples without a result
    const runs = await runCli(["runs", "--db", database, "--json"]);
    expect(JSON.parse(runs.stdout)).toMatchObject([{ name: run, status: "incomplete", n: 0, missing: 6, retrievalErrors: 6, lmErrors: 0, f1: null }]);
  }, 30_000);

  test("musique serve rerank whose TEI fails every rerank mid-run → retrieval errors (never 'LM errors'), incomplete, exit 4", async () => {
    const tei = startFakeTei();
    // TEI's /health stays fine (the preflight passes), its /rerank answers 503: the backend failed mid-run.
    tei.faults.push(...Array.from({ length: 40 }, (): Fault => ({ kind: "status", status: 503, body: '{"error":"model overloaded"}' })));
    const rerank = startRerankServer({ host: "127.0.0.1", port: 0, teiUrl: tei.url, timeoutSeconds: 5, maxRetries: 0 });
    const lm = await startFakeOpenAI({});
    stops.push(
      () => lm.stop(),
      async () => void (await rerank.stop()),
      () => tei.stop(),
    );
    const database = join(directory, "tei-down.db");
    const run = "tei-down";
    const result = await runCli(
      evaluateArgs({
        database,
        outputDir,
        run,
        baseUrl: lm.baseUrl,
        limit: 3,
        extra: ["--retriever", "semantic", "--rerank-url", rerank.url, "--max-retries", "0"],
      }),
    );
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain("3 of 3 examples have no result (3 retrieval errors); no example has a score");
    expect(result.stderr).toContain("model overloaded");
    expect(result.stderr).not.toMatch(/LM error/i);
    expect(auditRun(database, run)).toMatchObject({ status: "incomplete", byStatus: { retrieval_error: 3 } });
    expect(scoresOf(run).overall).toMatchObject({ n: 0, answer_f1: null, missing: 3, retrieval_errors: 3, lm_errors: 0 });
  }, 30_000);

  test("HTTP 400 to every call, --limit 2 → incomplete, exit 5 (refused), both examples missing", async () => {
    const lm = await startFakeOpenAI({ schedule: faultSchedule<FakeFault>({ seed: 4, rate: 1, faults: [{ kind: "status", status: 400 }] }) });
    stops.push(() => lm.stop());
    const database = join(directory, "refused-2.db");
    const result = await runCli(evaluateArgs({ database, outputDir, run: "refused-2", baseUrl: lm.baseUrl, limit: 2 }));
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toContain("2 of 2 examples have no result (2 LM errors)");
    expect(auditRun(database, "refused-2").status).toBe("incomplete");
  }, 30_000);

  test("HTTP 400 to every call, --limit 20 → stopped early after max(8, --concurrency) in a row, exit 5, the rest not run", async () => {
    const lm = await startFakeOpenAI({ schedule: faultSchedule<FakeFault>({ seed: 4, rate: 1, faults: [{ kind: "status", status: 400 }] }) });
    stops.push(() => lm.stop());
    const database = join(directory, "refused-20.db");
    const result = await runCli(evaluateArgs({ database, outputDir, run: "refused-20", baseUrl: lm.baseUrl, limit: 20, extra: ["--concurrency", "1"] }));
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toContain("stopped early: 8 examples in a row failed on service errors; 20 of 20 examples have no result (8 LM errors, 12 not run)");
    expect(lm.counts.chat).toBe(8);
    expect(auditRun(database, "refused-20")).toMatchObject({ status: "incomplete", predictions: 8, missing: 12 });
  }, 30_000);

  test("more than half of the first 20 examples fail (never 8 in a row) → stopped early by the failure rate, exit 4", async () => {
    const lm = await startFakeOpenAI({});
    stops.push(() => lm.stop());
    // With --concurrency 1: example i fails on its first call unless i % 3 == 2 (then its 4 calls succeed).
    const faults: FakeFault[] = [];
    for (let index = 0; index < 30; index++) {
      if (index % 3 === 2) faults.push(...Array.from({ length: 4 }, (): FakeFault => ({ kind: "latency", ms: 0 })));
      else faults.push({ kind: "status", status: 500 });
    }
    lm.setFaults(faults);
    const database = join(directory, "rate.db");
    const result = await runCli(
      evaluateArgs({ database, outputDir, run: "rate", baseUrl: lm.baseUrl, limit: 30, extra: ["--concurrency", "1", "--max-retries", "0"] }),
    );
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain("stopped early: 14 of the 20 examples run so far failed on service errors");
    expect(result.stderr).toContain("24 of 30 examples have no result (14 LM errors, 10 not run); the scores are over the 6 that have one");
    expect(scoresOf("rate").overall).toMatchObject({ n: 6, missing: 24, lm_errors: 14 });
  }, 30_000);

  test("some examples fail: scores over the others with the count next to them (musique score agrees); the resume runs only those and completes", async () => {
    const lm = await startFakeOpenAI({});
    stops.push(() => lm.stop());
    const faults: FakeFault[] = [];
    for (let index = 0; index < 10; index++) {
      if (index === 3 || index === 7) faults.push({ kind: "status", status: 503 });
      else faults.push(...Array.from({ length: 4 }, (): FakeFault => ({ kind: "latency", ms: 0 })));
    }
    lm.setFaults(faults);
    const database = join(directory, "some.db");
    const run = "some-failed";
    const result = await runCli(
      evaluateArgs({ database, outputDir, run, baseUrl: lm.baseUrl, limit: 10, extra: ["--concurrency", "1", "--max-retries", "0"] }),
    );
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain("2 of 10 examples have no result (2 LM errors); the scores are over the 8 that have one");
    const table = result.stdout.split("\n").find((line) => line.startsWith("overall")) ?? "";
    expect(table).toMatch(/^overall\s+8\s.*\s2$/); // n = 8 … missing = 2
    const scores = scoresOf(run);
    expect(scores.overall).toMatchObject({ n: 8, missing: 2, lm_errors: 2 });
    const official = await runCli([
      "score",
      "--gold",
      join(outputDir, run, "gold.jsonl"),
      "--predictions",
      join(outputDir, run, "predictions.jsonl"),
      "--json",
    ]);
    expect((JSON.parse(official.stdout) as { answer_f1: number }).answer_f1).toBe(scores.overall.answer_f1 ?? Number.NaN);

    const chatsBefore = lm.counts.chat;
    const resumed = await runCli(["evaluate", "--resume", run, "--db", database, "--base-url", lm.baseUrl]);
    expect(resumed.exitCode).toBe(0);
    expect(lm.counts.chat - chatsBefore).toBe(2 * 4); // only the two missing examples ran again
    expect(auditRun(database, run)).toMatchObject({ status: "completed", predictions: 10, distinct: 10, byStatus: { ok: 10 } });
    expect(scoresOf(run).overall).toMatchObject({ n: 10, missing: 0 });
    expect(queryAll(database, "SELECT error FROM runs")).toEqual([{ error: null }]);
  }, 30_000);
});
