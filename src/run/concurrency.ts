/**
 * How many programs (examples, rollouts) run at once, and the record of the concurrency each LM
 * endpoint got (issue 19; README "Performance", docs/store.md `concurrency_limits`).
 *
 * With a fixed `--concurrency N`, N programs run at once and N LM calls at most are in flight.
 * With `--concurrency auto`, each endpoint finds its own limit (src/lm/endpoints.ts) and the
 * programs in flight follow their sum, with a quarter more (at least 2) so that the servers never
 * wait for a program that is between two calls (retrieving, scoring), all under
 * --max-concurrency. Every change of a limit is logged (at --log-level debug; the end of slow
 * start and refusals at info) and stored with the run; a summary line ends the run.
 */
import type { LimitChange } from "../http/adaptive-limit.ts";
import type { ConcurrencyGauge } from "../http/limit.ts";
import { redactCredentials } from "../errors.ts";
import { log } from "../log.ts";
import type { ConcurrencySetting } from "../config/fields.ts";
import { recordConcurrencyLimit } from "../store/concurrency.ts";
import type { Store } from "../store/database.ts";

/** Programs in flight beyond the LM limit: this share of it, and at least HEADROOM_MIN. */
const HEADROOM_SHARE = 0.25;
const HEADROOM_MIN = 2;
/** A refusal line per endpoint at most this often (the rest at debug). */
const REFUSAL_LINE_MS = 30_000;

export interface ConcurrencySettings {
  concurrency: ConcurrencySetting;
  maxConcurrency: number;
}

/** The requests in flight a fixed setting allows, or --max-concurrency with auto (for services without their own limit). */
export function fixedConcurrency(settings: ConcurrencySettings): number {
  return settings.concurrency === "auto" ? settings.maxConcurrency : settings.concurrency;
}

/** Programs in flight at once: the fixed setting, or (auto) the LM endpoints' limits plus headroom. */
export function programConcurrency(settings: ConcurrencySettings, lm: ConcurrencyGauge | undefined): number | ConcurrencyGauge {
  if (settings.concurrency !== "auto" || lm === undefined) return fixedConcurrency(settings);
  const max = settings.maxConcurrency;
  return {
    get limit() {
      const wanted = lm.limit;
      return Number.isFinite(wanted) ? Math.min(max, Math.ceil(wanted * (1 + HEADROOM_SHARE)) + HEADROOM_MIN) : max;
    },
    subscribe: (listener) => lm.subscribe(listener),
  };
}

function rounded(value: number | null, digits: number): number | null {
  return value === null || !Number.isFinite(value) ? null : Number(value.toFixed(digits));
}

/** What the recorder reads of the LM client's endpoint pool (src/lm/endpoints.ts). */
export interface LimitSource {
  readonly endpoints: ReadonlyArray<{ readonly url: string; readonly limit: { readonly limit: number } | null }>;
  onLimitChange(listener: (endpoint: string, change: LimitChange) => void): () => void;
}

/**
 * Records every endpoint's concurrency for one run: the starting point now, each change as it
 * happens, and a summary line at `finish`.
 */
export class ConcurrencyRecorder {
  private readonly unsubscribe: () => void;
  private readonly lastRefusalLine = new Map<string, number>();
  private readonly seen = new Map<string, { min: number; max: number; last: number }>();

  constructor(
    private readonly store: Store,
    private readonly runId: number,
    pool: LimitSource,
    private readonly settings: ConcurrencySettings,
  ) {
    for (const endpoint of pool.endpoints) {
      const limit = endpoint.limit?.limit ?? fixedConcurrency(settings);
      this.write(endpoint.url, {
        limit,
        previous: limit,
        reason: endpoint.limit ? "initial" : "fixed",
        throughput: null,
        unitThroughput: null,
        latencyMs: null,
      });
    }
    this.unsubscribe = pool.onLimitChange((url, change) => this.changed(url, change));
  }

  private write(url: string, change: Omit<LimitChange, "at" | "reason"> & { reason: string }): void {
    const endpoint = redactCredentials(url);
    const range = this.seen.get(endpoint);
    this.seen.set(endpoint, {
      min: Math.min(range?.min ?? change.limit, change.limit),
      max: Math.max(range?.max ?? change.limit, change.limit),
      last: change.limit,
    });
    recordConcurrencyLimit(this.store, this.runId, {
      endpoint,
      at: new Date().toISOString(),
      concurrency: change.limit,
      previous: change.reason === "fixed" || change.reason === "initial" ? null : change.previous,
      reason: change.reason,
      requestsPerSecond: rounded(change.throughput, 2),
      tokensPerSecond: rounded(change.unitThroughput, 1),
      latencyP50Ms: rounded(change.latencyMs, 1),
    });
  }

  private changed(url: string, change: LimitChange): void {
    try {
      this.write(url, change);
    } catch (error) {
      log.warn(`could not record the concurrency of ${redactCredentials(url)}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const endpoint = redactCredentials(url);
    const measured =
      change.throughput === null
        ? ""
        : ` (${change.throughput.toFixed(1)} calls/s, p50 ${((change.latencyMs ?? 0) / 1000).toFixed(2)} s at ${change.reason === "settled" ? change.previous : change.limit})`;
    const line = `concurrency ${endpoint}: ${change.previous} → ${change.limit}, ${change.reason}${measured}`;
    if (change.reason === "settled") {
      log.info(`concurrency ${endpoint}: ${change.limit} requests in flight (slow start done${measured.replace(/^ \(/, ": ").replace(/\)$/, "")})`);
      return;
    }
    if (change.reason === "refused") {
      const last = this.lastRefusalLine.get(endpoint) ?? Number.NEGATIVE_INFINITY;
      if (Date.now() - last >= REFUSAL_LINE_MS) {
        this.lastRefusalLine.set(endpoint, Date.now());
        log.info(`${line}: the server refused requests (429/503) or timed out; backing off`);
        return;
      }
    }
    log.debug(line);
  }

  /** Stop recording; one line with each endpoint's last limit and its range over the run. */
  finish(): void {
    this.unsubscribe();
    if (this.settings.concurrency !== "auto") return;
    const parts = [...this.seen.entries()].map(([endpoint, range]) => `${endpoint} ${range.last} (${range.min}–${range.max})`);
    if (parts.length > 0) log.info(`concurrency (--concurrency auto): ${parts.join("; ")}`);
  }
}
