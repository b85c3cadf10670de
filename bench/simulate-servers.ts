/**
 * The LM client's endpoint pool (src/lm/endpoints.ts: routing, the adaptive limit of
 * src/http/adaptive-limit.ts per endpoint, Retry-After pauses, a fixed --concurrency cap) driving
 * simulated inference servers (test/fakes/batching-model.ts) in simulated time, for the
 * throughput suite (bench/throughput.ts). No timers and no sockets: a simulated five minutes of a
 * 512-sequence server run in about a second, the same on every machine and under any load.
 *
 * The client is closed-loop with unbounded demand: whenever the pool has room, a request starts
 * (an evaluate run keeps more programs in flight than the LM limit: src/run/concurrency.ts). A
 * server with `ratePerSecond` is an API with a rate limit, as test/fakes/batching-lm.ts: a token
 * bucket of R per second with a burst of R; a request above it is refused at once (429 with a
 * Retry-After of when the next token comes), which the pool reports to the endpoint's limit and
 * waits out, as the real client does. Latency is the server's own (arrival to answer).
 */
import type { LimitReason } from "../src/http/adaptive-limit.ts";
import { EndpointPool, type Lease } from "../src/lm/endpoints.ts";
import { BatchingModel, type BatchingModelOptions } from "../test/fakes/batching-model.ts";

interface SimulatedServer {
  model: BatchingModelOptions;
  /** An API refusing above R requests per second (429 + Retry-After). */
  ratePerSecond?: number;
}

export interface SimulationPlan {
  servers: SimulatedServer[];
  /** A fixed --concurrency, or auto under `maxConcurrency`. */
  concurrency: number | "auto";
  maxConcurrency: number;
  /** Measurement starts after this much simulated time… */
  warmMs: number;
  /** …and lasts this long. */
  measureMs: number;
}

export interface EndpointFigures {
  /** Completions per second in the measured stretch. */
  throughput: number;
  /** The limit over the measured stretch: time-weighted mean, min, max; and at the end. */
  limitMean: number;
  limitMin: number;
  limitMax: number;
  limitFinal: number;
  /** Simulated time of the end of slow start (null: fixed, or never settled). */
  settledAtMs: number | null;
  /** Limit changes, by reason, over the whole run. */
  changes: Partial<Record<LimitReason, number>>;
}

export interface SimulationResult {
  /** Completions per second over all servers in the measured stretch. */
  throughput: number;
  /** Median server latency of those completions (ms). */
  p50Ms: number;
  /** Requests sent (answered or refused) and refused in the measured stretch. */
  sent: number;
  refused: number;
  endpoints: EndpointFigures[];
  /** Simulated events processed (completions and refusals), for the suite's own cost. */
  events: number;
}

