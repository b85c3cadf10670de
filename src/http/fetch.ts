/**
 * fetch with our own deadline (the only limit on a call: Bun's socket idle cut is switched off),
 * turning every failure into a ServiceError that names the service, the URL, the timeout flag
 * and the fix. Callers decide what a 2xx body means.
 */
import { InterruptedError, ServiceError } from "../errors.ts";
import { isRetryableStatus, retryAfterMs } from "./retry.ts";

export async function fetchOrThrow(
  url: string,
  init: RequestInit & { timeoutMs: number; service: string; timeoutFlag: string; fix: string },
  signal?: AbortSignal,
): Promise<Response> {
  const timeout = AbortSignal.timeout(init.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let response: Response;
  try {
    // `timeout: false`: Bun cuts a socket idle for ~5 min on its own; our deadline is the only limit.
    response = await fetch(url, { ...init, signal: combined, timeout: false });
  } catch (error) {
    if (signal?.aborted) throw signal.reason ?? new InterruptedError();
    if (timeout.aborted) {
      const flag = init.timeoutFlag.split(" ")[0] ?? init.timeoutFlag;
      throw new ServiceError(`${init.service} did not answer within ${init.timeoutMs / 1000} s (${flag}): ${url}`, {
        service: init.service,
        url,
        retryable: true,
        cause: "the server is overloaded, still loading, or hung",
        fix: `raise ${init.timeoutFlag}, or check the server. ${init.fix}`,
        error,
      });
    }
    throw new ServiceError(`cannot reach ${init.service} at ${url}`, {
      service: init.service,
      url,
      retryable: true,
      cause: error instanceof Error ? error.message : String(error),
      fix: init.fix,
      error,
    });
  }
  if (response.ok) return response;
  const body = await response.text().catch(() => "");
  const status = response.status;
  const retryable = isRetryableStatus(status);
  const detail = body.length > 300 ? body.slice(0, 300) + "…" : body;
  const why =
    status === 401 || status === 403
      ? "the API key is missing or wrong"
      : status === 404
        ? "the route or the model is not served there"
        : status === 429
          ? "rate limited"
          : status >= 500
            ? "the server failed"
            : "the server rejected the request";
  throw new ServiceError(`${init.service} answered HTTP ${status} at ${url}${detail ? `: ${detail}` : ""}`, {
    service: init.service,
    url,
    status,
    retryable,
    retryAfterMs: retryAfterMs(response.headers),
    cause: why,
    fix: init.fix,
  });
}
