/**
 * The LM client: OpenAI-compatible chat completions (vLLM, Arbor, OpenAI) through the `openai`
 * package (openai-node) as the request layer (trimmed in request-layer.ts: headers built once per
 * client, the body serialized once, no second timer), with its own retries off (`maxRetries: 0`: retry.ts
 * `withRetries` is the one retry policy) and our fetch (src/http/fetch.ts `cappedFetch`, i.e.
 * `fetchOrThrow`), so --request-timeout bounds the whole call (no Bun idle cut), the body is
 * capped, and failures are classified like every other service's (errors.ts words them for the
 * LM). The reply is read as the raw response (`asResponse()`) and parsed here, so the server
 * quirks below are ours to handle. Several base URLs share the load (endpoints.ts); a limit per
 * endpoint caps requests in flight; temperature-0 requests may be answered from a ResponseCache
 * (cache.ts). What the package costs per call: bench/README.md "pipeline".
 *
 * Server quirks handled (docs/specs/arbor.md §2a, §5): exactly one choice, maybe no `usage`;
 * HTTP 200 with body `null` (a failed completion) → retryable ServiceError; `finish_reason:
 * "length"` is reported, not an error; `content: null` → "".
 * The body carries model, messages, temperature and max_tokens, plus top_p only when set and
 * response_format only on the JSONAdapter fallback calls (program.md §5): nothing else.
 */
import { APIUserAbortError } from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { InterruptedError, ServiceError, redactCredentials } from "../errors.ts";
import { log, retryLog } from "../log.ts";
import { cacheKey, type ResponseCache } from "./cache.ts";
import { DEFAULTS } from "../config/defaults.ts";
import type { ConcurrencySetting } from "../config/fields.ts";
import { EndpointPool, type Lease, type Outcome } from "./endpoints.ts";
import { LM_SERVICE, START_SERVER_FIX, describeLmError, fromOpenAIError } from "./errors.ts";
import { cappedFetch, jsonOf } from "../http/fetch.ts";
import type { ConcurrencyGauge } from "../http/limit.ts";
import { chatCompletionLimitBytes } from "../http/limits.ts";
import { withRetries, type RetryPolicy } from "../http/retry.ts";
import { isRecord, type ServedModelIdentity } from "./identity.ts";
import { messagesJson } from "./messages.ts";
import { ChatCompletionsClient, chatCompletionBody } from "./request-layer.ts";
import type { ChatClient, ChatRequest, ChatResult, TokenUsage } from "./types.ts";

export interface ChatClientOptions {
  /** One or more OpenAI-compatible base URLs (…/v1). */
  baseUrls: string[];
  apiKey: string;
  model: string;
  temperature: number;
  maxTokens: number;
  /** Sent as top_p only when set (--top-p); DSPy sends none. */
  topP?: number | undefined;
  /** Retries per call after the first attempt (408/409/429/5xx, connection errors, null bodies). */
  maxRetries: number;
  requestTimeoutSeconds: number;
  /** Requests in flight at once over all endpoints, or `auto`: an adaptive limit per endpoint (endpoints.ts). */
  concurrency: ConcurrencySetting;
  /** With `auto`: the most requests in flight over all endpoints (default DEFAULTS.maxConcurrency). */
  maxConcurrency?: number;
  cache?: ResponseCache;
  /** Consecutive failures that take an endpoint out (default 3). */
  endpointFailureThreshold?: number;
  /** How long a failing endpoint stays out (default 30 s). */
  endpointCooldownSeconds?: number;
  /** Backoff overrides (tests use small delays). */
  retry?: Pick<RetryPolicy, "initialDelayMs" | "maxDelayMs" | "maxRetryAfterMs" | "random">;
}

