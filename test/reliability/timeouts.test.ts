/**
 * Timeouts everywhere: a service that hangs becomes, within its timeout, an error that names the
 * endpoint and the setting that bounds the wait (--request-timeout, --rerank-timeout,
 * HF_HUB_DOWNLOAD_TIMEOUT). Nothing may hang: every child is bounded by startMusique's limit.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startFakeOpenAI, type FakeFault } from "../fakes/openai.ts";
import { startFakeRerank } from "../fakes/rerank.ts";
import { faultSchedule } from "../fakes/schedule.ts";
import type { Fault } from "../fakes/tei.ts";
import { auditRun, evaluateArgs, queryAll, reportScenario, startMusique, temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory("timeouts");
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of stops) await stop();
  rmSync(directory, { recursive: true, force: true });
});

/** A server that accepts every request and never answers (until stopped). */
function startHangingServer(): { url: string; requests: () => number; stop: () => Promise<void> } {
  const waiting = new Set<() => void>();
  let count = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch: () => {
      count += 1;
      return new Promise<Response>((resolve) => waiting.add(() => resolve(new Response("late", { status: 503 }))));
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests: () => count,
    stop: async () => {
      for (const release of waiting) release();
      await server.stop(true);
    },
  };
}

const alwaysHang = () => faultSchedule<FakeFault>({ seed: 1, rate: 1, faults: [{ kind: "hang" }] });

