/**
 * The response cache contract of the LM client. The client only consults it for
 * temperature-0 requests without `noCache` (sampled requests must not repeat). The store
 * implements a SQLite-backed ResponseCache; tests use a Map.
 */
import { createHash } from "node:crypto";
import type { ChatMessage, ChatResult, ResponseFormat } from "./types.ts";

export interface ResponseCache {
  get(key: string): Promise<ChatResult | null> | ChatResult | null;
  set(key: string, result: ChatResult): void | Promise<void>;
}

export interface CacheKeyInput {
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
  const canonical = JSON.stringify([
    "musique-chat-v1",
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
