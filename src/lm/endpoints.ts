/**
 * Several OpenAI-compatible endpoints behind one client. Each request goes to the endpoint
 * with the fewest requests in flight (ties: the one picked least recently, so sequential
 * traffic alternates). An endpoint that fails `failureThreshold` times in a row is taken out
 * for `cooldownMs`; while every endpoint is cooling down, the one whose cool-down ends first
 * is used.
 */

export interface EndpointState<T> {
  readonly url: string;
  readonly value: T;
  inFlight: number;
  consecutiveFailures: number;
  coolingUntil: number;
  lastPicked: number;
  requests: number;
  failures: number;
}

export interface EndpointPoolOptions {
  failureThreshold?: number;
  cooldownMs?: number;
  now?: () => number;
}

export class EndpointPool<T> {
  readonly endpoints: EndpointState<T>[];
  private readonly failureThreshold: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;
  private picks = 0;

  constructor(entries: ReadonlyArray<{ url: string; value: T }>, options: EndpointPoolOptions = {}) {
    if (entries.length === 0) throw new RangeError("an endpoint pool needs at least one endpoint");
    this.endpoints = entries.map((entry) => ({
      url: entry.url,
      value: entry.value,
      inFlight: 0,
      consecutiveFailures: 0,
      coolingUntil: 0,
      lastPicked: -1,
      requests: 0,
      failures: 0,
    }));
    this.failureThreshold = options.failureThreshold ?? 3;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** Choose an endpoint and count the request as in flight; call `release` when it ends. */
  acquire(): EndpointState<T> {
    const now = this.now();
    const available = this.endpoints.filter((endpoint) => endpoint.coolingUntil <= now);
    let chosen: EndpointState<T> | undefined;
    if (available.length === 0) {
      for (const endpoint of this.endpoints) {
        if (!chosen || endpoint.coolingUntil < chosen.coolingUntil) chosen = endpoint;
      }
    } else {
      for (const endpoint of available) {
        if (
          !chosen ||
          endpoint.inFlight < chosen.inFlight ||
          (endpoint.inFlight === chosen.inFlight && endpoint.lastPicked < chosen.lastPicked)
        ) {
          chosen = endpoint;
        }
      }
    }
    const picked = chosen ?? (this.endpoints[0] as EndpointState<T>);
    picked.inFlight += 1;
    picked.requests += 1;
    picked.lastPicked = this.picks++;
    return picked;
  }

  /** End a request; `failed` marks a failure of the endpoint (not of our request). */
  release(endpoint: EndpointState<T>, outcome: "success" | "endpoint-failure" | "request-failure"): void {
    endpoint.inFlight = Math.max(0, endpoint.inFlight - 1);
    if (outcome === "success") {
      endpoint.consecutiveFailures = 0;
      return;
    }
    if (outcome === "request-failure") return;
    endpoint.failures += 1;
    endpoint.consecutiveFailures += 1;
    if (endpoint.consecutiveFailures >= this.failureThreshold) {
      endpoint.coolingUntil = this.now() + this.cooldownMs;
      endpoint.consecutiveFailures = 0;
    }
  }
}
