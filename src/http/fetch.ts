/**
 * The one place a service's answer is read and a failure classified (issue 15 item 1): fetch with
 * our own deadline (deadline.ts; Bun's own socket idle cut is switched off with `timeout: false`),
 * every failure turned into a ServiceError of one kind (src/errors.ts `FailureKind`) naming the
 * service, the URL, the knob that bounds the wait and the fix, with a bounded excerpt of the body
 * as a field. A 2xx answer comes back as a ServiceResponse whose body is read under the same
 * deadline and a size cap (limits.ts). Callers word the error in their service's terms with
 * `ServiceError.reworded`, reading `kind`, `status` and `json`, never the message.
 */
import { InterruptedError, ServiceError, excerpt, kindOfStatus, type FailureKind } from "../errors.ts";
import { Deadline } from "./deadline.ts";
import { formatBytes } from "../text/duration.ts";
import { ERROR_BODY_READ_BYTES } from "./limits.ts";
import { retryAfterMs } from "./retry.ts";

export interface CallSettings {
  /** The service as the user knows it: "language model", "Arbor", "rerank service", … */
  service: string;
  /** Whole-call deadline in ms (headers and body). */
  timeoutMs?: number | undefined;
  /** Idle limit in ms: no byte for this long. */
  idleTimeoutMs?: number | undefined;
  /** The knob that sets the limit, named in a timeout message: "--request-timeout", "HF_HUB_DOWNLOAD_TIMEOUT". */
  timeoutFlag: string;
  /** What the user should do when the service fails. */
  fix: string;
  /** Cap on the decompressed 2xx body in bytes (limits.ts); Infinity for a download to disk. */
  maxBodyBytes: number;
  /** Whether a 2xx body we cannot use is worth another attempt (default: no). */
  retryMalformed?: boolean;
}

/** Bun reports a connection that never opened with these codes: the request was not sent. */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ConnectionRefused",
  "FailedToOpenSocket",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A transport failure (fetch threw, or the body stream broke): the caller's abort, our deadline,
 * a connection that never opened (`unreachable`: nothing was sent) or one that broke after the
 * request went out (`reset`: the server may have acted on it).
 */
