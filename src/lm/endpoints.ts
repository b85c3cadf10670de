/**
 * Several OpenAI-compatible endpoints behind one client, and how many requests each gets at once.
 *
 * Concurrency: a fixed `--concurrency N` caps the requests in flight over all endpoints at N (any
 * endpoint may take them). `--concurrency auto` gives every endpoint its own adaptive limit
 * (src/http/adaptive-limit.ts) under a total cap (--max-concurrency), so a small server and a
 * large one each get what they can use. A request waits (FIFO) until some endpoint has room.
 *
 * Routing: a request goes to the endpoint with the lowest share of its limit in flight (with a
 * fixed limit: the fewest in flight; ties: the one picked least recently, so sequential traffic
 * alternates). An endpoint that fails `failureThreshold` times in a row is taken out for
 * `cooldownMs`; while every endpoint is cooling down, the one whose cool-down ends first is used.
 * A Retry-After (429, 503) pauses new requests to that endpoint until it has passed.
 */
import { AdaptiveLimit, type LimitChange, type Ticket } from "../http/adaptive-limit.ts";
import type { ConcurrencyGauge } from "../http/limit.ts";
import { InterruptedError } from "../errors.ts";

export interface EndpointState<T> {
  readonly url: string;
  readonly value: T;
  inFlight: number;
  consecutiveFailures: number;
  coolingUntil: number;
  /** Retry-After: no new request before this time. */
  pausedUntil: number;
  lastPicked: number;
  requests: number;
  failures: number;
  /** The endpoint's adaptive limit (null with a fixed --concurrency). */
  readonly limit: AdaptiveLimit | null;
}

export interface EndpointPoolOptions {
  failureThreshold?: number;
  cooldownMs?: number;
  now?: () => number;
  /** Requests in flight over all endpoints at most (fixed --concurrency; with auto, --max-concurrency). */
  concurrency?: number;
  /** --concurrency auto: an adaptive limit per endpoint, each at most `concurrency`. */
  adaptive?: boolean;
  /** The adaptive limits' clock (tests). */
  limitClock?: () => number;
}

/** A request's hold on an endpoint, from `acquire` to `release`. */
export interface Lease<T> {
  readonly endpoint: EndpointState<T>;
  readonly ticket: Ticket | null;
}

/** How a request ended, for the endpoint's failure count and its adaptive limit. */
export type Outcome =
  /** Answered: `latencyMs` and `units` (completion tokens, 1 when unknown) feed the limit. */
  | { kind: "success"; latencyMs: number; units: number }
  /** Refused for load (429, 503) or timed out: the limit backs off; Retry-After pauses the endpoint. */
  | { kind: "refused"; retryAfterMs?: number | undefined; endpointFailure: boolean }
  /** The endpoint failed (5xx, reset, unreachable…). */
  | { kind: "endpoint-failure" }
  /** Our request was refused (4xx) or abandoned: nothing against the endpoint. */
  | { kind: "request-failure" };

/** The longest pause a Retry-After may impose (the retry policy's own bound). */
const MAX_PAUSE_MS = 60_000;

