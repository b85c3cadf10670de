/**
 * Preflight: before a run starts, check that every endpoint answers and serves the model, so a
 * wrong URL, key or model fails in seconds with the fix instead of after the first example.
 * GET {baseUrl}/models when the server has it (vLLM, OpenAI); Arbor has no /models (404), so
 * then one chat request of one token is sent instead.
 */
import { ServiceError } from "../errors.ts";
import { OpenAIChatClient } from "./client.ts";
import { LM_SERVICE, START_SERVER_FIX, describeLmError } from "./errors.ts";
import { fetchOrThrow, type ServiceResponse } from "../http/fetch.ts";
import { MODEL_LIST_LIMIT_BYTES } from "../http/limits.ts";

export interface PreflightOptions {
  baseUrls: string[];
  apiKey: string;
  model: string;
  /** Seconds for GET /models (default 10). */
  listTimeoutSeconds?: number;
  /** Seconds for the one-token chat fallback (Arbor may load the model first; default 600). */
  chatTimeoutSeconds?: number;
}

export interface PreflightResult {
  baseUrl: string;
  /** How the model was confirmed. */
  method: "models" | "chat";
  /** The models the server lists (only with method "models"). */
  models: string[];
}

function modelsUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, "") + "/models";
}

function listedIds(body: unknown): string[] | null {
  if (typeof body !== "object" || body === null) return null;
  const data = (body as { data?: unknown }).data;
  if (!Array.isArray(data)) return null;
  return data
    .map((item: unknown) => (typeof item === "object" && item !== null ? (item as { id?: unknown }).id : undefined))
    .filter((id): id is string => typeof id === "string");
}

async function checkOne(options: PreflightOptions, baseUrl: string, signal?: AbortSignal): Promise<PreflightResult> {
  const url = modelsUrl(baseUrl);
  let response: ServiceResponse | null = null;
  try {
    response = await fetchOrThrow(
      url,
      {
        method: "GET",
        headers: { authorization: `Bearer ${options.apiKey}` },
        timeoutMs: (options.listTimeoutSeconds ?? 10) * 1000,
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
    const ids = listedIds(await response.json().catch((error: unknown) => {
      if (error instanceof ServiceError && error.kind === "malformed") return null;
      throw error;
    }));
    if (ids !== null) {
      if (!ids.includes(options.model)) {
        throw new ServiceError(`model "${options.model}" is not served at ${baseUrl}`, {
          service: LM_SERVICE,
          url: baseUrl,
          status: 404,
          retryable: false,
          cause: `the server lists: ${ids.length > 0 ? ids.join(", ") : "(no models)"}`,
          fix: `pass one of them with --model, or start the server with model ${options.model}`,
        });
      }
      return { baseUrl, method: "models", models: ids };
    }
  }
  const client = new OpenAIChatClient({
    baseUrls: [baseUrl],
    apiKey: options.apiKey,
    model: options.model,
    temperature: 0,
    maxTokens: 1,
    maxRetries: 0,
    requestTimeoutSeconds: options.chatTimeoutSeconds ?? 600,
    concurrency: 1,
  });
  await client.complete({ messages: [{ role: "user", content: "ping" }], noCache: true }, signal);
  return { baseUrl, method: "chat", models: [] };
}

/** Check every endpoint in parallel; throws the first ServiceError (URL + fix in the message). */
export async function checkModelServed(options: PreflightOptions, signal?: AbortSignal): Promise<PreflightResult[]> {
  return Promise.all(options.baseUrls.map((baseUrl) => checkOne(options, baseUrl, signal)));
}
