/**
 * Preflight: before a run starts, check that every endpoint answers and serves the model, so a
 * wrong URL, key or model fails in seconds with the fix instead of after the first example.
 * GET {baseUrl}/models when the server has it (vLLM, OpenAI); Arbor has no /models (404), so
 * then one chat request of one token is sent instead. The /models answer also tells which model
 * the server really serves under the name (identity.ts), which keys the response cache.
 * Both requests are bounded by --request-timeout, the knob their timeout message names; a line
 * says what we wait for once it takes longer than WAITING_LINE_SECONDS.
 */
import { ServiceError, excerpt } from "../errors.ts";
import { log } from "../log.ts";
import { OpenAIChatClient } from "./client.ts";
import { LM_SERVICE, START_SERVER_FIX, describeLmError } from "./errors.ts";
import { fetchOrThrow, type ServiceResponse } from "../http/fetch.ts";
import { MODEL_LIST_LIMIT_BYTES } from "../http/limits.ts";
import { listedModelIds, servedModelIdentity, type ServedModelIdentity } from "./identity.ts";

/** Seconds after which the preflight says what it is waiting for. */
const WAITING_LINE_SECONDS = 10;

export interface PreflightOptions {
  baseUrls: string[];
  apiKey: string;
  model: string;
  /** --request-timeout: seconds for GET /models and for the one-token chat fallback (Arbor may load the model first). */
  requestTimeoutSeconds: number;
}

export interface PreflightResult {
  baseUrl: string;
  /** How the model was confirmed. */
  method: "models" | "chat";
  /** The models the server lists (only with method "models"). */
  models: string[];
  /** What the server reports for --model (null without /models: the URL alone identifies it). */
  identity: ServedModelIdentity | null;
}

function modelsUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, "") + "/models";
}

/** Say once what we wait for when `promise` takes longer than WAITING_LINE_SECONDS. */
async function withWaitingLine<T>(promise: Promise<T>, what: string, timeoutSeconds: number): Promise<T> {
  const timer = setTimeout(() => log.info(`still waiting for ${what} (up to ${timeoutSeconds} s, --request-timeout)`), WAITING_LINE_SECONDS * 1000);
  timer.unref();
  try {
    return await promise;
  } finally {
    clearTimeout(timer);
  }
}

async function checkOne(options: PreflightOptions, baseUrl: string, signal?: AbortSignal): Promise<PreflightResult> {
  return withWaitingLine(checkEndpoint(options, baseUrl, signal), `${baseUrl} to answer`, options.requestTimeoutSeconds);
}

async function checkEndpoint(options: PreflightOptions, baseUrl: string, signal?: AbortSignal): Promise<PreflightResult> {
  const url = modelsUrl(baseUrl);
  let response: ServiceResponse | null = null;
  try {
    response = await fetchOrThrow(
      url,
      {
        method: "GET",
        headers: { authorization: `Bearer ${options.apiKey}` },
        timeoutMs: options.requestTimeoutSeconds * 1000,
        service: LM_SERVICE,
        timeoutFlag: "--request-timeout",
        fix: START_SERVER_FIX,
        maxBodyBytes: MODEL_LIST_LIMIT_BYTES,
      },
      signal,
    );
  } catch (error) {
    if (!(error instanceof ServiceError) || error.status === undefined) throw error;
    if (error.kind === "auth") throw describeLmError(error, baseUrl, options.model);
    if (error.status !== 404 && error.status !== 405) throw error;
    // No /models (Arbor): fall through to a one-token chat request.
  }
  if (response) {
    const body = await response.json().catch((error: unknown) => {
      if (error instanceof ServiceError && error.kind === "malformed") return null;
      throw error;
    });
    const ids = listedModelIds(body);
    if (ids !== null) {
      if (!ids.includes(options.model)) {
        throw new ServiceError(`model "${options.model}" is not served at ${baseUrl}`, {
          service: LM_SERVICE,
          url: baseUrl,
          status: 404,
          retryable: false,
          cause: `the server lists: ${ids.length > 0 ? excerpt(ids.join(", ")) : "(no models)"}`,
          fix: `pass one of them with --model, or start the server with model ${options.model}`,
        });
      }
      const identity = servedModelIdentity(body, options.model, response.headers.get("date"));
      return { baseUrl, method: "models", models: ids, identity };
    }
  }
  const client = new OpenAIChatClient({
    baseUrls: [baseUrl],
    apiKey: options.apiKey,
    model: options.model,
    temperature: 0,
    maxTokens: 1,
    maxRetries: 0,
    requestTimeoutSeconds: options.requestTimeoutSeconds,
    concurrency: 1,
  });
  await client.complete({ messages: [{ role: "user", content: "ping" }], noCache: true }, signal);
  return { baseUrl, method: "chat", models: [], identity: null };
}

/** Check every endpoint in parallel; throws the first ServiceError (URL + fix in the message). */
export async function checkModelServed(options: PreflightOptions, signal?: AbortSignal): Promise<PreflightResult[]> {
  return Promise.all(options.baseUrls.map((baseUrl) => checkOne(options, baseUrl, signal)));
}