function transportFailure(error: unknown, url: string, call: CallSettings, deadline: Deadline, stage: "request" | "body"): Error {
  if (deadline.callerAborted) {
    const reason: unknown = deadline.signal.reason;
    return reason instanceof Error ? reason : new InterruptedError();
  }
  if (error instanceof ServiceError) return error;
  if (deadline.expired !== undefined) {
    const seconds = deadline.expiredSeconds();
    const message =
      deadline.expired === "idle"
        ? `${call.service} sent nothing for ${seconds} s (${call.timeoutFlag}, an idle limit): ${url}`
        : `${call.service} did not answer within ${seconds} s (${call.timeoutFlag}): ${url}`;
    return new ServiceError(message, {
      service: call.service,
      url,
      kind: "timeout",
      cause: "the server is overloaded, still loading, or hung",
      fix: `raise ${call.timeoutFlag}, or check the server. ${call.fix}`,
      error,
    });
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (stage === "request" && typeof code === "string" && NOT_SENT_CODES.has(code)) {
    return new ServiceError(`cannot reach ${call.service} at ${url}`, {
      service: call.service,
      url,
      kind: "unreachable",
      cause: errorText(error),
      fix: call.fix,
      error,
    });
  }
  const when = stage === "body" ? "in the middle of its answer" : "before answering";
  return new ServiceError(`${call.service} at ${url} broke off the connection ${when}`, {
    service: call.service,
    url,
    kind: "reset",
    cause: `${errorText(error)} (the server restarted or crashed, or a proxy cut the connection)`,
    fix: call.fix,
    error,
  });
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** A 2xx answer; its body is read under the attempt's deadline and the call's size cap. */
export class ServiceResponse {
  readonly status: number;
  readonly headers: Headers;
  private consumed = false;

  constructor(
    private readonly response: Response,
    readonly url: string,
    private readonly call: CallSettings,
    private readonly deadline: Deadline,
  ) {
    this.status = response.status;
    this.headers = response.headers;
  }

  /**
   * The body chunk by chunk (decompressed), each arrival restarting the idle limit. More than
   * `limitBytes` yields the first `limitBytes`, then fails as `too_large`, having read at most
   * one chunk more.
   */
  async *chunks(limitBytes = this.call.maxBodyBytes): AsyncGenerator<Uint8Array> {
    if (this.consumed) throw new Error(`the body of ${this.url} was already read`);
    this.consumed = true;
    const reader = this.response.body?.getReader();
    try {
      if (!reader) return;
      let total = 0;
      for (;;) {
        const next = await reader.read().catch((error: unknown) => {
          throw transportFailure(error, this.url, this.call, this.deadline, "body");
        });
        if (next.done) return;
        this.deadline.touch();
        const allowed = limitBytes - total;
        total += next.value.byteLength;
        if (total > limitBytes) {
          if (allowed > 0) yield next.value.subarray(0, allowed);
          await reader.cancel().catch(() => undefined);
          throw this.tooLarge(limitBytes);
        }
        yield next.value;
      }
    } finally {
      this.deadline.dispose();
      reader?.releaseLock();
    }
  }

  private tooLarge(limitBytes: number): ServiceError {
    return new ServiceError(
      `${this.call.service} at ${this.url} sent an answer larger than ${formatBytes(limitBytes)}, more than a valid answer can take; reading stopped there`,
      {
        service: this.call.service,
        url: this.url,
        kind: "too_large",
        cause: "no valid answer is that large: the server is not the service musique expects, or it misbehaves",
        fix: this.call.fix,
      },
    );
  }

  async bytes(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const chunk of this.chunks()) parts.push(chunk);
    return Buffer.concat(parts);
  }

  /**
   * Whether the body may be read in one go: no idle limit to restart per chunk, not compressed
   * (the length would be the compressed one) and a Content-Length within the cap. Reading it whole
   * is Bun's native path: about a third of this call's CPU saved on an LM answer.
   */
  private readableWhole(): boolean {
    if (this.call.idleTimeoutMs !== undefined || this.consumed) return false;
    const encoding = this.headers.get("content-encoding");
    if (encoding !== null && encoding !== "identity") return false;
    const length = Number(this.headers.get("content-length") ?? Number.NaN);
    return Number.isInteger(length) && length >= 0 && length <= this.call.maxBodyBytes;
  }

  async text(): Promise<string> {
    if (!this.readableWhole()) return new TextDecoder().decode(await this.bytes());
    this.consumed = true;
    try {
      return await this.response.text();
    } catch (error) {
      throw transportFailure(error, this.url, this.call, this.deadline, "body");
    } finally {
      this.deadline.dispose();
    }
  }

  /** The body as JSON; anything else fails as `malformed` with an excerpt of what came. */
  async json(): Promise<unknown> {
    const text = await this.text();
    const parsed = parseJson(text);
    if (parsed.ok) return parsed.value;
    throw this.malformed("something that is not JSON", text);
  }

  /** A 2xx body that is not what the service should send. */
  malformed(what: string, text: string, details: { cause?: string; fix?: string } = {}): ServiceError {
    return new ServiceError(`${this.call.service} at ${this.url} answered with ${what}`, {
      service: this.call.service,
      url: this.url,
      kind: "malformed",
      status: this.status,
      retryable: this.call.retryMalformed ?? false,
      body: text,
      cause: details.cause ?? "the answer was cut off, or the server is not the service musique expects",
      fix: details.fix ?? this.call.fix,
    });
  }

  /** Drop the body unread. */
  async discard(): Promise<void> {
    this.deadline.dispose();
    if (!this.consumed) await this.response.body?.cancel().catch(() => undefined);
    this.consumed = true;
  }
}

const REASONS: Partial<Record<FailureKind, string>> = {
  auth: "the API key is missing or wrong",
  not_found: "the route or the model is not served there",
  rate_limited: "rate limited",
  server: "the server failed",
  rejected: "the server rejected the request",
};

/** Read at most ERROR_BODY_READ_BYTES of an error answer (under the deadline), never failing. */
async function readErrorBody(response: ServiceResponse): Promise<{ text: string; complete: boolean }> {
  const parts: Uint8Array[] = [];
  let complete = true;
  try {
    for await (const chunk of response.chunks(ERROR_BODY_READ_BYTES)) parts.push(chunk);
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    complete = false;
  }
  return { text: new TextDecoder().decode(Buffer.concat(parts)), complete };
}

/**
 * Send one request under our deadline. A 2xx answer is returned unread; anything else throws a
 * classified ServiceError (or the caller's abort reason / InterruptedError when it aborted).
 */
export async function fetchOrThrow(url: string, init: RequestInit & CallSettings, signal?: AbortSignal): Promise<ServiceResponse> {
  const { service, timeoutMs, idleTimeoutMs, timeoutFlag, fix, maxBodyBytes, retryMalformed, ...request } = init;
  const call: CallSettings = { service, timeoutMs, idleTimeoutMs, timeoutFlag, fix, maxBodyBytes, retryMalformed };
  const deadline = new Deadline({ totalMs: timeoutMs, idleMs: idleTimeoutMs }, signal ?? undefined);
  let response: Response;
  try {
    // `timeout: false`: Bun cuts a socket idle for ~5 min on its own; our deadline is the only limit.
    response = await fetch(url, { ...request, signal: deadline.signal, timeout: false });
  } catch (error) {
    deadline.dispose();
    throw transportFailure(error, url, call, deadline, "request");
  }
  deadline.touch();
  const answer = new ServiceResponse(response, url, call, deadline);
  if (response.ok) return answer;
  const { text, complete } = await readErrorBody(answer);
  const status = response.status;
  const kind = kindOfStatus(status);
  const parsed = complete ? parseJson(text) : { ok: false as const };
  const shown = text.trim();
  throw new ServiceError(`${service} answered HTTP ${status} at ${url}${shown ? `: ${excerpt(shown)}` : ""}`, {
    service,
    url,
    kind,
    status,
    retryAfterMs: retryAfterMs(response.headers),
    body: text,
    ...(parsed.ok ? { json: parsed.value } : {}),
    cause: REASONS[kind] ?? "the server rejected the request",
    fix,
  });
}

/** The fetch signature of client libraries (openai-node's `fetch` option). */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * fetchOrThrow as a client library's fetch (the openai package: src/lm/client.ts): the same
 * deadline (Bun's idle cut off), classification, body cap and `malformed` check of a body that is
 * not JSON, the whole body read before it returns. A failure is thrown as our ServiceError; the
 * library wraps it (openai: as the `cause` of its connection error) and the caller unwraps it.
 */
export function cappedFetch(call: CallSettings): FetchFunction {
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const answer = await fetchOrThrow(url, { ...init, ...call }, init?.signal ?? undefined);
    const text = await answer.text();
    const parsed = parseJson(text);
    if (!parsed.ok) throw answer.malformed("something that is not JSON", text);
    // The body is decompressed and whole: its length and encoding headers no longer describe it.
    const response = new Response(text, { status: answer.status, headers: JSON_CONTENT });
    parsedBodies.set(response, parsed.value);
    return response;
  };
}

const JSON_CONTENT = { "content-type": "application/json" } as const;
/** What cappedFetch already parsed, by the Response it returned: read once, not twice. */
const parsedBodies = new WeakMap<Response, unknown>();

/** The JSON body of a Response that cappedFetch returned (parsed there), else the body read now. */
export async function jsonOf(response: Response): Promise<unknown> {
  return parsedBodies.has(response) ? parsedBodies.get(response) : await response.json();
}