/** The default base URL for a local Arbor (or vLLM) server on `port`. */
export function defaultBaseUrl(port: number): string {
  return `http://localhost:${port}/v1`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface Completion {
  text: string;
  finishReason: string | null;
  usage: TokenUsage | null;
  model: string | null;
}

/** Read a chat completion body defensively; a body without a choice is a retryable failure. */
function readCompletion(body: unknown, url: string): Completion {
  const choices = isRecord(body) ? body.choices : undefined;
  const choice = Array.isArray(choices) ? (choices[0] as unknown) : undefined;
  if (!isRecord(choice)) {
    const shown = body === null ? "null" : isRecord(body) ? "a body without choices" : typeof body;
    throw new ServiceError(`the language model at ${url} answered HTTP 200 with no completion (${shown})`, {
      service: LM_SERVICE,
      url,
      kind: "malformed",
      retryable: true,
      body: JSON.stringify(body) ?? String(body),
      cause: "Arbor answers a failed completion (vLLM error or timeout) with `null`",
      fix: "check the Arbor / vLLM log; the request is retried",
    });
  }
  const message = isRecord(choice.message) ? choice.message : {};
  const content = typeof message.content === "string" ? message.content : "";
  const finishReason = typeof choice.finish_reason === "string" ? choice.finish_reason : null;
  const rawUsage = isRecord(body) && isRecord(body.usage) ? body.usage : null;
  const usage =
    rawUsage && typeof rawUsage.prompt_tokens === "number"
      ? {
          promptTokens: rawUsage.prompt_tokens,
          completionTokens: typeof rawUsage.completion_tokens === "number" ? rawUsage.completion_tokens : 0,
        }
      : null;
  const model = isRecord(body) && typeof body.model === "string" ? body.model : null;
  return { text: content, finishReason, usage, model };
}

/** One endpoint's openai clients, one per body cap (i.e. per max_tokens asked), built once. */
class EndpointClients {
  private readonly byMaxTokens = new Map<number, ChatCompletionsClient>();

  constructor(
    private readonly url: string,
    private readonly options: ChatClientOptions,
  ) {}

  /**
   * The openai client for a request of `maxTokens`: no retries of its own, no environment
   * (OPENAI_ORG_ID, OPENAI_PROJECT_ID, OPENAI_LOG…) changing what we send, and our fetch, so
   * --request-timeout bounds the whole call and the body is capped at what `maxTokens` tokens
   * can take (chatCompletionLimitBytes).
   */
  for(maxTokens: number): ChatCompletionsClient {
    const existing = this.byMaxTokens.get(maxTokens);
    if (existing) return existing;
    const timeoutMs = this.options.requestTimeoutSeconds * 1000;
    const client = new ChatCompletionsClient({
      baseURL: this.url,
      apiKey: this.options.apiKey,
      timeoutMs,
      fetch: cappedFetch({
        service: LM_SERVICE,
        timeoutMs,
        timeoutFlag: "--request-timeout",
        fix: START_SERVER_FIX,
        maxBodyBytes: chatCompletionLimitBytes(maxTokens),
        retryMalformed: true,
      }),
    });
    this.byMaxTokens.set(maxTokens, client);
    return client;
  }
}

export class OpenAIChatClient implements ChatClient {
  readonly pool: EndpointPool<EndpointClients>;
  /** What each endpoint serves under --model (from the preflight); keys the response cache. */
  private readonly identities = new Map<string, ServedModelIdentity | null>();

  constructor(readonly options: ChatClientOptions) {
    if (options.baseUrls.length === 0) throw new RangeError("the LM client needs at least one base URL");
    this.pool = new EndpointPool(
      options.baseUrls.map((url) => ({ url, value: new EndpointClients(url, options) })),
      {
        failureThreshold: options.endpointFailureThreshold,
        cooldownMs: (options.endpointCooldownSeconds ?? 30) * 1000,
        concurrency: options.concurrency === "auto" ? (options.maxConcurrency ?? DEFAULTS.maxConcurrency) : options.concurrency,
        adaptive: options.concurrency === "auto",
      },
    );
  }

  /** LM calls the endpoints take at once (with `auto`: the sum of their current limits). */
  get concurrency(): ConcurrencyGauge {
    return this.pool;
  }

  /** Remember what the preflight learnt about each endpoint (src/lm/preflight.ts). */
  learnServers(servers: ReadonlyArray<{ baseUrl: string; identity: ServedModelIdentity | null }>): void {
    for (const server of servers) this.identities.set(server.baseUrl, server.identity);
  }

  /** The identity of `model` at `endpoint`, when the preflight learnt it for that very model. */
  private identityAt(endpoint: string, model: string): ServedModelIdentity | null {
    const identity = this.identities.get(endpoint) ?? null;
    return identity !== null && identity.id === model ? identity : null;
  }

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const started = performance.now();
    const model = request.model ?? this.options.model;
    const temperature = request.temperature ?? this.options.temperature;
    const maxTokens = request.maxTokens ?? this.options.maxTokens;
    const topP = request.topP ?? this.options.topP;
    const cache = temperature === 0 && !request.noCache ? this.options.cache : undefined;
    const responseFormat = request.responseFormat;
    const keyAt = (endpoint: string) =>
      cacheKey({ endpoint, identity: this.identityAt(endpoint, model), model, messages: request.messages, temperature, maxTokens, topP, responseFormat });
    if (cache) {
      // An answer any of our endpoints gave, while serving the same model, may be reused.
      for (const endpoint of this.options.baseUrls) {
        const hit = await cache.get(keyAt(endpoint));
        if (hit) return { ...hit, cached: true, attempts: 0, endpoint: null, latencyMs: performance.now() - started };
      }
    }
    let endpointUrl = "";
    const { value, attempts } = await withRetries(
      async () => {
        const lease = await this.pool.acquire(signal);
        endpointUrl = lease.endpoint.url;
        return this.attempt(lease, { model, temperature, maxTokens, topP, request }, signal);
      },
      {
        maxRetries: this.options.maxRetries,
        ...this.options.retry,
        onRetry: retryLog.onRetry,
      },
      signal,
    );
    const result: ChatResult = {
      text: value.text,
      finishReason: value.finishReason,
      usage: value.usage,
      latencyMs: performance.now() - started,
      // Recorded with the call (module_calls.endpoint): never with the credentials of its URL.
      endpoint: redactCredentials(endpointUrl),
      attempts,
      cached: false,
      model,
    };
    if (cache) {
      try {
        await cache.set(keyAt(endpointUrl), result);
      } catch (error) {
        log.warn(`could not write the LM response cache: ${describe(error)}`);
      }
    }
    return result;
  }

  private async attempt(
    lease: Lease<EndpointClients>,
    call: { model: string; temperature: number; maxTokens: number; topP: number | undefined; request: ChatRequest },
    signal: AbortSignal | undefined,
  ): Promise<Completion> {
    const { endpoint } = lease;
    const started = performance.now();
    let outcome: Outcome = { kind: "endpoint-failure" };
    try {
      // Only what the user or the reference sets: DSPy sends temperature and max_tokens.
      const settings = {
        model: call.model,
        temperature: call.temperature,
        max_tokens: call.maxTokens,
        ...(call.topP === undefined ? {} : { top_p: call.topP }),
        ...(call.request.responseFormat === undefined ? {} : { response_format: call.request.responseFormat }),
      };
      const body: ChatCompletionCreateParamsNonStreaming = { ...settings, messages: call.request.messages };
      // Sent as serialized here (request-layer.ts): model, messages, temperature, max_tokens, top_p, response_format.
      const text = chatCompletionBody(settings, messagesJson(call.request.messages));
      let reply: unknown;
      try {
        const response = await endpoint.value
          .for(call.maxTokens)
          .chat.completions.create(body, signal ? { body: text, signal } : { body: text })
          .asResponse();
        // cappedFetch read the whole body and parsed it (checking that it is JSON).
        reply = await jsonOf(response);
      } catch (error) {
        if (signal?.aborted || error instanceof APIUserAbortError || error instanceof InterruptedError) {
          throw signal?.reason ?? (error instanceof InterruptedError ? error : new InterruptedError());
        }
        const worded = describeLmError(fromOpenAIError(error, endpoint.url, this.options.requestTimeoutSeconds), endpoint.url, call.model);
        outcome = outcomeOf(worded);
        throw worded;
      }
      const completion = readCompletion(reply, endpoint.url);
      // The tokens decoded make the adaptive limit's unit of work (1 when the server says none).
      outcome = { kind: "success", latencyMs: performance.now() - started, units: completion.usage?.completionTokens ?? 1 };
      return completion;
    } finally {
      this.pool.release(lease, signal?.aborted ? { kind: "request-failure" } : outcome);
    }
  }
}

/**
 * What a failed call says about the endpoint: 429 and 503 (and a timeout) are load, for the
 * adaptive limit (503 and a timeout also count as the endpoint failing); other retryable failures
 * are the endpoint's; the rest (4xx) are our request's.
 */
function outcomeOf(error: ServiceError): Outcome {
  if (error.kind === "rate_limited") return { kind: "refused", retryAfterMs: error.retryAfterMs, endpointFailure: false };
  if (error.status === 503 || error.kind === "timeout") return { kind: "refused", retryAfterMs: error.retryAfterMs, endpointFailure: true };
  return error.retryable ? { kind: "endpoint-failure" } : { kind: "request-failure" };
}

export function createChatClient(options: ChatClientOptions): OpenAIChatClient {
  return new OpenAIChatClient(options);
}
