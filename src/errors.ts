/**
 * The few typed errors of musique. Every user-facing failure is a MusiqueError carrying
 * what failed, the likely cause, the fix, and a documented exit code (README "Exit codes").
 * A service failure is a ServiceError of one FailureKind (classified once, in src/http/fetch.ts)
 * with the server's words as a bounded field; a retried call that gave up is a RetryError (the
 * reason and every attempt, as the Vercel AI SDK's); `stopsRun` is the one rule for whether a
 * failure inside an example stops the run. Credentials in URLs never reach a message.
 */

export const ExitCode = {
  ok: 0,
  /** A bug or an error we did not anticipate. */
  internal: 1,
  /** Bad command line: unknown flag, bad value, missing argument. */
  usage: 2,
  /** Bad input data: dataset not found, malformed rows, mismatched prediction files. */
  data: 3,
  /** A service could not be reached or kept failing (LM, rerank, Arbor, Hugging Face Hub). */
  service: 4,
  /** A service refused the request: wrong API key (401/403), model not served (404), bad request. */
  rejected: 5,
  /** The results database: locked, newer schema, read-only violation, disk full. */
  store: 6,
  /** Stopped by SIGHUP (the terminal went away); like Ctrl-C: the run is marked interrupted. */
  hangup: 129,
  /** Stopped by Ctrl-C (SIGINT); the run is marked interrupted and can be resumed. */
  interrupted: 130,
  /** Stopped by SIGTERM (Slurm, Kubernetes, Docker: time limit or pre-emption); like Ctrl-C. */
  terminated: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface MusiqueErrorDetails {
  /** Why it probably failed. */
  cause?: string;
  /** What the user should do. */
  fix?: string;
  /** The underlying error, kept for --log-level debug. */
  error?: unknown;
}

export class MusiqueError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  readonly fix: string | undefined;

  constructor(message: string, exitCode: ExitCodeValue, details: MusiqueErrorDetails = {}) {
    super(redactCredentials(message), details.error === undefined ? undefined : { cause: details.error });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = details.cause === undefined ? undefined : redactCredentials(details.cause);
    this.fix = details.fix === undefined ? undefined : redactCredentials(details.fix);
  }

  /** One message: what failed, the likely cause, the fix. */
  describe(): string {
    const lines = [this.message];
    if (this.hint) lines.push(`  cause: ${this.hint}`);
    if (this.fix) lines.push(`  fix:   ${this.fix}`);
    return lines.join("\n");
  }
}

export class UsageError extends MusiqueError {
  constructor(message: string, details: MusiqueErrorDetails = {}) {
    super(message, ExitCode.usage, details);
  }
}

export class DataError extends MusiqueError {
  constructor(message: string, details: MusiqueErrorDetails = {}) {
    super(message, ExitCode.data, details);
  }
}

export class StoreError extends MusiqueError {
  constructor(message: string, details: MusiqueErrorDetails = {}) {
    super(message, ExitCode.store, details);
  }
}

export class InterruptedError extends MusiqueError {
  constructor(message = "interrupted", details: MusiqueErrorDetails = {}) {
    super(message, ExitCode.interrupted, details);
  }
}

/**
 * How a service call failed, decided once where the response is read (src/http/fetch.ts):
 *   unreachable   no connection (refused, unknown host): the request was never sent
 *   reset         the connection broke after the request was sent (before or during the answer)
 *   timeout       our deadline or idle limit passed (the server may still be working on it)
 *   auth          HTTP 401 / 403: the key is missing or wrong
 *   not_found     HTTP 404: the route, model or dataset does not exist there
 *   rejected      any other 4xx but 408/409/429: the server refused this request
 *   rate_limited  HTTP 429
 *   server        HTTP 5xx, 408, 409: the server failed (or asked us to come back)
 *   malformed     a 2xx answer we cannot use: not JSON, the wrong shape, `null`
 *   too_large     the answer exceeded its size cap (src/http/limits.ts)
 * auth, not_found and rejected are refusals (exit 5); every other kind exits 4.
 */
export type FailureKind = "unreachable" | "reset" | "timeout" | "auth" | "not_found" | "rejected" | "rate_limited" | "server" | "malformed" | "too_large";

/** The kind of a non-2xx HTTP status. */
export function kindOfStatus(status: number): FailureKind {
  if (status === 401 || status === 403) return "auth";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limited";
  if (status >= 500 || status === 408 || status === 409) return "server";
  return status >= 400 ? "rejected" : "malformed";
}

/** Whether another attempt may help, by kind alone (a caller may be stricter: see withRetries). */
function isTransient(kind: FailureKind): boolean {
  return kind === "unreachable" || kind === "reset" || kind === "timeout" || kind === "rate_limited" || kind === "server";
}

const REFUSALS: ReadonlySet<FailureKind> = new Set(["auth", "not_found", "rejected"]);

/** Characters of a server's own words kept in a message, a log line or the database. */
export const EXCERPT_CHARACTERS = 300;

/** `text` cut to `limit` characters, saying how much was left out. */
export function excerpt(text: string, limit = EXCERPT_CHARACTERS): string {
  if (text.length <= limit) return text;
  return `${text.slice(0, limit)}… (${text.length - limit} more characters)`;
}

