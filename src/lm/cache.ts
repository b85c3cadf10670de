/**
 * The response cache contract of the LM client. The client only consults it for
 * temperature-0 requests without `noCache` (sampled requests must not repeat). The store
 * implements a SQLite-backed ResponseCache; tests use a Map. An answer is keyed on the request,
 * the endpoint that gave it and the identity of the model behind the name (identity.ts): never
 * reused from another server, or from another model served under the same name.
 */
import { createHash } from "node:crypto";
import type { ServedModelIdentity } from "./identity.ts";
import type { ChatMessage, ChatResult, ResponseFormat } from "./types.ts";

export interface ResponseCache {
  get(key: string): Promise<ChatResult | null> | ChatResult | null;
  set(key: string, result: ChatResult): void | Promise<void>;
}

export interface CacheKeyInput {
  /** The base URL that answers (credentials and trailing slashes do not count). */
  endpoint: string;
  /** What the endpoint's /models reports for `model`; null when it lists no models (Arbor). */
  identity: ServedModelIdentity | null;
  model: string;
  messages: readonly ChatMessage[];
  temperature: number;
  maxTokens: number;
  /** undefined: top_p was not sent. */
  topP?: number | undefined;
  responseFormat?: ResponseFormat | undefined;
}

/**
 * A stable key: sha256 over a canonical JSON of exactly these fields (fixed key order, only
 * role and content of each message), so reordering object keys or adding fields to a message
 * object never changes it. A response_format is part of the key (as the object it is).
 */
export function cacheKey(input: CacheKeyInput): string {
  const identity = input.identity;
  const canonical = JSON.stringify([
    "musique-chat-v2",
    normalEndpoint(input.endpoint),
    identity === null ? null : [identity.id, identity.root ?? null, identity.parent ?? null, identity.created ?? null],
    input.model,
    input.messages.map((message) => [message.role, message.content]),
    input.temperature,
    input.maxTokens,
    input.topP ?? null,
    // Only JSON fallback calls carry a response_format (their two calls share the messages).
    ...(input.responseFormat === undefined ? [] : [input.responseFormat]),
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

/** `http://user:secret@host:8000/v1/` → `http://host:8000/v1`. */
function normalEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = "";
    url.password = "";
    return url.toString().replace(/\/+$/, "");
  } catch {
    return endpoint.replace(/\/+$/, "");
  }
}

/** How many of a run's module calls the response cache answered. */
export interface CacheCounts {
  answered: number;
  calls: number;
}

/** "N of M calls answered from the cache (--no-cache to re-ask)", or null when none was. */
export function describeCacheCounts(counts: CacheCounts): string | null {
  if (counts.answered === 0) return null;
  return `${counts.answered} of ${counts.calls} calls answered from the cache (--no-cache to re-ask)`;
}

/** A process-local ResponseCache (tests, `ask`). */
export class MemoryResponseCache implements ResponseCache {
  readonly entries = new Map<string, ChatResult>();

  get(key: string): ChatResult | null {
    return this.entries.get(key) ?? null;
  }

  set(key: string, result: ChatResult): void {
    this.entries.set(key, result);
  }
}
