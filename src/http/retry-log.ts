/**
 * Retry warnings, aggregated (issue 18 item 3): instead of one WARN per retry, one line per
 * endpoint with counts by cause, at most every REPORT_INTERVAL_MS, and a summary when the command
 * ends. Every attempt is still recorded where it belongs (module_calls.attempts, the RetryError's
 * `attempts`); this only decides what reaches the terminal.
 *
 *   retrying calls to language model at http://gpu:8000/v1: 5 × HTTP 503, 1 × reset (6 so far)
 *   retries: language model at http://gpu:8000/v1: 66 (60 × HTTP 503, 6 × reset)
 */
import type { ServiceError } from "../errors.ts";

/** The shortest time between two lines about the same endpoint. */
const REPORT_INTERVAL_MS = 5000;

/** The cause of a retry as counted: "HTTP 503", "timeout", "reset", … */
function retryCause(error: ServiceError): string {
  return error.status !== undefined && error.kind !== "malformed" ? `HTTP ${error.status}` : error.kind;
}

interface EndpointRetries {
  /** Retries by cause since the last line. */
  recent: Map<string, number>;
  /** Retries by cause since the start (or the last summary). */
  total: Map<string, number>;
  lastLineAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

function add(counts: Map<string, number>, cause: string): void {
  counts.set(cause, (counts.get(cause) ?? 0) + 1);
}

function describe(counts: Map<string, number>): string {
  return [...counts.entries()]
    .sort((left, right) => right[1] - left[1] || left[0].localeCompare(right[0]))
    .map(([cause, count]) => `${count} × ${cause}`)
    .join(", ");
}

function sum(counts: Map<string, number>): number {
  let total = 0;
  for (const count of counts.values()) total += count;
  return total;
}

export interface RetryLogOptions {
  /** Where an aggregated line goes (src/log.ts: a warning). */
  write: (line: string) => void;
  /** Where the detail of each retry goes (src/log.ts: --log-level debug). */
  detail?: (line: string) => void;
  intervalMs?: number;
  now?: () => number;
}

export class RetryLog {
  private readonly endpoints = new Map<string, EndpointRetries>();
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: RetryLogOptions) {
    this.intervalMs = options.intervalMs ?? REPORT_INTERVAL_MS;
    this.now = options.now ?? Date.now;
  }

  /** The `onRetry` of a RetryPolicy: counts the retry under "<service> at <url>". */
  readonly onRetry = (info: { attempt: number; delayMs: number; error: ServiceError }): void => {
    const { attempt, delayMs, error } = info;
    this.options.detail?.(`${error.message}; retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s`);
    this.retried(`${error.service} at ${error.url}`, error);
  };

  /** One retry of a call to `endpoint` ("language model at http://…") after `error`. */
  retried(endpoint: string, error: ServiceError): void {
    let state = this.endpoints.get(endpoint);
    if (!state) {
      state = { recent: new Map(), total: new Map(), lastLineAt: Number.NEGATIVE_INFINITY, timer: undefined };
      this.endpoints.set(endpoint, state);
    }
    const cause = retryCause(error);
    add(state.recent, cause);
    add(state.total, cause);
    const wait = state.lastLineAt + this.intervalMs - this.now();
    if (wait <= 0) this.line(endpoint, state);
    else if (state.timer === undefined) {
      const entry = state;
      state.timer = setTimeout(() => this.line(endpoint, entry), wait);
      state.timer.unref();
    }
  }

  private line(endpoint: string, state: EndpointRetries): void {
    clearTimeout(state.timer);
    state.timer = undefined;
    if (state.recent.size === 0) return;
    state.lastLineAt = this.now();
    this.options.write(`retrying calls to ${endpoint}: ${describe(state.recent)} (${sum(state.total)} so far)`);
    state.recent.clear();
  }

  /** The summary line of every endpoint that was retried (none when nothing was); then start over. */
  finish(): void {
    const parts: string[] = [];
    for (const [endpoint, state] of this.endpoints) {
      clearTimeout(state.timer);
      parts.push(`${endpoint}: ${sum(state.total)} (${describe(state.total)})`);
    }
    this.endpoints.clear();
    if (parts.length > 0) this.options.write(`retries: ${parts.join("; ")}`);
  }
}
