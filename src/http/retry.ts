/**
 * The one retry policy of musique (openai-node's): retry 408, 409, 429, ≥ 500 and connection
 * errors; honour `retry-after-ms` / `retry-after`; otherwise 0.5 s × 2ⁿ capped at 8 s with up
 * to 25 % jitter. Never retry other 4xx. Every HTTP client in src/ (LM, rerank, Arbor, Hub)
 * goes through `withRetries`; nothing else in the tree retries.
 */
import { InterruptedError, ServiceError } from "../errors.ts";

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Upper bound on a server-requested Retry-After; longer waits use the backoff instead. */
  maxRetryAfterMs?: number;
  /** Called before each retry (for logs and counters). */
  onRetry?: (info: { attempt: number; delayMs: number; error: ServiceError }) => void;
  /** Deterministic jitter for tests. */
  random?: () => number;
}

export interface AttemptResult<T> {
  value: T;
  attempts: number;
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
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

export function backoffDelayMs(retryIndex: number, policy: RetryPolicy): number {
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
 * Run `attempt` until it succeeds, fails with a non-retryable error, or retries run out.
 * `attempt` must throw ServiceError for HTTP/connection failures (retryable set by status);
 * any other error is not retried.
 */
export async function withRetries<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<AttemptResult<T>> {
  for (let attemptNumber = 1; ; attemptNumber++) {
    if (signal?.aborted) throw signal.reason ?? new InterruptedError();
    try {
      return { value: await attempt(attemptNumber), attempts: attemptNumber };
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? new InterruptedError();
      if (!(error instanceof ServiceError) || !error.retryable || attemptNumber > policy.maxRetries) {
        if (error instanceof ServiceError) Object.assign(error, { attempts: attemptNumber });
        throw error;
      }
      const requested = error.retryAfterMs;
      const delayMs =
        requested !== undefined && requested <= (policy.maxRetryAfterMs ?? 60_000)
          ? requested
          : backoffDelayMs(attemptNumber - 1, policy);
      policy.onRetry?.({ attempt: attemptNumber, delayMs, error });
      await sleep(delayMs, signal);
    }
  }
}

/** Attempts made before a ServiceError was finally thrown (1 when unknown). */
export function attemptsOf(error: unknown): number {
  const attempts = (error as { attempts?: unknown } | null)?.attempts;
  return typeof attempts === "number" ? attempts : 1;
}
