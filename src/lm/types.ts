/**
 * The language-model client's contract (implemented in client.ts). The program and training
 * only see this interface.
 */

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/**
 * OpenAI's `response_format`, as DSPy's JSONAdapter sends it: `{type: "json_object"}` or
 * `{type: "json_schema", json_schema: {name, strict, schema}}`.
 */
export type ResponseFormat = { type: "json_object" } | { type: "json_schema"; json_schema: { schema: Record<string, unknown>; name: string; strict: boolean } };

export interface ChatRequest {
  messages: ChatMessage[];
  /** Sent as `response_format` (the JSONAdapter fallback calls); absent otherwise. */
  responseFormat?: ResponseFormat;
  /** Overrides the client's configured model (training uses the Arbor job id). */
  model?: string;
  temperature?: number;
  maxTokens?: number;
  /** Sent only when set here or in the client's options. */
  topP?: number;
  /** Never answer this request from the response cache (training rollouts). */
  noCache?: boolean;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface ChatResult {
  /** The assistant text ("" if the server sent an empty message). */
  text: string;
  /** "stop", "length" (truncated), … or null when the server did not say. */
  finishReason: string | null;
  /** null when the server sent no usage (older Arbor). */
  usage: TokenUsage | null;
  latencyMs: number;
  /** Base URL of the endpoint that answered (null for a cache hit). */
  endpoint: string | null;
  /** HTTP attempts made (1 = no retry; 0 = cache hit). */
  attempts: number;
  cached: boolean;
  model: string;
}

export interface ChatClient {
  /** Throws ServiceError (after retries) or InterruptedError. */
  complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult>;
}
