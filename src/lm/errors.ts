/**
 * LM failures in the language model's terms. The classification is made once, in src/http/fetch.ts
 * (`fetchOrThrow`, the fetch the LM client gives the openai package); the package wraps what that
 * fetch throws as the `cause` of its own connection error, so `fromOpenAIError` unwraps it (and
 * turns what the package raised itself into ours); `describeLmError` words it by `kind`: the API key
 * (auth), the model not served (not_found), a refused request (rejected), a server failure, a
 * timeout naming --request-timeout; the rest (a 2xx body that is not JSON: malformed, retried) as
 * fetch.ts worded it.
 */
import { APIConnectionTimeoutError } from "openai";
import { ServiceError, excerpt } from "../errors.ts";
import { ARBOR_GPU_HOLDERS, arborGpuFix, isArborGpuShortage } from "./arbor-gpus.ts";

export const LM_SERVICE = "language model";

export const START_SERVER_FIX =
  "start the server (Arbor: `python -m arbor.cli serve --arbor-config arbor.yaml`, with the arbor.yaml `musique init` writes; port 7453 by default) " +
  "and pass its URL with --base-url or --port";

const API_KEY_FIX = "check --api-key or OPENAI_API_KEY (local servers such as Arbor accept any key)";

function listModelsFix(baseUrl: string): string {
  return (
    `list the served models with \`curl ${baseUrl.replace(/\/$/, "")}/models\` and pass one with --model; ` +
    "check --base-url / --port point at the right server"
  );
}

/** What the server said, for a message: its JSON `error.message` / `detail` / `message`, else the excerpt. */
function said(error: ServiceError): string {
  const json = error.json;
  if (typeof json === "object" && json !== null) {
    const record = json as Record<string, unknown>;
    const inner = typeof record.error === "object" && record.error !== null ? (record.error as Record<string, unknown>) : record;
    for (const key of ["message", "detail"]) {
      const value = inner[key];
      if (typeof value === "string") return excerpt(value);
    }
  }
  return error.body ?? "";
}

/** An LM ServiceError worded for the user: `baseUrl` is the endpoint, `model` the --model asked for. */
export function describeLmError(error: ServiceError, baseUrl: string, model: string): ServiceError {
  const detail = said(error);
  const status = error.status ?? 0;
  switch (error.kind) {
    case "auth":
      return error.reworded(`the language model at ${baseUrl} refused the API key (HTTP ${status})`, { cause: detail, fix: API_KEY_FIX });
    case "not_found":
      return error.reworded(`model "${model}" is not served at ${baseUrl} (HTTP ${status})`, { cause: detail, fix: listModelsFix(baseUrl) });
    case "rejected":
      return error.reworded(`the language model at ${baseUrl} rejected the request (HTTP ${status}): ${detail}`, {
        cause: "the request does not fit the server: unknown parameter, or prompt + --max-tokens exceed the context",
        fix: "lower --max-tokens, or check --model and the server's limits",
      });
    case "rate_limited":
    case "server":
      if (isArborGpuShortage(`${detail} ${error.body ?? ""}`)) {
        // Arbor had to launch the model for this request and found no free GPU: not transient.
        return error.reworded(`Arbor at ${baseUrl} has no free GPU to launch model "${model}" (HTTP ${status}): ${detail}`, {
          retryable: false,
          cause: ARBOR_GPU_HOLDERS,
          fix: `${arborGpuFix(baseUrl)}; or pass a --model Arbor already serves (a training job's id)`,
        });
      }
      return error.reworded(`the language model at ${baseUrl} answered HTTP ${status}: ${detail}`, {
        cause: error.kind === "rate_limited" ? "rate limited" : "the server failed",
        fix: "check the server's log; lower --concurrency if it is overloaded",
      });
    case "timeout":
      return error.reworded(error.message, {
        cause: "the server is overloaded, still loading the model, or hung",
        fix: "raise --request-timeout, lower --concurrency, or check the server's log",
      });
    case "unreachable":
      return error.reworded(`cannot reach the language model at ${baseUrl}`, { fix: START_SERVER_FIX });
    default:
      return error;
  }
}

/**
 * What the LM call through the openai package threw, as our ServiceError: the one our fetch threw
 * (the package's `cause`), the package's own timer (a backstop behind ours: a timeout), anything
 * else it raised (a retryable reset, with its words).
 */
export function fromOpenAIError(error: unknown, baseUrl: string, timeoutSeconds: number): ServiceError {
  if (error instanceof ServiceError) return error;
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof ServiceError) return cause;
  if (error instanceof APIConnectionTimeoutError) {
    return new ServiceError(`the language model did not answer within ${timeoutSeconds} s (--request-timeout): ${baseUrl}`, {
      service: LM_SERVICE,
      url: baseUrl,
      kind: "timeout",
      error,
    });
  }
  return new ServiceError(`the language model at ${baseUrl} failed: ${excerpt(error instanceof Error ? error.message : String(error))}`, {
    service: LM_SERVICE,
    url: baseUrl,
    kind: "reset",
    fix: START_SERVER_FIX,
    error,
  });
}
