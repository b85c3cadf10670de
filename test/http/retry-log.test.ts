/**
 * Retry warnings are aggregated (src/http/retry-log.ts, issue 18 item 3): one line per endpoint
 * with counts, at most every interval, and a summary at the end — while every attempt is still
 * recorded in the database.
 */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceError, type FailureKind } from "../../src/errors.ts";
import { RetryLog } from "../../src/http/retry-log.ts";
import { startFakeOpenAI, type FakeFault } from "../fakes/openai.ts";
import { faultSchedule } from "../fakes/schedule.ts";
import { runCli } from "../helpers/cli.ts";

function failure(url: string, kind: FailureKind, status?: number): ServiceError {
  return new ServiceError("x", { service: "language model", url, kind, ...(status === undefined ? {} : { status }) });
}

describe("RetryLog", () => {
  test("66 retries in a burst give one line per endpoint, then a summary with the counts by cause", () => {
    const lines: string[] = [];
    const retryLog = new RetryLog({ write: (line) => lines.push(line), now: () => 1000 });
    for (let index = 0; index < 60; index++) retryLog.retried("language model at http://a/v1", failure("http://a/v1", "server", 503));
    for (let index = 0; index < 6; index++) retryLog.retried("language model at http://a/v1", failure("http://a/v1", "reset"));
    retryLog.retried("rerank service at http://r/rerank", failure("http://r/rerank", "timeout"));
    expect(lines).toEqual([
      "retrying calls to language model at http://a/v1: 1 × HTTP 503 (1 so far)",
      "retrying calls to rerank service at http://r/rerank: 1 × timeout (1 so far)",
    ]);
    retryLog.finish();
    expect(lines.at(-1)).toBe("retries: language model at http://a/v1: 66 (60 × HTTP 503, 6 × reset); rerank service at http://r/rerank: 1 (1 × timeout)");
  });

  test("retries after the first line are reported together once the interval has passed", async () => {
    const lines: string[] = [];
    const retryLog = new RetryLog({ write: (line) => lines.push(line), intervalMs: 30 });
    for (let index = 0; index < 5; index++) retryLog.retried("Arbor at http://a/", failure("http://a/", "server", 500));
    expect(lines).toHaveLength(1);
    await Bun.sleep(80);
    expect(lines).toEqual(["retrying calls to Arbor at http://a/: 1 × HTTP 500 (1 so far)", "retrying calls to Arbor at http://a/: 4 × HTTP 500 (5 so far)"]);
    retryLog.finish();
  });

  test("no retry, no summary", () => {
    const lines: string[] = [];
    new RetryLog({ write: (line) => lines.push(line) }).finish();
    expect(lines).toEqual([]);
  });
});

describe("musique evaluate with a flaky server", () => {
  test("a third of the calls answered 503 then retried: a few aggregated lines, one summary, every attempt in the database", async () => {
    const directory = mkdtempSync(join(tmpdir(), "musique-retry-log-"));
    const schedule = faultSchedule<FakeFault>({ seed: 5, rate: 0.33, faults: [{ kind: "status", status: 503, retryAfterMs: 1 }] });
    const fake = await startFakeOpenAI({ schedule });
    const database = join(directory, "flaky.db");
    try {
      const result = await runCli([
        "evaluate",
        ...["--datasets", "test/fixtures/musique_ans_dev_sample150.jsonl", "--limit", "20", "--retriever", "lexical"],
        ...["--base-url", fake.baseUrl, "--max-retries", "6", "--db", database, "--output-dir", join(directory, "out"), "--run-name", "flaky"],
      ]);
      expect(result.exitCode).toBe(0);
      const retries = fake.counts.faults;
      expect(retries).toBeGreaterThan(10);
      const lines = result.stderr.split("\n");
      const progressLines = lines.filter((line) => line.includes("retrying calls to language model"));
      expect(progressLines.length).toBeGreaterThan(0);
      expect(progressLines.length).toBeLessThan(retries);
      expect(lines.filter((line) => line.includes("retries: language model at"))).toEqual([expect.stringContaining(`: ${retries} (${retries} × HTTP 503)`)]);
      const db = new Database(database, { readonly: true });
      const recorded = db.query("SELECT SUM(attempts) AS attempts FROM module_calls").get() as { attempts: number };
      db.close();
      expect(recorded.attempts).toBe(fake.counts.chat);
    } finally {
      await fake.stop();
      rmSync(directory, { recursive: true, force: true });
    }
  }, 60_000);
});