interface Flight {
  lease: Lease<number>;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function simulate(plan: SimulationPlan): SimulationResult {
  let now = 0;
  const clock = () => now;
  const auto = plan.concurrency === "auto";
  const pool = new EndpointPool(
    plan.servers.map((_server, index) => ({ url: `server-${index}`, value: index })),
    { now: clock, limitClock: clock, concurrency: auto ? plan.maxConcurrency : (plan.concurrency as number), adaptive: auto },
  );
  const models = plan.servers.map((server) => new BatchingModel<Flight>(server.model));
  const tokens = plan.servers.map((server) => server.ratePerSecond ?? 0);
  const refilledAt = plan.servers.map(() => 0);
  const measureStart = plan.warmMs;
  const end = plan.warmMs + plan.measureMs;

  // Limits over time, per endpoint (time-weighted over the measured stretch).
  const limitArea = plan.servers.map(() => 0);
  const limitMin = plan.servers.map(() => Number.POSITIVE_INFINITY);
  const limitMax = plan.servers.map(() => 0);
  const limitSince = plan.servers.map(() => measureStart);
  const settledAt: Array<number | null> = plan.servers.map(() => null);
  const changes: Array<Partial<Record<LimitReason, number>>> = plan.servers.map(() => ({}));
  const currentLimit = (index: number): number => pool.endpoints[index]?.limit?.limit ?? (plan.concurrency as number);
  pool.onLimitChange((url, change) => {
    const index = Number(url.slice("server-".length));
    changes[index] = { ...changes[index], [change.reason]: (changes[index]?.[change.reason] ?? 0) + 1 };
    if (change.reason === "settled" && settledAt[index] === null) settledAt[index] = change.at;
    if (now >= measureStart && now <= end) {
      limitArea[index] = (limitArea[index] ?? 0) + change.previous * (now - (limitSince[index] ?? now));
      limitSince[index] = now;
      limitMin[index] = Math.min(limitMin[index] ?? change.limit, change.limit);
      limitMax[index] = Math.max(limitMax[index] ?? change.limit, change.limit);
    }
  });

  const answered = plan.servers.map(() => 0);
  const latencies: number[] = [];
  let sent = 0;
  let refused = 0;
  let events = 0;
  const measuring = () => now >= measureStart && now <= end;

  /** The token bucket of a rate-limited server: 0 when the request may go, else the wait (ms). */
  const rateWait = (index: number): number => {
    const rate = plan.servers[index]?.ratePerSecond;
    if (rate === undefined) return 0;
    const available = Math.min(rate, (tokens[index] ?? 0) + ((now - (refilledAt[index] ?? 0)) * rate) / 1000);
    refilledAt[index] = now;
    if (available >= 1) {
      tokens[index] = available - 1;
      return 0;
    }
    tokens[index] = available;
    return ((1 - available) * 1000) / rate;
  };

  const fill = (): void => {
    for (;;) {
      const lease = pool.tryAcquire();
      if (lease === null) return;
      const index = lease.endpoint.value;
      if (measuring()) sent += 1;
      const wait = rateWait(index);
      if (wait > 0) {
        events += 1;
        if (measuring()) refused += 1;
        pool.release(lease, { kind: "refused", retryAfterMs: Math.ceil(wait), endpointFailure: false });
        continue;
      }
      (models[index] as BatchingModel<Flight>).arrive(now, { lease });
    }
  };

  let started = false;
  for (;;) {
    if (!started) {
      started = true;
      fill();
      continue;
    }
    let next = end;
    for (const model of models) next = Math.min(next, model.nextEventAt() ?? Number.POSITIVE_INFINITY);
    for (const endpoint of pool.endpoints) if (endpoint.pausedUntil > now) next = Math.min(next, endpoint.pausedUntil);
    if (now < measureStart) next = Math.min(next, measureStart);
    now = Math.max(now, next);
    if (now === measureStart) {
      for (let index = 0; index < plan.servers.length; index++) {
        limitSince[index] = now;
        limitMin[index] = Math.min(limitMin[index] ?? Number.POSITIVE_INFINITY, currentLimit(index));
        limitMax[index] = Math.max(limitMax[index] ?? 0, currentLimit(index));
      }
    }
    models.forEach((model, index) => {
      for (const request of model.advance(now)) {
        events += 1;
        const finishedAt = request.finishedAt ?? now;
        if (finishedAt >= measureStart && finishedAt <= end) {
          answered[index] = (answered[index] ?? 0) + 1;
          latencies.push(finishedAt - request.arrivedAt);
        }
        pool.release(request.payload.lease, { kind: "success", latencyMs: finishedAt - request.arrivedAt, units: request.tokens });
      }
    });
    if (now >= end) break;
    fill();
  }

  const seconds = plan.measureMs / 1000;
  const endpoints = plan.servers.map((_server, index): EndpointFigures => {
    const final = currentLimit(index);
    const area = (limitArea[index] ?? 0) + final * (end - (limitSince[index] ?? end));
    return {
      throughput: (answered[index] ?? 0) / seconds,
      limitMean: area / plan.measureMs,
      limitMin: limitMin[index] ?? final,
      limitMax: limitMax[index] ?? final,
      limitFinal: final,
      settledAtMs: settledAt[index] ?? null,
      changes: changes[index] ?? {},
    };
  });
  return {
    throughput: answered.reduce((sum, count) => sum + count, 0) / seconds,
    p50Ms: median(latencies),
    sent,
    refused,
    endpoints,
    events,
  };
}
