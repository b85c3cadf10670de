/**
 * The one retry policy of musique (openai-node's): retry 408, 409, 429, ≥ 500 and connection
 * errors; honour `retry-after-ms` / `retry-after`; otherwise 0.5 s × 2ⁿ capped at 8 s with up
 * to 25 % jitter. Never retry other 4xx. Every HTTP client in src/ (LM, rerank, Arbor, Hub)
 * goes through `withRetries`; nothing else in the tree retries. A call that is not safe to
 * repeat narrows the rule with `retryWhen` (Arbor: only when nothing was sent). When it gives
 * up, it throws a RetryError (src/errors.ts): the reason and every attempt, as data.
 */
import { InterruptedError, RetryError, ServiceError, type AttemptRecord } from "../errors.ts";

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Upper bound on a server-requested Retry-After; longer waits use the backoff instead. */
  maxRetryAfterMs?: number;
  /** Whether this failure may be retried (default: `error.retryable`). */
  retryWhen?: (error: ServiceError) => boolean;
  /** Called before each retry (for logs and counters). */
  onRetry?: (info: { attempt: number; delayMs: number; error: ServiceError }) => void;
  /** Deterministic jitter for tests. */
  random?: () => number;
}

export interface AttemptResult<T> {
  value: T;
  attempts: number;
}

/** Parse `retry-after-ms` or `retry-after` (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get("retry-after");
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function backoffDelayMs(retryIndex: number, policy: RetryPolicy): number {
  const initial = policy.initialDelayMs ?? 500;
  const cap = policy.maxDelayMs ?? 8000;
  const base = Math.min(initial * 2 ** retryIndex, cap);
  const jitter = 1 - (policy.random ?? Math.random)() * 0.25;
  return base * jitter;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason ?? new InterruptedError());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new InterruptedError());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Run `attempt` until it succeeds, fails with an error not worth retrying, or retries run out.
 * `attempt` throws ServiceError for HTTP/connection failures (fetch.ts classifies them); any other
 * error is not retried and propagates as it is. A ServiceError ends as a RetryError carrying the
 * reason and every attempt.
 */
export async function withRetries<T>(attempt: (attemptNumber: number) => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<AttemptResult<T>> {
  const attempts: AttemptRecord[] = [];
  const retryWhen = policy.retryWhen ?? ((error: ServiceError) => error.retryable);
  for (let attemptNumber = 1; ; attemptNumber++) {
    if (signal?.aborted) throw signal.reason ?? new InterruptedError();
    const startedAt = Date.now();
    try {
      return { value: await attempt(attemptNumber), attempts: attemptNumber };
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? new InterruptedError();
      if (!(error instanceof ServiceError)) throw error;
      const failed = error instanceof RetryError ? error.lastError : error;
      attempts.push({ number: attemptNumber, startedAt, durationMs: Date.now() - startedAt, error: failed });
      if (!retryWhen(failed)) throw new RetryError("errorNotRetryable", attempts, failed);
      if (attemptNumber > policy.maxRetries) throw new RetryError("maxRetriesExceeded", attempts, failed);
      const requested = failed.retryAfterMs;
      const delayMs = requested !== undefined && requested <= (policy.maxRetryAfterMs ?? 60_000) ? requested : backoffDelayMs(attemptNumber - 1, policy);
      policy.onRetry?.({ attempt: attemptNumber, delayMs, error: failed });
      await sleep(delayMs, signal);
    }
  }
}
