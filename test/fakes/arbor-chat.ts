/**
 * The fake Arbor's /v1/chat/completions (docs/specs/arbor.md §2a, §5): answers a GRPO job's id
 * (or `<job>-inference`, after Arbor's strip_prefix) in ChatAdapter format through the fake
 * OpenAI responder, honours `n`, adds `usage` (HEAD), and answers HTTP 200 `null` — Arbor's way
 * of reporting a failed chat — when the job's vLLM has been stopped (cancel). Any other model is
 * "launched" on one free GPU first, as Arbor's route_inference does; with none free Arbor answers
 * 500 GPUAllocationError.
 */
import { headError, json, stripModelPrefix } from "./arbor-schema.ts";
import type { FakeChatRequest, FakeResponder } from "./openai.ts";

export interface ChatJobView {
  /** False once cancel stopped the job's vLLM. */
  vllmRunning: boolean;
}

export function chatHandler(options: {
  responder: FakeResponder;
  legacy: boolean;
  now: () => Date;
  job: (id: string) => ChatJobView | undefined;
  /** Launch a model that is not a job: its GPUs, or GPUAllocationError's message. */
  launch: (model: string) => string | null;
}): (body: unknown) => Promise<Response> {
  let completionNumber = 0;
  return async (body) => {
    const request = (body ?? {}) as FakeChatRequest & { n?: number };
    const requested = stripModelPrefix(typeof request.model === "string" ? request.model : "");
    const jobId = requested.endsWith("-inference") ? requested.slice(0, -"-inference".length) : requested;
    const job = options.job(jobId);
    if (job && !job.vllmRunning) return json(null);
    if (!job && !options.legacy) {
      const shortage = options.launch(requested);
      if (shortage) return json(headError("GPUAllocationError", shortage), 500);
    }
    const count = options.legacy ? 1 : Math.max(1, Number(request.n ?? 1));
    const choices = [];
    let completionTokens = 0;
    for (let index = 0; index < count; index++) {
      const reply = await options.responder(request);
      const content = typeof reply === "string" ? reply : reply.content;
      completionTokens += Math.ceil((content ?? "").length / 4);
      choices.push({
        index,
        message: { role: "assistant", content },
        finish_reason: typeof reply === "string" ? "stop" : (reply.finishReason ?? "stop"),
      });
    }
    completionNumber += 1;
    const response: Record<string, unknown> = {
      id: `chatcmpl-arbor${completionNumber}`,
      object: "chat.completion",
      created: Math.floor(options.now().getTime() / 1000),
      model: requested,
      choices,
    };
    if (!options.legacy) response.usage = { prompt_tokens: 100, completion_tokens: completionTokens, total_tokens: 100 + completionTokens };
    return json(response);
  };
}
