/**
 * Fault injection (issue #9): `musique evaluate` against fake LM and rerank servers that inject
 * seeded faults: 10 % infrastructure faults (latency spikes, 429 + Retry-After, 500/502/503,
 * connection resets, hangs past --request-timeout / --rerank-timeout, truncated JSON, HTTP 200
 * `null`, no choices) and 5 % completions that break (or stretch) the ChatAdapter format. The run
 * must finish with exactly one result per example, infra failures retried and counted in
 * module_calls.attempts, format failures scored (not retried) and counted.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startFakeOpenAI, type FakeFault } from "../fakes/openai.ts";
import { startFakeRerank } from "../fakes/rerank.ts";
import { faultSchedule } from "../fakes/schedule.ts";
import type { Fault } from "../fakes/tei.ts";
import { auditRun, evaluateArgs, queryOne, reportScenario, startMusique, temporaryDirectory, type RunAudit } from "./helpers.ts";

const directory = temporaryDirectory("faults");
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of stops) await stop();
  rmSync(directory, { recursive: true, force: true });
});

/** Infrastructure faults (weights sum to 10) and format faults (weights sum to 5): rate 0.15. */
const INFRA: Array<[FakeFault, number]> = [
  [{ kind: "latency", ms: 300 }, 1],
  [{ kind: "status", status: 429, retryAfter: "1" }, 1],
  [{ kind: "status", status: 500 }, 1],
  [{ kind: "status", status: 502 }, 1],
  [{ kind: "status", status: 503, retryAfterMs: 100 }, 1],
  [{ kind: "reset" }, 1.5],
  [{ kind: "hang" }, 1],
  [{ kind: "truncated-json" }, 1],
  [{ kind: "null-body" }, 1],
  [{ kind: "no-choices" }, 0.5],
];
const FORMAT: Array<[FakeFault, number]> = [
  [{ kind: "malformed" }, 1.5],
  [{ kind: "missing-marker" }, 1.5],
  [{ kind: "empty" }, 1],
  [{ kind: "extra-field" }, 1],
];
/** Faults after which the call has no usable completion (retried); latency is only slow. */
const FAILING_INFRA = new Set(["status", "reset", "hang", "truncated-json", "null-body", "no-choices"]);
/** Completions the ChatAdapter parser rejects (extra fields are ignored, as in DSPy). */
const BREAKING_FORMAT = new Set(["malformed", "missing-marker", "empty"]);

function lmSchedule(seed: number) {
  const all = [...INFRA, ...FORMAT];
  return faultSchedule<FakeFault>({ seed, rate: 0.15, faults: all.map(([fault]) => fault), weights: all.map(([, weight]) => weight) });
}

function countKinds(faults: readonly FakeFault[], kinds: ReadonlySet<string>): number {
  return faults.filter((fault) => kinds.has(fault.kind)).length;
}

function expectNoLostRows(audit: RunAudit, examples: number): void {
  expect(audit.status).toBe("completed");
  expect(audit.examples).toBe(examples);
  expect(audit.predictions).toBe(examples);
  expect(audit.distinct).toBe(examples);
  expect(audit.missing).toBe(0);
  expect(audit.integrity).toBe("ok");
}