describe("a hung service fails within its timeout, naming the URL and the flag", () => {
  test("LM hangs on every chat request: each example records the URL and --request-timeout; the run stops with exit 4", async () => {
    const fake = await startFakeOpenAI({ schedule: alwaysHang() });
    stops.push(() => fake.stop());
    const database = join(directory, "lm-hang.db");
    const result = await startMusique(
      evaluateArgs({
        database,
        outputDir: join(directory, "out"),
        run: "lm-hang",
        baseUrl: fake.baseUrl,
        limit: 8,
        extra: ["--request-timeout", "1", "--max-retries", "0", "--concurrency", "8"],
      }),
    ).done;
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain("examples in a row failed on service errors");
    expect(result.stderr).toContain(fake.baseUrl);
    expect(result.stderr).toContain("--request-timeout");
    const calls = queryAll<{ error: string; attempts: number }>(database, "SELECT error, attempts FROM module_calls WHERE status = 'lm_error'");
    expect(calls.length).toBe(8);
    for (const call of calls) {
      expect(call.error).toContain("did not answer within 1 s (--request-timeout)");
      expect(call.error).toContain(fake.baseUrl);
      expect(call.attempts).toBe(1);
    }
    const audit = auditRun(database, "lm-hang");
    expect(audit.status).toBe("incomplete"); // service failures are not scores: nothing is marked completed
    expect(result.stderr).toContain("8 of 8 examples have no result (8 LM errors); no example has a score");
    const scores = JSON.parse(readFileSync(join(directory, "out", "lm-hang", "scores.json"), "utf8")) as { overall: Record<string, unknown> };
    expect(scores.overall).toMatchObject({ n: 0, answer_f1: null, missing: 8, lm_errors: 8 });
    reportScenario("timeouts / LM hang (--request-timeout 1)", {
      "requests sent": fake.counts.chat,
      "faults injected": fake.counts.faults,
      "final results": audit.predictions,
      "run status": audit.status,
    });
  }, 30_000);

  test("a slow example is stopped by the whole-example deadline (--example-timeout), recorded with its calls, and resumable", async () => {
    const fake = await startFakeOpenAI({ schedule: faultSchedule<FakeFault>({ seed: 3, rate: 1, faults: [{ kind: "latency", ms: 400 }] }) });
    stops.push(() => fake.stop());
    const database = join(directory, "deadline.db");
    const result = await startMusique(
      evaluateArgs({
        database,
        outputDir: join(directory, "out"),
        run: "deadline",
        baseUrl: fake.baseUrl,
        limit: 2,
        extra: ["--example-timeout", "1", "--request-timeout", "30"],
      }),
    ).done;
    expect(result.exitCode).toBe(4); // no example has a result: the run is incomplete, not a score of 0
    expect(auditRun(database, "deadline").status).toBe("incomplete");
    const predictions = queryAll<{ status: string; error: string }>(database, "SELECT status, error FROM predictions");
    expect(predictions).toHaveLength(2);
    for (const prediction of predictions) {
      expect(prediction.status).toBe("deadline");
      expect(prediction.error).toContain("did not finish within 1 s (--example-timeout)");
    }
    const calls = queryAll<{ n: number }>(database, "SELECT COUNT(*) AS n FROM module_calls");
    expect(calls[0]?.n).toBeGreaterThan(0);
    expect(result.stderr).toContain("--resume deadline");
  }, 30_000);

  test("Arbor (no /models) hangs at the preflight chat: exit 4 within --request-timeout, naming the URL", async () => {
    const fake = await startFakeOpenAI({ flavor: "arbor", schedule: alwaysHang() });
    stops.push(() => fake.stop());
    const database = join(directory, "preflight-hang.db");
    const result = await startMusique(
      evaluateArgs({ database, outputDir: join(directory, "out"), run: "preflight-hang", baseUrl: fake.baseUrl, limit: 2, extra: ["--request-timeout", "1"] }),
      { limitMs: 30_000 },
    ).done;
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain(fake.baseUrl);
    expect(result.stderr).toContain("--request-timeout");
    expect(queryAll(database, "SELECT * FROM runs")).toEqual([]); // no run was created
  }, 40_000);

  test("rerank hangs: every retrieval fails after --rerank-timeout naming the rerank URL; exit 4", async () => {
    const rerank = startFakeRerank({ schedule: faultSchedule<Fault>({ seed: 1, rate: 1, faults: [{ kind: "delay", ms: 5000 }] }) });
    const fake = await startFakeOpenAI({});
    stops.push(
      () => fake.stop(),
      () => rerank.stop(),
    );
    const database = join(directory, "rerank-hang.db");
    const result = await startMusique(
      evaluateArgs({
        database,
        outputDir: join(directory, "out"),
        run: "rerank-hang",
        baseUrl: fake.baseUrl,
        limit: 8,
        extra: ["--retriever", "semantic", "--rerank-url", rerank.url, "--rerank-timeout", "0.5", "--max-retries", "0", "--concurrency", "8"],
      }),
    ).done;
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain(`${rerank.url}/rerank`);
    expect(result.stderr).toContain("--rerank-timeout");
    const errors = queryAll<{ error: string }>(database, "SELECT error FROM predictions");
    expect(errors.length).toBe(8);
    for (const { error } of errors) expect(error).toContain("did not answer within 0.5 s (--rerank-timeout)");
  }, 30_000);

  test("rerank /health hangs: the preflight fails within --rerank-timeout naming the URL; no run created", async () => {
    const rerank = startFakeRerank({});
    rerank.healthFaults.push({ kind: "delay", ms: 5000 });
    const fake = await startFakeOpenAI({});
    stops.push(
      () => fake.stop(),
      () => rerank.stop(),
    );
    const database = join(directory, "health-hang.db");
    const result = await startMusique(
      evaluateArgs({
        database,
        outputDir: join(directory, "out"),
        run: "health-hang",
        baseUrl: fake.baseUrl,
        limit: 2,
        extra: ["--retriever", "semantic", "--rerank-url", rerank.url, "--rerank-timeout", "0.5"],
      }),
    ).done;
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain(`${rerank.url}/health`);
    expect(result.stderr).toContain("--rerank-timeout");
    expect(queryAll(database, "SELECT * FROM runs")).toEqual([]);
  }, 30_000);

  test("the Hub hangs: HF_HUB_DOWNLOAD_TIMEOUT bounds each attempt; exit 4 naming the URL and the variable", async () => {
    const hub = startHangingServer();
    stops.push(() => hub.stop());
    const env = { HF_ENDPOINT: hub.url, HF_HOME: join(directory, "hf-home"), HF_HUB_OFFLINE: undefined, HF_HUB_DOWNLOAD_TIMEOUT: "0.5" };
    const result = await startMusique(["data", "bdsaglam/musique,answerable,validation"], { env, limitMs: 40_000 }).done;
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain(hub.url);
    expect(result.stderr).toContain("HF_HUB_DOWNLOAD_TIMEOUT");
    expect(hub.requests()).toBe(4); // the first attempt and 3 retries
    expect(existsSync(join(directory, "hf-home", "musique"))).toBe(false); // nothing half-written in the cache
  }, 45_000);
});
