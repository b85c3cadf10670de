/**
 * The adaptive limit (src/http/adaptive-limit.ts) against a batching server model
 * (test/fakes/batching-model.ts) in simulated time: a closed-loop client keeps as many requests
 * in flight as the limit allows (or `demand`, when smaller), each one reported to the limiter as
 * the real pool does. Optionally the server refuses above `ratePerSecond` (a token bucket of one
 * second's burst, as API rate limits behave) and the client retries after its Retry-After. No
 * timers, no sleeping: a simulated minute runs in milliseconds, the same way on every machine.
 */
import { AdaptiveLimit, type AdaptiveLimitOptions, type LimitChange, type Ticket } from "../../src/http/adaptive-limit.ts";
import { BatchingModel, type BatchingModelOptions } from "../fakes/batching-model.ts";

export interface SimulatedLoad {
  server: BatchingModelOptions;
  limit?: Omit<AdaptiveLimitOptions, "now" | "onChange">;
  /** Simulated duration (ms). */
  durationMs: number;
  /** Most requests the client has to send at once (default: unbounded). */
  demand?: number;
  /** Refuse with 429 above this many requests per second. */
  ratePerSecond?: number;
}

export interface SimulationResult {
  changes: LimitChange[];
  /** The limit at every 100 ms of simulated time. */
  limits: number[];
  completed: number;
  refused: number;
  /** Most requests in flight at any time (as the client saw them). */
  peakInFlight: number;
  final: number;
  limiter: AdaptiveLimit;
}

interface Payload {
  ticket: Ticket;
}

export function simulateLoad(load: SimulatedLoad): SimulationResult {
  let now = 0;
  const changes: LimitChange[] = [];
  const limiter = new AdaptiveLimit({ max: 1024, ...load.limit, now: () => now, onChange: (change) => changes.push(change) });
  const server = new BatchingModel<Payload>(load.server);
  /** Retry-After: the pool sends nothing new to the server before this time. */
  let pausedUntil = 0;
  const retries: number[] = [];
  let inFlight = 0;
  let peakInFlight = 0;
  let completed = 0;
  let refused = 0;
  let tokens = load.ratePerSecond ?? 0;
  let lastRefill = 0;
  const limits: number[] = [];
  let nextSample = 0;
  const demand = load.demand ?? Number.POSITIVE_INFINITY;
  let waiting = Number.isFinite(demand) ? demand : Number.POSITIVE_INFINITY;

  const send = (): void => {
    const ticket = limiter.start();
    inFlight += 1;
    peakInFlight = Math.max(peakInFlight, inFlight);
    if (load.ratePerSecond !== undefined) {
      tokens = Math.min(load.ratePerSecond, tokens + ((now - lastRefill) * load.ratePerSecond) / 1000);
      lastRefill = now;
      if (tokens < 1) {
        refused += 1;
        inFlight -= 1;
        limiter.refused(ticket);
        const retryAt = now + ((1 - tokens) * 1000) / load.ratePerSecond;
        retries.push(retryAt);
        pausedUntil = Math.max(pausedUntil, retryAt);
        return;
      }
      tokens -= 1;
    }
    server.arrive(now, { ticket });
  };

  const fill = (): void => {
    while (inFlight < limiter.limit && waiting > 0 && now >= pausedUntil) {
      waiting -= 1;
      send();
    }
  };

  fill();
  while (now < load.durationMs) {
    const serverNext = server.nextEventAt() ?? Number.POSITIVE_INFINITY;
    const retryNext = retries.length > 0 ? Math.min(...retries) : Number.POSITIVE_INFINITY;
    const pauseNext = pausedUntil > now ? pausedUntil : Number.POSITIVE_INFINITY;
    const next = Math.min(serverNext, retryNext, pauseNext, load.durationMs, nextSample);
    now = next;
    if (now >= nextSample) {
      limits.push(limiter.limit);
      nextSample += 100;
    }
    for (const request of server.advance(now)) {
      inFlight -= 1;
      completed += 1;
      waiting += 1;
      limiter.succeeded(request.payload.ticket, now - request.arrivedAt, request.tokens);
    }
    for (let index = retries.length - 1; index >= 0; index--) {
      if ((retries[index] as number) <= now) {
        retries.splice(index, 1);
        waiting += 1;
      }
    }
    fill();
  }
  return { changes, limits, completed, refused, peakInFlight, final: limiter.limit, limiter };
}
