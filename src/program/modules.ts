/**
 * One module call = ChatAdapter.format → client.complete → parse, recorded as a ModuleCallTrace.
 * There is no silent second call (DSPy's JSONAdapter fallback is not reproduced): a parse
 * failure is recorded and ends the program as a format failure; an LM failure after retries
 * ends it as an LM failure. InterruptedError always propagates, and so does every failure that
 * `stopsRun` (src/errors.ts) says stops the run (a wrong key or model fails every call).
 */
import { InterruptedError, ServiceError, attemptsMade, stopsRun } from "../errors.ts";
import type { ChatClient } from "../lm/types.ts";
import { format, parse, ParseError, type Signature } from "./adapter/index.ts";
import { DecideInfoCollection, ExtractInformation, GenerateAnswer, GenerateSearchQuery } from "./signatures.ts";
import type { ModuleCallTrace, ModuleName } from "./types.ts";

export const MODULE_SIGNATURES: Record<ModuleName, Signature> = {
  generate_query: GenerateSearchQuery,
  extract_information: ExtractInformation,
  generate_answer: GenerateAnswer,
  decide_info_collection: DecideInfoCollection,
};

export interface ModuleCallSettings {
  client: ChatClient;
  model?: string;
  temperature?: number;
  maxTokens?: number;
  noCache?: boolean;
  signal?: AbortSignal;
  /** Collect the traces here (so a caller still has them if the run is abandoned). */
  calls?: ModuleCallTrace[];
}

export interface ModuleCallOutcome {
  trace: ModuleCallTrace;
  /** Parsed outputs; null when the call failed. */
  outputs: Record<string, string> | null;
  failure: { kind: "format"; message: string } | { kind: "service"; service: "lm"; message: string } | null;
}

/** Runs module calls for one program run and keeps DSPy's per-module invocation index. */
export class ModuleRunner {
  readonly calls: ModuleCallTrace[];
  private readonly invocations = new Map<ModuleName, number>();

  constructor(private readonly settings: ModuleCallSettings) {
    this.calls = settings.calls ?? [];
  }

  async call(module: ModuleName, hop: number, inputs: Readonly<Record<string, string>>): Promise<ModuleCallOutcome> {
    const signature = MODULE_SIGNATURES[module];
    const invocation = this.invocations.get(module) ?? 0;
    this.invocations.set(module, invocation + 1);
    const messages = format(signature, inputs);
    const trace: ModuleCallTrace = {
      module,
      hop,
      invocation,
      inputs: structuredClone({ ...inputs }),
      messages,
      rawCompletion: null,
      parsed: null,
      status: "lm_error",
      error: null,
      finishReason: null,
      truncated: false,
      usage: null,
      latencyMs: 0,
      endpoint: null,
      attempts: 0,
      cached: false,
      startedAt: Date.now(),
    };
    this.calls.push(trace);
    const { client, signal } = this.settings;
    let text: string;
    try {
      const result = await client.complete(
        {
          messages,
          model: this.settings.model,
          temperature: this.settings.temperature,
          maxTokens: this.settings.maxTokens,
          noCache: this.settings.noCache,
        },
        signal,
      );
      text = result.text;
      Object.assign(trace, {
        rawCompletion: result.text,
        finishReason: result.finishReason,
        truncated: result.finishReason === "length",
        usage: result.usage,
        latencyMs: result.latencyMs,
        endpoint: result.endpoint,
        attempts: result.attempts,
        cached: result.cached,
      });
    } catch (error) {
      if (error instanceof InterruptedError || signal?.aborted) throw error;
      if (!(error instanceof ServiceError) || stopsRun(error)) throw error;
      trace.attempts = attemptsMade(error);
      trace.latencyMs = Date.now() - trace.startedAt;
      trace.error = error.message;
      return { trace, outputs: null, failure: { kind: "service", service: "lm", message: error.message } };
    }
    try {
      const outputs = parse(signature, text);
      trace.parsed = outputs;
      trace.status = "ok";
      return { trace, outputs, failure: null };
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      const message = trace.truncated
        ? `${error.message} (the completion was cut off at --max-tokens: finish_reason "length")`
        : error.message;
      trace.status = "parse_error";
      trace.error = message;
      return { trace, outputs: null, failure: { kind: "format", message } };
    }
  }
}
