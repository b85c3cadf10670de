/**
 * The adaptive concurrency limit (`--concurrency auto`, src/http/adaptive-limit.ts), driven in
 * simulated time against the batching server model (test/helpers/simulated-load.ts): seeded and
 * clock-free, so every run gives the same numbers on any machine.
 */
import { describe, expect, test } from "bun:test";
import { AdaptiveLimit, BACKOFF, INITIAL_LIMIT } from "../../src/http/adaptive-limit.ts";
import { simulateLoad } from "../helpers/simulated-load.ts";

/** The limits over the last `ms` of a simulation (sampled every 100 ms). */
function tail(limits: number[], ms: number): { min: number; max: number; mean: number } {
  const last = limits.slice(-Math.round(ms / 100));
  return { min: Math.min(...last), max: Math.max(...last), mean: last.reduce((sum, value) => sum + value, 0) / last.length };
}

describe("adaptive concurrency: finding a server's useful concurrency", () => {
  for (const maxBatch of [8, 64, 512]) {
    test(`on a server batching K = ${maxBatch} sequences it settles around K (time-averaged within 0.75–1.3 K)`, () => {
      const run = simulateLoad({ server: { maxBatch, seed: 11 }, durationMs: 150_000 });
      const settled = tail(run.limits, 60_000);
      expect(settled.mean).toBeGreaterThanOrEqual(0.75 * maxBatch);
      expect(settled.mean).toBeLessThanOrEqual(1.3 * maxBatch);
    });
  }

  test("it grows from its first limit while the server has spare capacity (slow start doubles)", () => {
    const run = simulateLoad({ server: { maxBatch: 256, seed: 3 }, durationMs: 30_000 });
    const doublings = run.changes.filter((change) => change.reason === "start").map((change) => change.limit);
    expect(doublings.slice(0, 4)).toEqual([2 * INITIAL_LIMIT, 4 * INITIAL_LIMIT, 8 * INITIAL_LIMIT, 16 * INITIAL_LIMIT]);
    expect(run.final).toBeGreaterThanOrEqual(192);
  });

  test("it shrinks when requests only queue: from 128 on a server batching 32, down to about 32", () => {
    const run = simulateLoad({ server: { maxBatch: 32, seed: 5 }, limit: { max: 1024, initial: 128 }, durationMs: 150_000 });
    expect(run.changes.some((change) => change.reason === "down")).toBe(true);
    expect(tail(run.limits, 40_000).mean).toBeLessThanOrEqual(1.3 * 32);
  });

  test("at the knee, each probe cycle that changes nothing holds the limit longer before the next (probes ≥ 3× further apart after a few cycles)", () => {
    const run = simulateLoad({ server: { maxBatch: 256, seed: 11 }, durationMs: 150_000 });
    expect(run.changes.filter((change) => change.reason === "up" || change.reason === "down")).toEqual([]);
    const probes = run.changes.filter((change) => change.reason === "probe-up").map((change) => change.at);
    const gaps = probes.slice(1).map((at, index) => at - (probes[index] as number));
    expect(gaps.length).toBeGreaterThanOrEqual(4);
    expect(gaps[gaps.length - 1] as number).toBeGreaterThanOrEqual(3 * (gaps[0] as number));
  });

  test("it never exceeds --max-concurrency, even on a server that could take far more", () => {
    const run = simulateLoad({ server: { maxBatch: 512, seed: 7 }, limit: { max: 20 }, durationMs: 60_000 });
    expect(Math.max(...run.limits)).toBeLessThanOrEqual(20);
    expect(run.peakInFlight).toBeLessThanOrEqual(20);
    expect(run.changes.some((change) => change.limit === 20)).toBe(true);
  });

  test("a window short of demand changes nothing: 5 requests to send, the limit stays where it started", () => {
    const run = simulateLoad({ server: { maxBatch: 512, seed: 7 }, demand: 5, durationMs: 30_000 });
    expect(run.changes).toEqual([]);
    expect(run.final).toBe(INITIAL_LIMIT);
  });
});

describe("adaptive concurrency: refusals (429, 503, timeouts)", () => {
  test("a refusal cuts the limit at once, by BACKOFF", () => {
    let now = 0;
    const limit = new AdaptiveLimit({ max: 1024, initial: 40, now: () => now });
    const tickets = Array.from({ length: 40 }, () => limit.start());
    now = 100;
    limit.refused(tickets[0] as (typeof tickets)[number]);
    expect(limit.limit).toBe(Math.floor(40 * BACKOFF));
  });

  test("the requests already in flight when it was cut do not cut it again", () => {
    let now = 0;
    const limit = new AdaptiveLimit({ max: 1024, initial: 40, now: () => now });
    const tickets = Array.from({ length: 40 }, () => limit.start());
    now = 100;
    for (const ticket of tickets.slice(0, 10)) limit.refused(ticket);
    expect(limit.limit).toBe(Math.floor(40 * BACKOFF));
  });

  test("a refusal of a request sent after the cut, a round trip later, cuts it again", () => {
    let now = 0;
    const limit = new AdaptiveLimit({ max: 1024, initial: 40, now: () => now });
    const tickets = Array.from({ length: 40 }, () => limit.start());
    now = 100;
    for (const ticket of tickets.slice(0, 2)) limit.succeeded(ticket, 100);
    limit.refused(tickets[2] as (typeof tickets)[number]);
    const cut = limit.limit;
    now = 300;
    const later = limit.start();
    now = 320;
    limit.refused(later);
    expect(limit.limit).toBeLessThan(cut);
  });

  test("a refusal of a request sent after the cut cuts it again at once, without waiting a round trip (a 429 comes back in a millisecond)", () => {
    let now = 0;
    const limit = new AdaptiveLimit({ max: 1024, initial: 40, now: () => now });
    const tickets = Array.from({ length: 40 }, () => limit.start());
    now = 1000;
    for (const ticket of tickets.slice(0, 10)) limit.succeeded(ticket, 1000);
    limit.refused(tickets[10] as (typeof tickets)[number]);
    const cut = limit.limit;
    now = 1001;
    const later = limit.start();
    now = 1002;
    limit.refused(later);
    expect(limit.limit).toBeLessThan(cut);
  });

  test("against an API limited to 100 requests/s it keeps ≥ 90 % of the rate, with < 2 % refused after the first 10 s", () => {
    const run = simulateLoad({ server: { maxBatch: 100_000, batchForDoubleStep: Number.POSITIVE_INFINITY, seed: 13 }, ratePerSecond: 100, durationMs: 10_000 });
    const later = simulateLoad({
      server: { maxBatch: 100_000, batchForDoubleStep: Number.POSITIVE_INFINITY, seed: 13 },
      ratePerSecond: 100,
      durationMs: 70_000,
    });
    const completed = later.completed - run.completed;
    const refused = later.refused - run.refused;
    expect(completed / 60).toBeGreaterThanOrEqual(90);
    expect(refused / (completed + refused)).toBeLessThan(0.02);
  });
});
