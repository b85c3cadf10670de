/**
 * The `openai` package as the LM client's request layer, trimmed to what an OpenAI-compatible
 * inference server needs. openai-node builds every request's headers from six sources (platform
 * detection, retry count, idempotency key, organization/project, auth, X.509 snapshots) and runs
 * its own timer beside ours: about 65 µs of CPU per call, a quarter of an evaluate process's CPU
 * per example (bench/README.md "pipeline"). Its documented extension points let a client own both:
 *   - `buildRequest` ("complete replacement builders own authentication"): the headers are built
 *     once per client (content type, accept, bearer key) and the body is sent as the
 *     caller serialized it (chatCompletionBody: the messages are serialized once per call);
 *   - `fetchWithTimeout`: our fetch (src/http/fetch.ts cappedFetch) already bounds the whole call
 *     with --request-timeout and follows the caller's abort signal, so the package's timer and
 *     its controller are not armed.
 * Everything else stays the package's: the resource call (`chat.completions.create`), status and
 * error handling, response wrapping.
 */
import OpenAI from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import type { FetchFunction } from "../http/fetch.ts";

type BuiltRequest = Awaited<ReturnType<OpenAI["buildRequest"]>>;
type RequestOptions = Parameters<OpenAI["buildRequest"]>[0];

export interface RequestLayerOptions {
  baseURL: string;
  apiKey: string;
  /** The call's deadline (--request-timeout): our fetch enforces it, the package's timer is not armed. */
  timeoutMs: number;
  fetch: FetchFunction;
}

export class ChatCompletionsClient extends OpenAI {
  private readonly headerPairs: [string, string][];
  private readonly send: FetchFunction;

  constructor(options: RequestLayerOptions) {
    super({
      baseURL: options.baseURL,
      apiKey: options.apiKey,
      // No environment (OPENAI_ORG_ID, OPENAI_PROJECT_ID, OPENAI_LOG…) changes what we send.
      adminAPIKey: null,
      organization: null,
      project: null,
      webhookSecret: null,
      // retry.ts `withRetries` is the one retry policy.
      maxRetries: 0,
      timeout: options.timeoutMs,
      logLevel: "off",
      fetch: options.fetch,
    });
    this.send = options.fetch;
    this.headerPairs = [
      ["accept", "application/json"],
      ["content-type", "application/json"],
      ["authorization", `Bearer ${options.apiKey}`],
    ];
  }

  override async buildRequest(options: RequestOptions): Promise<BuiltRequest> {
    const body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    return {
      req: {
        method: options.method.toUpperCase(),
        headers: new Headers(this.headerPairs),
        body,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      url: this.buildURL(options.path, null),
      timeout: options.timeout ?? this.timeout,
    };
  }

  override async fetchWithTimeout(url: string | URL | Request, init: RequestInit | undefined): Promise<Response> {
    return this.send(url, init);
  }
}

/**
 * The JSON body of a chat completion request, with the messages already serialized (the same
 * text is stored as module_calls.request_messages_json): equal, byte for byte, to
 * JSON.stringify of the body object with its keys in this order.
 */
export function chatCompletionBody(body: Omit<ChatCompletionCreateParamsNonStreaming, "messages">, messagesJson: string): string {
  const { model, ...rest } = body;
  const tail = JSON.stringify(rest);
  return `{"model":${JSON.stringify(model)},"messages":${messagesJson}${tail === "{}" ? "}" : `,${tail.slice(1)}`}`;
}
