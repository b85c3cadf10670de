/**
 * One module call, as DSPy 3.0.2's ChatAdapter.__call__ makes it (program.md §5):
 *   ChatAdapter.format → complete → parse; if the reply does not parse and the JSON fallback is on
 *   (the default, --no-json-fallback turns it off), the JSONAdapter prompt with response_format
 *   json_schema, then with json_object; the first attempt that parses stands. Only when all fail
 *   is the call a format failure. Every attempt is kept in the trace (and in module_calls).
 * Differences from DSPy, on purpose:
 * - an empty reply is a format failure (DSPy: every field None, no exception, no fallback);
 * - an LM service error is not retried with the JSONAdapter (DSPy falls back on any exception):
 *   musique has already retried it, and it is a service failure (not a result), never scored;
 * - a JSONAdapter request the server refuses (HTTP 4xx other than 401/403/404, e.g. a server
 *   without response_format support) counts as that attempt failing, as DSPy's `except` does.
 * InterruptedError always propagates, and so does every failure that `stopsRun` (src/errors.ts)
 * says stops the run (a wrong key or model fails every call).
 */
import { ExitCode, InterruptedError, ServiceError, attemptsMade, stopsRun } from "../errors.ts";
import type { ChatClient, ChatMessage, ResponseFormat } from "../lm/types.ts";
import { format, formatJson, jsonSchemaFormat, JSON_OBJECT_FORMAT, parse, parseJson, ParseError } from "./adapter/index.ts";
import { DEFAULT_PROGRAM, type Program } from "./signatures.ts";
import type { AdapterAttempt, AdapterName, ModuleCallTrace, ModuleName } from "./types.ts";

/** The error text of a JSONAdapter request the server refused (it counts as a failed attempt). */
const REFUSED = "the server refused the JSONAdapter request:";

export interface ModuleCallSettings {
  client: ChatClient;
  model?: string;
  temperature?: number;
  maxTokens?: number;
  noCache?: boolean;
  signal?: AbortSignal;
  /** The predictors (default: the reference script's). */
  program?: Program;
  /** DSPy's JSONAdapter fallback (default on). */
  jsonFallback?: boolean;
  /** Collect the traces here (so a caller still has them if the run is abandoned). */
  calls?: ModuleCallTrace[];
}

export interface ModuleCallOutcome {
  trace: ModuleCallTrace;
  /** Parsed outputs; null when the call failed. */
  outputs: Record<string, string> | null;
  failure: { kind: "format"; message: string } | { kind: "service"; service: "lm"; message: string; refused: boolean } | null;
}

interface AttemptPlan {
  adapter: AdapterName;
  messages: ChatMessage[];
  responseFormat: ResponseFormat | null;
  parse: (text: string) => Record<string, string>;
}

/** A trace's reply fields before an attempt is answered: "lm_error" until a reply says otherwise. */
const NO_REPLY_YET = {
  rawCompletion: null,
  parsed: null,
  status: "lm_error",
  error: null,
  finishReason: null,
  truncated: false,
} as const satisfies Partial<ModuleCallTrace>;

/** Runs module calls for one program run and keeps DSPy's per-module invocation index. */
export class ModuleRunner {
  readonly calls: ModuleCallTrace[];
  private readonly invocations = new Map<ModuleName, number>();
  private readonly program: Program;
  /** Attempts whose service refused the request (HTTP 400…): the failure says so (exit 5, not 4). */
  private readonly refusedAttempts = new WeakSet<AdapterAttempt>();

  constructor(private readonly settings: ModuleCallSettings) {
    this.calls = settings.calls ?? [];
    this.program = settings.program ?? DEFAULT_PROGRAM;
  }