interface Waiter<T> {
  resolve: (lease: Lease<T>) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export class EndpointPool<T> implements ConcurrencyGauge {
  readonly endpoints: EndpointState<T>[];
  private readonly failureThreshold: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;
  private readonly cap: number;
  private picks = 0;
  private total = 0;
  private readonly waiting: Array<Waiter<T>> = [];
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly capacityListeners = new Set<() => void>();
  private readonly limitListeners = new Set<(endpoint: string, change: LimitChange) => void>();

  constructor(entries: ReadonlyArray<{ url: string; value: T }>, options: EndpointPoolOptions = {}) {
    if (entries.length === 0) throw new RangeError("an endpoint pool needs at least one endpoint");
    this.cap = options.concurrency ?? Number.POSITIVE_INFINITY;
    this.endpoints = entries.map((entry) => ({
      url: entry.url,
      value: entry.value,
      inFlight: 0,
      consecutiveFailures: 0,
      coolingUntil: 0,
      pausedUntil: 0,
      lastPicked: -1,
      requests: 0,
      failures: 0,
      limit: options.adaptive
        ? new AdaptiveLimit({
            max: Number.isFinite(this.cap) ? this.cap : 1024,
            ...(options.limitClock ? { now: options.limitClock } : {}),
            onChange: (change) => this.limitChanged(entry.url, change),
          })
        : null,
    }));
    this.failureThreshold = options.failureThreshold ?? 3;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** Requests the endpoints take at once: the sum of their limits (auto), or the fixed cap. */
  get limit(): number {
    let sum = 0;
    for (const endpoint of this.endpoints) sum += endpoint.limit?.limit ?? Number.POSITIVE_INFINITY;
    return Math.min(this.cap, sum);
  }

  get inFlight(): number {
    return this.total;
  }

  /** Called when `limit` may have changed (an endpoint's adaptive limit moved). */
  subscribe(listener: () => void): () => void {
    this.capacityListeners.add(listener);
    return () => this.capacityListeners.delete(listener);
  }

  /** Called on every change of an endpoint's adaptive limit (logs, the store). */
  onLimitChange(listener: (endpoint: string, change: LimitChange) => void): () => void {
    this.limitListeners.add(listener);
    return () => this.limitListeners.delete(listener);
  }

  private limitChanged(url: string, change: LimitChange): void {
    for (const listener of this.limitListeners) listener(url, change);
    for (const listener of this.capacityListeners) listener();
    this.wake();
  }

  /** An endpoint with room now, or null (and when one may have room again, for a timer). */
  private choose(): { endpoint: EndpointState<T> | null; retryAt: number | null } {
    if (this.total >= this.cap) return { endpoint: null, retryAt: null };
    const now = this.now();
    const open = this.endpoints.filter((endpoint) => endpoint.pausedUntil <= now && endpoint.inFlight < (endpoint.limit?.limit ?? Number.POSITIVE_INFINITY));
    const warm = open.filter((endpoint) => endpoint.coolingUntil <= now);
    let chosen: EndpointState<T> | null = null;
    if (warm.length > 0) {
      for (const endpoint of warm) {
        if (chosen === null || isLessLoaded(endpoint, chosen)) chosen = endpoint;
      }
    } else if (open.length > 0 && this.endpoints.every((endpoint) => endpoint.coolingUntil > now)) {
      for (const endpoint of open) {
        if (chosen === null || endpoint.coolingUntil < chosen.coolingUntil) chosen = endpoint;
      }
    }
    if (chosen !== null) return { endpoint: chosen, retryAt: null };
    const pauses = this.endpoints.map((endpoint) => endpoint.pausedUntil).filter((until) => until > now);
    return { endpoint: null, retryAt: pauses.length > 0 ? Math.min(...pauses) : null };
  }

  private lease(endpoint: EndpointState<T>): Lease<T> {
    endpoint.inFlight += 1;
    endpoint.requests += 1;
    endpoint.lastPicked = this.picks++;
    this.total += 1;
    return { endpoint, ticket: endpoint.limit?.start() ?? null };
  }

  /** A slot now, or null when every endpoint is full (or paused). */
  tryAcquire(): Lease<T> | null {
    if (this.waiting.length > 0) return null;
    const { endpoint } = this.choose();
    return endpoint === null ? null : this.lease(endpoint);
  }

  /** Wait (FIFO) for a slot on some endpoint; rejects with the signal's reason when it aborts. */
  acquire(signal?: AbortSignal): Promise<Lease<T>> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new InterruptedError());
    const now = this.tryAcquire();
    if (now !== null) return Promise.resolve(now);
    return new Promise<Lease<T>>((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.waiting.indexOf(waiter);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(signal?.reason ?? new InterruptedError());
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.waiting.push(waiter);
      this.wake();
    });
  }

  /** Hand free slots to waiting requests, in order; arm a timer for the end of a pause. */
  private wake(): void {
    while (this.waiting.length > 0) {
      const { endpoint, retryAt } = this.choose();
      if (endpoint === null) {
        if (retryAt !== null && this.wakeTimer === undefined) {
          this.wakeTimer = setTimeout(
            () => {
              this.wakeTimer = undefined;
              this.wake();
            },
            Math.max(1, retryAt - this.now()),
          );
        }
        return;
      }
      const waiter = this.waiting.shift() as Waiter<T>;
      waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.resolve(this.lease(endpoint));
    }
  }

  /** End a request. */
  release(lease: Lease<T>, outcome: Outcome): void {
    const { endpoint, ticket } = lease;
    endpoint.inFlight = Math.max(0, endpoint.inFlight - 1);
    this.total = Math.max(0, this.total - 1);
    const limit = endpoint.limit;
    switch (outcome.kind) {
      case "success":
        endpoint.consecutiveFailures = 0;
        if (limit && ticket) limit.succeeded(ticket, outcome.latencyMs, outcome.units);
        break;
      case "refused":
        if (limit && ticket) limit.refused(ticket);
        if (outcome.retryAfterMs !== undefined && outcome.retryAfterMs > 0) {
          endpoint.pausedUntil = Math.max(endpoint.pausedUntil, this.now() + Math.min(outcome.retryAfterMs, MAX_PAUSE_MS));
        }
        if (outcome.endpointFailure) this.failed(endpoint);
        break;
      case "endpoint-failure":
        if (limit && ticket) limit.ended(ticket);
        this.failed(endpoint);
        break;
      case "request-failure":
        if (limit && ticket) limit.ended(ticket);
        break;
    }
    this.wake();
  }

  private failed(endpoint: EndpointState<T>): void {
    endpoint.failures += 1;
    endpoint.consecutiveFailures += 1;
    if (endpoint.consecutiveFailures >= this.failureThreshold) {
      endpoint.coolingUntil = this.now() + this.cooldownMs;
      endpoint.consecutiveFailures = 0;
    }
  }
}

/** Lower share of its limit in flight (a fixed limit: fewer in flight); ties: picked less recently. */
function isLessLoaded<T>(candidate: EndpointState<T>, current: EndpointState<T>): boolean {
  const share = (endpoint: EndpointState<T>) => (endpoint.limit ? endpoint.inFlight / endpoint.limit.limit : endpoint.inFlight);
  const difference = share(candidate) - share(current);
  return difference < 0 || (difference === 0 && candidate.lastPicked < current.lastPicked);
}