export interface ServiceErrorOptions extends MusiqueErrorDetails {
  service: string;
  url: string;
  /** Defaults to the kind of `status`, else "server". */
  kind?: FailureKind;
  status?: number;
  /** Defaults to isTransient(kind). */
  retryable?: boolean;
  retryAfterMs?: number;
  /** What the server answered, at most EXCERPT_CHARACTERS (see `excerpt`). */
  body?: string;
  /** The answer parsed as JSON, when it was JSON and small enough to read whole (error bodies). */
  json?: unknown;
}

/**
 * A remote service failed. `kind` says how (the one classification, made in src/http/fetch.ts),
 * `body` holds a bounded excerpt of what the server said and `json` its parsed answer, so code
 * that explains an error reads fields, never the message. `retryable` tells the one retry policy
 * (src/http/retry.ts) whether another attempt may help; the exit code is 5 for refusals, else 4.
 */
export class ServiceError extends MusiqueError {
  readonly service: string;
  readonly url: string;
  readonly kind: FailureKind;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly body: string | undefined;
  readonly json: unknown;

  constructor(message: string, options: ServiceErrorOptions) {
    const kind = options.kind ?? (options.status === undefined ? "server" : kindOfStatus(options.status));
    super(message, REFUSALS.has(kind) ? ExitCode.rejected : ExitCode.service, options);
    this.service = options.service;
    this.url = redactCredentials(options.url);
    this.kind = kind;
    this.status = options.status;
    this.retryable = options.retryable ?? isTransient(kind);
    this.retryAfterMs = options.retryAfterMs;
    this.body = options.body === undefined ? undefined : excerpt(options.body);
    this.json = options.json;
  }

  /** The options this error was built from (to build a better-worded copy: see `reworded`). */
  options(): ServiceErrorOptions {
    const options: ServiceErrorOptions = { service: this.service, url: this.url, kind: this.kind, retryable: this.retryable };
    if (this.status !== undefined) options.status = this.status;
    if (this.retryAfterMs !== undefined) options.retryAfterMs = this.retryAfterMs;
    if (this.body !== undefined) options.body = this.body;
    if (this.json !== undefined) options.json = this.json;
    if (this.hint !== undefined) options.cause = this.hint;
    if (this.fix !== undefined) options.fix = this.fix;
    return options;
  }

  /** The same failure (kind, status, body) told in a service's own words. */
  reworded(message: string, details: Partial<ServiceErrorOptions>): ServiceError {
    return new ServiceError(message, { ...this.options(), error: this, ...details });
  }
}

/** Why withRetries gave up (the Vercel AI SDK's RetryError reasons). */
export type RetryReason = "maxRetriesExceeded" | "errorNotRetryable";

/** One attempt of a retried call. */
export interface AttemptRecord {
  /** 1 for the first attempt. */
  number: number;
  /** Milliseconds since the epoch when the attempt started, and how long it took. */
  startedAt: number;
  durationMs: number;
  error: ServiceError;
}

/**
 * The outcome of a call that withRetries gave up on, as data: why it stopped and every attempt
 * made (the last attempt's error is `lastError`; its kind, status, body and exit code are this
 * error's). Thrown instead of the last error, whatever the number of attempts.
 */
export class RetryError extends ServiceError {
  readonly reason: RetryReason;
  readonly attempts: readonly AttemptRecord[];
  readonly lastError: ServiceError;

  constructor(reason: RetryReason, attempts: readonly AttemptRecord[], lastError: ServiceError) {
    const tried = attempts.length > 1 ? ` (after ${attempts.length} attempts)` : "";
    super(`${lastError.message}${tried}`, { ...lastError.options(), error: lastError });
    this.reason = reason;
    this.attempts = attempts;
    this.lastError = lastError;
  }
}

/** HTTP attempts a failure took: every attempt of a RetryError, else 1. */
export function attemptsMade(error: unknown): number {
  return error instanceof RetryError ? error.attempts.length : 1;
}

/**
 * THE rule for a failure inside one example (one program run, one rollout): true when it must
 * stop the whole run, false when it is recorded as that example's service failure. It stops the
 * run when it is not a service failure at all (a bug, the database, Ctrl-C), or when the service
 * refused us in a way every other example would meet too: `auth` (wrong key) and `not_found`
 * (wrong URL, model not served). A `rejected` request (HTTP 400/422: e.g. a prompt longer than the
 * context) is about that request, so it is recorded like an outage and the run goes on.
 */
export function stopsRun(error: unknown): boolean {
  if (!(error instanceof ServiceError)) return true;
  return error.kind === "auth" || error.kind === "not_found";
}

/** `scheme://user:password@host` → `scheme://***@host`, anywhere in `text` (URLs in messages, logs, files). */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi, "$1***@");
}

export function isMusiqueError(error: unknown): error is MusiqueError {
  return error instanceof MusiqueError;
}

/** Levenshtein distance, for did-you-mean suggestions. */
function editDistance(a: string, b: string): number {
  const previous = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0] ?? 0;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, (previous[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length] ?? 0;
}

/** The closest candidate within a small distance, or undefined. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(input.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(input, candidate);
    if (distance < bestDistance || (candidate.startsWith(input) && input.length >= 3 && best === undefined)) {
      best = candidate;
      bestDistance = Math.min(distance, bestDistance);
    }
  }
  return best;
}
