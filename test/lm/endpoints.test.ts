/**
 * The endpoint pool (src/lm/endpoints.ts): which endpoint a request goes to, how many each takes
 * at once (a fixed --concurrency over all of them, or an adaptive limit each with auto), failure
 * cool-downs and Retry-After pauses. Clock-driven where it can be (no sleeping on time).
 */
import { describe, expect, test } from "bun:test";
import { InterruptedError } from "../../src/errors.ts";
import { EndpointPool, type Lease } from "../../src/lm/endpoints.ts";

function lease<T>(pool: EndpointPool<T>): Lease<T> {
  const taken = pool.tryAcquire();
  if (taken === null) throw new Error("expected a free slot");
  return taken;
}

const success = { kind: "success", latencyMs: 100, units: 10 } as const;

describe("EndpointPool: failures", () => {
  test("an endpoint failing 3 times in a row cools down; a success resets the count", () => {
    let now = 1000;
    const pool = new EndpointPool([{ url: "a", value: 1 }], { now: () => now, cooldownMs: 30_000 });
    const first = lease(pool);
    pool.release(first, { kind: "endpoint-failure" });
    pool.release(lease(pool), { kind: "endpoint-failure" });
    pool.release(lease(pool), success);
    expect(first.endpoint.coolingUntil).toBe(0);
    for (let i = 0; i < 3; i++) pool.release(lease(pool), { kind: "endpoint-failure" });
    expect(first.endpoint.coolingUntil).toBe(31_000);
    now = 40_000;
    expect(lease(pool).endpoint.url).toBe("a");
  });

  test("a refused request (4xx) does not count against the endpoint", () => {
    const pool = new EndpointPool([{ url: "a", value: 1 }], { failureThreshold: 1 });
    pool.release(lease(pool), { kind: "request-failure" });
    expect(pool.endpoints[0]?.coolingUntil).toBe(0);
  });

  test("a 429 does not count against the endpoint (a rate-limited server is up)", () => {
    const pool = new EndpointPool([{ url: "a", value: 1 }], { failureThreshold: 1 });
    pool.release(lease(pool), { kind: "refused", endpointFailure: false });
    expect(pool.endpoints[0]?.coolingUntil).toBe(0);
  });

  test("when every endpoint cools down, the one whose cool-down ends first is used", () => {
    let now = 0;
    const pool = new EndpointPool(
      [
        { url: "a", value: 1 },
        { url: "b", value: 2 },
      ],
      { now: () => now, failureThreshold: 1, cooldownMs: 100 },
    );
    pool.release(lease(pool), { kind: "endpoint-failure" }); // a cools until 100
    now = 50;
    const b = lease(pool);
    expect(b.endpoint.url).toBe("b");
    pool.release(b, { kind: "endpoint-failure" }); // b cools until 150
    now = 60;
    expect(lease(pool).endpoint.url).toBe("a");
  });
});

describe("EndpointPool: concurrency", () => {
  test("a fixed --concurrency caps requests in flight over all endpoints; the next waits for a release", async () => {
    const pool = new EndpointPool(
      [
        { url: "a", value: 1 },
        { url: "b", value: 2 },
      ],
      { concurrency: 3 },
    );
    const held = [lease(pool), lease(pool), lease(pool)];
    expect(pool.tryAcquire()).toBeNull();
    let granted: Lease<number> | null = null;
    const waiting = pool.acquire().then((next) => (granted = next));
    await Promise.resolve();
    expect(granted).toBeNull();
    pool.release(held[0] as Lease<number>, success);
    await waiting;
    expect(granted).not.toBeNull();
    expect(pool.inFlight).toBe(3);
  });

  test("with auto, each endpoint takes at most its own limit, and the pool's limit is their sum", () => {
    const pool = new EndpointPool(
      [
        { url: "a", value: 1 },
        { url: "b", value: 2 },
      ],
      { concurrency: 1024, adaptive: true },
    );
    const first = pool.endpoints[0]?.limit?.limit ?? 0;
    expect(pool.limit).toBe(2 * first);
    const taken = Array.from({ length: 2 * first }, () => lease(pool));
    expect(pool.tryAcquire()).toBeNull();
    expect(taken.filter((held) => held.endpoint.url === "a")).toHaveLength(first);
  });

  test("with auto, a request goes to the endpoint with the lowest share of its limit in flight", () => {
    const pool = new EndpointPool(
      [
        { url: "a", value: 1 },
        { url: "b", value: 2 },
      ],
      { adaptive: true, concurrency: 1024 },
    );
    const a = lease(pool);
    expect(a.endpoint.url).toBe("a");
    expect(lease(pool).endpoint.url).toBe("b");
  });

  test("a waiting request whose signal aborts leaves the queue with the abort reason", async () => {
    const pool = new EndpointPool([{ url: "a", value: 1 }], { concurrency: 1 });
    lease(pool);
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    controller.abort(new InterruptedError());
    await expect(waiting).rejects.toBeInstanceOf(InterruptedError);
  });

  test("a Retry-After pauses new requests to that endpoint until it has passed; the other one goes on", () => {
    let now = 0;
    const pool = new EndpointPool(
      [
        { url: "a", value: 1 },
        { url: "b", value: 2 },
      ],
      { now: () => now },
    );
    pool.release(lease(pool), { kind: "refused", retryAfterMs: 2000, endpointFailure: false });
    now = 1000;
    expect([lease(pool).endpoint.url, lease(pool).endpoint.url]).toEqual(["b", "b"]);
    now = 2000;
    expect(lease(pool).endpoint.url).toBe("a");
  });

  test("with every endpoint paused by Retry-After, a request waits for the pause to end", async () => {
    const pool = new EndpointPool([{ url: "a", value: 1 }]);
    const pausedAt = Date.now();
    pool.release(lease(pool), { kind: "refused", retryAfterMs: 50, endpointFailure: false });
    expect(pool.tryAcquire()).toBeNull();
    const granted = await pool.acquire();
    expect(granted.endpoint.url).toBe("a");
    expect(Date.now() - pausedAt).toBeGreaterThanOrEqual(49);
  });
});
