/**
 * The few typed errors of musique. Every user-facing failure is a MusiqueError carrying
 * what failed, the likely cause, the fix, and a documented exit code (README "Exit codes").
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
    super(message, details.error === undefined ? undefined : { cause: details.error });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = details.cause;
    this.fix = details.fix;
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
 * A remote service failed. `retryable` tells the one retry policy (src/http/retry.ts) whether
 * another attempt may help; the exit code says whether it was unreachable or refused us.
 */
export class ServiceError extends MusiqueError {
  readonly service: string;
  readonly url: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    options: {
      service: string;
      url: string;
      status?: number;
      retryable: boolean;
      retryAfterMs?: number;
    } & MusiqueErrorDetails,
  ) {
    const refused = options.status !== undefined && options.status >= 400 && options.status < 500 && !options.retryable;
    super(message, refused ? ExitCode.rejected : ExitCode.service, options);
    this.service = options.service;
    this.url = options.url;
    this.status = options.status;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isMusiqueError(error: unknown): error is MusiqueError {
  return error instanceof MusiqueError;
}

/** Levenshtein distance, for did-you-mean suggestions. */
export function editDistance(a: string, b: string): number {
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
