/**
 * What one run of the program produces: the prediction and a full trace of every module call.
 * Training builds GRPO groups from `calls`; the store logs them; `ask` prints them.
 */
import type { ChatMessage, ChatResult, ResponseFormat, TokenUsage } from "../lm/types.ts";
import type { RankedDocument } from "../retrieval/types.ts";

export type ModuleName = "generate_query" | "extract_information" | "generate_answer" | "decide_info_collection";

/** ok: parsed; parse_error: the completion broke the adapter's format; lm_error: no completion. */
export type CallStatus = "ok" | "parse_error" | "lm_error";

/**
 * Which DSPy adapter made a request: the ChatAdapter, or one of the JSONAdapter's two fallback
 * calls (program.md §5): json_schema first, then json_object.
 */
export type AdapterName = "chat" | "json_schema" | "json_object";

/**
 * One request of a module call (the ChatAdapter call, then up to two JSONAdapter calls), with the
 * client's account of it (finish reason, usage, latency, endpoint, HTTP attempts, cache).
 */
export interface AdapterAttempt extends Pick<ChatResult, "finishReason" | "usage" | "latencyMs" | "endpoint" | "attempts" | "cached"> {
  adapter: AdapterName;
  messages: ChatMessage[];
  responseFormat: ResponseFormat | null;
  /** The reply text; null when the request failed. */
  rawCompletion: string | null;
  /** Parsed output fields; null unless this attempt parsed. */
  parsed: Record<string, string> | null;
  status: CallStatus;
  error: string | null;
  /** What DSPy keeps as the failed reply (`lm_response`): the JSONAdapter's first {…}, else the text. */
  failedText: string | null;
}

/**
 * One module call. The top-level request/reply fields describe the attempt whose outcome stands
 * (the one that parsed, or the last one tried); `adapterAttempts` holds every attempt in order.
 * Usage, latency and HTTP attempts are totals over the attempts (so `attempts` counts every request
 * sent; HTTP retries are attempts minus the number of adapter attempts).
 */
export interface ModuleCallTrace {
  module: ModuleName;
  /** Hop index (0-based); the answer call carries the number of hops run. */
  hop: number;
  /** How many times this module was called before in this run (0-based): DSPy's invocation index. */
  invocation: number;
  /** Deep copy of the module inputs at call time. */
  inputs: Record<string, string>;
  /** The messages sent by the attempt that stands. */
  messages: ChatMessage[];
  /** The adapter whose attempt stands ("chat" unless the JSON fallback ran). */
  adapter: AdapterName;
  adapterAttempts: AdapterAttempt[];
  /** The raw completion text; null when the LM call failed. */
  rawCompletion: string | null;
  /** Parsed output fields (reasoning first); null unless status is ok. */
  parsed: Record<string, string> | null;
  status: CallStatus;
  /** Parse or LM error message. */
  error: string | null;
  finishReason: string | null;
  truncated: boolean;
  usage: TokenUsage | null;
  latencyMs: number;
  endpoint: string | null;
  attempts: number;
  cached: boolean;
  startedAt: number;
}

export interface HopTrace {
  hop: number;
  query: string;
  retrieved: RankedDocument[];
  /** The documents text exactly as the extract module saw it. */
  documentsText: string;
  keyInformation: string;
  /** Only with --num-hops auto. */
  enough?: boolean;
}

export interface ProgramResult {
  /** null when the program failed before answering (format or LM failure). */
  answer: string | null;
  collectedInfo: string[];
  /** Unique ids in order of first retrieval. */
  retrievedIds: string[];
  hopsUsed: number;
  hops: HopTrace[];
  calls: ModuleCallTrace[];
  /** Why the run stopped early, if it did. A format failure is scored; the others are not results. */
  failure: ProgramFailure | null;
}

/** Which service a service failure came from. */
export type FailedService = "lm" | "retrieval";

/**
 * Why a program run ended early. `format`: the model broke the output format (a result, scored).
 * `service`: the LM or the retrieval service kept failing (`refused`: it refused the request, e.g.
 * HTTP 400, rather than being down); `deadline`: --example-timeout passed.
 * Neither of the last two is a result: it is missing, and a resume runs it again.
 */
export type ProgramFailure =
  | { kind: "format"; module: ModuleName; message: string }
  | { kind: "service"; service: FailedService; module: ModuleName; message: string; refused?: boolean }
  | { kind: "deadline"; module: ModuleName; message: string };

/** A failure that is not a result of the program (service or deadline): never scored. */
export function isServiceFailure(failure: ProgramFailure | null | undefined): boolean {
  return failure?.kind === "service" || failure?.kind === "deadline";
}