describe("evaluate under injected faults", () => {
  test("LM: 10 % infra faults + 5 % format faults → one result per example; retries and format failures counted", async () => {
    const schedule = lmSchedule(20261125);
    const fake = await startFakeOpenAI({ schedule });
    stops.push(() => fake.stop());
    const database = join(directory, "lm.db");
    const examples = 40;
    const child = startMusique(
      evaluateArgs({
        database,
        outputDir: join(directory, "out"),
        run: "lm-faults",
        baseUrl: fake.baseUrl,
        limit: examples,
        // The JSON fallback is off so that each broken reply is exactly one format failure
        // (test/program/fallback.test.ts covers the fallback).
        extra: ["--concurrency", "8", "--num-hops", "2", "--request-timeout", "2", "--max-retries", "3", "--no-json-fallback"],
      }),
    );
    const result = await child.done;
    expect(result.stderr).not.toContain("this is a bug");
    expect(result.exitCode).toBe(0);

    const audit = auditRun(database, "lm-faults");
    expectNoLostRows(audit, examples);
    const injected = schedule.injected;
    const infraFailures = countKinds(injected, FAILING_INFRA);
    const formatBreaks = countKinds(injected, BREAKING_FORMAT);
    expect(infraFailures).toBeGreaterThan(0);
    expect(formatBreaks).toBeGreaterThan(0);
    // Every request the fake saw is one attempt in module_calls; every failed attempt is retried
    // (or, after --max-retries, recorded as the call's lm_error).
    expect(audit.attempts).toBe(fake.counts.chat);
    expect(audit.attempts - audit.answeredCalls).toBe(infraFailures);
    // Each broken completion ends its example as a scored format failure, without a retry.
    expect(audit.byStatus.format_failure ?? 0).toBe(formatBreaks);
    const parseErrors = queryOne<{ n: number }>(database, "SELECT COUNT(*) AS n FROM module_calls WHERE status = 'parse_error'").n;
    expect(parseErrors).toBe(formatBreaks);
    const lmErrorCalls = queryOne<{ n: number }>(database, "SELECT COUNT(*) AS n FROM module_calls WHERE status = 'lm_error'").n;
    expect(audit.byStatus.lm_error ?? 0).toBe(lmErrorCalls);
    // A format failure scores 0 and keeps the raw completion for inspection.
    const scored = queryOne<{ n: number }>(database, "SELECT COUNT(*) AS n FROM predictions WHERE status = 'format_failure' AND (em != 0 OR f1 != 0)");
    expect(scored.n).toBe(0);

    // Retry-After is honoured: the retry of a 429 (same body) comes at least 1 s later.
    const chats = fake.requests.filter((request) => request.path.endsWith("/chat/completions"));
    let checked = 0;
    for (const [index, request] of chats.entries()) {
      if (request.fault !== "status:429") continue;
      const body = JSON.stringify(request.body);
      const retry = chats.slice(index + 1).find((later) => JSON.stringify(later.body) === body);
      if (!retry) continue;
      expect(retry.at - request.at).toBeGreaterThanOrEqual(1000);
      checked += 1;
    }
    reportScenario("evaluate / LM faults (seed 20261125)", {
      examples,
      "requests sent": fake.counts.chat,
      "faults injected": `${injected.length} ${JSON.stringify(schedule.countsByKind())}`,
      retries: audit.attempts - audit.calls,
      "final results": `${audit.predictions} ${JSON.stringify(audit.byStatus)}`,
      "429 retries checked": checked,
      "rows lost": audit.missing,
    });
  }, 60_000);

  test("rerank + LM: 10 % rerank faults (hang past --rerank-timeout included) → one result per example", async () => {
    const rerankFaults: Array<[Fault, number]> = [
      [{ kind: "delay", ms: 200 }, 1],
      [{ kind: "status", status: 429, headers: { "retry-after": "1" } }, 1],
      [{ kind: "status", status: 500 }, 1],
      [{ kind: "status", status: 502 }, 1],
      [{ kind: "status", status: 503 }, 1],
      [{ kind: "reset" }, 1.5],
      [{ kind: "delay", ms: 2500 }, 1], // a hang past --rerank-timeout 1
      [{ kind: "body", body: '{"results": [{"index": 0, "relevance' }, 1.5], // truncated JSON
      [{ kind: "body", body: '{"results": "not a list"}' }, 1],
    ];
    const rerankSchedule = faultSchedule<Fault>({
      seed: 4242,
      rate: 0.1,
      faults: rerankFaults.map(([fault]) => fault),
      weights: rerankFaults.map(([, weight]) => weight),
    });
    const rerank = startFakeRerank({ schedule: rerankSchedule });
    const schedule = lmSchedule(77);
    const fake = await startFakeOpenAI({ schedule });
    stops.push(
      () => fake.stop(),
      () => rerank.stop(),
    );
    const database = join(directory, "rerank.db");
    const examples = 30;
    const child = startMusique(
      evaluateArgs({
        database,
        outputDir: join(directory, "out"),
        run: "rerank-faults",
        baseUrl: fake.baseUrl,
        limit: examples,
        extra: [
          "--retriever",
          "semantic",
          "--rerank-url",
          rerank.url,
          "--rerank-timeout",
          "1",
          "--concurrency",
          "8",
          "--request-timeout",
          "2",
          "--no-json-fallback",
        ],
      }),
    );
    const result = await child.done;
    expect(result.stderr).not.toContain("this is a bug");
    expect(result.exitCode).toBe(0);

    const audit = auditRun(database, "rerank-faults");
    expectNoLostRows(audit, examples);
    const rerankRequests = rerank.requests.filter((request) => request.path === "/rerank").length;
    const rerankFailures = rerankSchedule.injected.filter((fault) => !(fault.kind === "delay" && fault.ms < 1000)).length;
    expect(rerankFailures).toBeGreaterThan(0);
    // Every answered rerank request fed exactly one extract_information call.
    const extracts = queryOne<{ n: number }>(
      database,
      "SELECT COUNT(*) AS n FROM module_calls WHERE module = 'extract_information' AND run_id = (SELECT id FROM runs WHERE name = 'rerank-faults')",
    ).n;
    expect(rerankRequests - rerankFailures).toBe(extracts);
    expect(audit.attempts).toBe(fake.counts.chat);
    expect(audit.attempts - audit.answeredCalls).toBe(countKinds(schedule.injected, FAILING_INFRA));
    expect(audit.byStatus.format_failure ?? 0).toBe(countKinds(schedule.injected, BREAKING_FORMAT));
    // A retrieval that failed for good is a retrieval_error naming the rerank URL, its calls kept.
    const retrievalFailures = queryOne<{ n: number }>(
      database,
      "SELECT COUNT(*) AS n FROM predictions WHERE status = 'retrieval_error' AND error LIKE ?",
      `%${rerank.url}%`,
    ).n;
    reportScenario("evaluate / rerank + LM faults (seeds 4242, 77)", {
      examples,
      "LM requests": fake.counts.chat,
      "rerank requests": rerankRequests,
      "faults injected": `LM ${schedule.injected.length} ${JSON.stringify(schedule.countsByKind())}; rerank ${rerankSchedule.injected.length} ${JSON.stringify(rerankSchedule.countsByKind())}`,
      retries: `LM ${audit.attempts - audit.calls}, rerank ${rerankFailures - retrievalFailures}`,
      "final results": `${audit.predictions} ${JSON.stringify(audit.byStatus)}`,
      "rows lost": audit.missing,
    });
  }, 60_000);
});