  async call(module: ModuleName, hop: number, inputs: Readonly<Record<string, string>>): Promise<ModuleCallOutcome> {
    const { signature, demos } = this.program[module];
    const invocation = this.invocations.get(module) ?? 0;
    this.invocations.set(module, invocation + 1);
    const chat: AttemptPlan = { adapter: "chat", messages: format(signature, inputs, demos), responseFormat: null, parse: (text) => parse(signature, text) };
    const trace: ModuleCallTrace = {
      module,
      hop,
      invocation,
      // The values are strings: a shallow copy is a full one.
      inputs: { ...inputs },
      messages: chat.messages,
      adapter: "chat",
      adapterAttempts: [],
      ...NO_REPLY_YET,
      usage: null,
      latencyMs: 0,
      endpoint: null,
      attempts: 0,
      cached: false,
      startedAt: Date.now(),
    };
    this.calls.push(trace);

    const first = await this.attempt(trace, chat, false);
    if (first.status === "ok") return { trace, outputs: first.parsed, failure: null };
    if (first.status === "lm_error") {
      return {
        trace,
        outputs: null,
        failure: { kind: "service", service: "lm", message: first.error ?? "LM error", refused: this.refusedAttempts.has(first) },
      };
    }
    const empty = first.rawCompletion === "";
    if (empty || this.settings.jsonFallback === false) return { trace, outputs: null, failure: { kind: "format", message: first.error ?? "parse error" } };

    const jsonMessages = formatJson(signature, inputs, demos);
    const plans: AttemptPlan[] = [
      { adapter: "json_schema", messages: jsonMessages, responseFormat: jsonSchemaFormat(signature), parse: (text) => parseJson(signature, text) },
      { adapter: "json_object", messages: jsonMessages, responseFormat: JSON_OBJECT_FORMAT, parse: (text) => parseJson(signature, text) },
    ];
    for (const plan of plans) {
      const attempt = await this.attempt(trace, plan, true);
      if (attempt.status === "ok") return { trace, outputs: attempt.parsed, failure: null };
      if (attempt.status === "lm_error" && attempt.error !== null && !attempt.error.startsWith(REFUSED)) {
        return { trace, outputs: null, failure: { kind: "service", service: "lm", message: attempt.error, refused: this.refusedAttempts.has(attempt) } };
      }
    }
    trace.status = "parse_error";
    const message = trace.adapterAttempts.map((attempt) => `${attempt.adapter}: ${attempt.error ?? "parse error"}`).join("; ");
    trace.error = message;
    return { trace, outputs: null, failure: { kind: "format", message } };
  }

  /** One request and its parse; the trace's top-level fields follow the latest attempt. */
  private async attempt(trace: ModuleCallTrace, plan: AttemptPlan, refusalIsFailure: boolean): Promise<AdapterAttempt> {
    const { client, signal } = this.settings;
    const started = Date.now();
    const attempt: AdapterAttempt = {
      adapter: plan.adapter,
      messages: plan.messages,
      responseFormat: plan.responseFormat,
      rawCompletion: null,
      parsed: null,
      status: "lm_error",
      error: null,
      failedText: null,
      finishReason: null,
      usage: null,
      latencyMs: 0,
      endpoint: null,
      attempts: 0,
      cached: false,
    };
    trace.adapterAttempts.push(attempt);
    Object.assign(trace, {
      adapter: plan.adapter,
      messages: plan.messages,
      ...NO_REPLY_YET,
    });
    try {
      const result = await client.complete(
        {
          messages: plan.messages,
          model: this.settings.model,
          temperature: this.settings.temperature,
          maxTokens: this.settings.maxTokens,
          noCache: this.settings.noCache,
          ...(plan.responseFormat ? { responseFormat: plan.responseFormat } : {}),
        },
        signal,
      );
      Object.assign(attempt, {
        rawCompletion: result.text,
        finishReason: result.finishReason,
        usage: result.usage,
        latencyMs: result.latencyMs,
        endpoint: result.endpoint,
        attempts: result.attempts,
        cached: result.cached,
      });
    } catch (error) {
      if (error instanceof InterruptedError || signal?.aborted) throw error;
      if (!(error instanceof ServiceError) || stopsRun(error)) throw error;
      attempt.attempts = attemptsMade(error);
      attempt.latencyMs = Date.now() - started;
      const refused = refusalIsFailure && error.kind === "rejected";
      attempt.error = refused ? `${REFUSED} ${error.message}` : error.message;
      if (error.exitCode === ExitCode.rejected) this.refusedAttempts.add(attempt);
      this.settle(trace, attempt);
      return attempt;
    }
    const text = attempt.rawCompletion ?? "";
    try {
      attempt.parsed = plan.parse(text);
      attempt.status = "ok";
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      attempt.status = "parse_error";
      attempt.failedText = error.rawText;
      attempt.error =
        attempt.finishReason === "length" ? `${error.message} (the completion was cut off at --max-tokens: finish_reason "length")` : error.message;
    }
    this.settle(trace, attempt);
    return attempt;
  }

  private settle(trace: ModuleCallTrace, attempt: AdapterAttempt): void {
    const all = trace.adapterAttempts;
    const usages = all.map((entry) => entry.usage).filter((usage) => usage !== null);
    Object.assign(trace, {
      rawCompletion: attempt.rawCompletion,
      parsed: attempt.parsed,
      status: attempt.status,
      error: attempt.error,
      finishReason: attempt.finishReason,
      truncated: attempt.finishReason === "length",
      usage:
        usages.length === 0
          ? null
          : {
              promptTokens: usages.reduce((sum, usage) => sum + usage.promptTokens, 0),
              completionTokens: usages.reduce((sum, usage) => sum + usage.completionTokens, 0),
            },
      latencyMs: all.reduce((sum, entry) => sum + entry.latencyMs, 0),
      endpoint: attempt.endpoint,
      attempts: all.reduce((sum, entry) => sum + entry.attempts, 0),
      cached: all.every((entry) => entry.cached),
    });
  }
}
