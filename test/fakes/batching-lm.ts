/**
 * A fake OpenAI-compatible inference server that behaves like continuous batching (issue 19), for
 * tests and the bench (bench/throughput.ts runs it in its own process: bench/batching-lm-child.ts):
 *
 *   const server = await startBatchingLm({ maxBatch: 64, seed: 7 });   // K = 64
 *   server.baseUrl       // "http://127.0.0.1:PORT/v1"
 *   server.stats()       // completions, refusals, peak batch and queue, …
 *   await server.stop()
 *
 * Timing follows test/fakes/batching-model.ts (at most K sequences decode at once, the rest wait
 * in a FIFO queue; a decode step with b sequences takes stepMs·(1 + b/batchForDoubleStep);
 * completion lengths are seeded log-normal draws; the model's header says where the shape comes
 * from). With `ratePerSecond`, it is an API with a rate limit instead: a token bucket of R
 * requests per second with a burst of R (one second's worth); a request over it is answered at
 * once with 429, `retry-after-ms` (when the next token comes) and `retry-after` (whole seconds,
 * at least 1), as OpenAI's API answers.
 *
 * Replies are test/fakes/openai.ts's DSPy responder (valid ChatAdapter output for the program's
 * signatures, so musique parses them); `usage.completion_tokens` is the drawn length, the tokens
 * the server "spent" on it (the text itself is short).
 * Routes: POST /v1/chat/completions; GET /v1/models (vLLM's shape); GET /fake/stats (JSON of
 * `stats()`, for a bench process); POST /fake/reset (clears the records).
 */
import { BatchingModel, type BatchingModelOptions } from "./batching-model.ts";
import { dspyResponder, type FakeChatRequest } from "./openai.ts";

export interface BatchingLmOptions extends BatchingModelOptions {
  /** Refuse with 429 above this many requests per second (token bucket, burst of one second). */
  ratePerSecond?: number;
  /** The model name /v1/models lists (any is accepted in requests). */
  model?: string;
}

/** One answered request: times in ms since the server started (the model's; `answeredAt`: when the answer went out). */
interface CompletionRecord {
  arrivedAt: number;
  startedAt: number;
  finishedAt: number;
  answeredAt: number;
  tokens: number;
}

export interface BatchingLmStats {
  /** Answered requests (most recent last; at most RECORDS_KEPT). */
  completions: CompletionRecord[];
  /** Times (ms since start) of the requests refused with 429. */
  refusals: number[];
  completed: number;
  refused: number;
  peakBatch: number;
  peakQueue: number;
  decoding: number;
  queued: number;
  /** ms since the server started, when the stats were taken. */
  now: number;
}

export interface BatchingLm {
  baseUrl: string;
  port: number;
  stats(): BatchingLmStats;
  reset(): void;
  stop(): Promise<void>;
}

/** Records kept (a long bench run would otherwise grow without bound). */
const RECORDS_KEPT = 200_000;

interface Pending {
  resolve: () => void;
}

export async function startBatchingLm(options: BatchingLmOptions): Promise<BatchingLm> {
  const model = new BatchingModel<Pending>(options);
  const answer = dspyResponder();
  const origin = performance.now();
  const clock = () => performance.now() - origin;
  let completions: CompletionRecord[] = [];
  let refusals: number[] = [];
  let completed = 0;
  let refused = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let tokens = options.ratePerSecond ?? 0;
  let refilledAt = 0;
  let completionNumber = 0;

  const finish = (): void => {
    const now = clock();
    for (const request of model.advance(now)) {
      completed += 1;
      completions.push({
        arrivedAt: request.arrivedAt,
        startedAt: request.startedAt ?? request.arrivedAt,
        finishedAt: request.finishedAt ?? now,
        answeredAt: now,
        tokens: request.tokens,
      });
      request.payload.resolve();
    }
    if (completions.length > RECORDS_KEPT) completions = completions.slice(-RECORDS_KEPT / 2);
    schedule();
  };

  /** A timer for the next sequence to finish (re-armed when that time moves earlier). */
  const schedule = (): void => {
    const next = model.nextEventAt();
    if (next === null) return;
    if (timer !== undefined && timerAt <= next) return;
    clearTimeout(timer);
    timerAt = next;
    timer = setTimeout(
      () => {
        timer = undefined;
        timerAt = Number.POSITIVE_INFINITY;
        finish();
      },
      Math.max(0, next - clock()),
    );
  };

  /** Token bucket: whether a request may pass now, or how long until one may (ms). */
  const admit = (now: number): number => {
    const rate = options.ratePerSecond;
    if (rate === undefined) return 0;
    tokens = Math.min(rate, tokens + ((now - refilledAt) * rate) / 1000);
    refilledAt = now;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return ((1 - tokens) * 1000) / rate;
  };

  const chat = async (request: FakeChatRequest): Promise<Response> => {
    const now = clock();
    const wait = admit(now);
    if (wait > 0) {
      refused += 1;
      refusals.push(now);
      if (refusals.length > RECORDS_KEPT) refusals = refusals.slice(-RECORDS_KEPT / 2);
      const body = { error: { message: "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded" } };
      return Response.json(body, {
        status: 429,
        headers: { "retry-after-ms": String(Math.ceil(wait)), "retry-after": String(Math.max(1, Math.ceil(wait / 1000))) },
      });
    }
    let resolve: () => void = () => {};
    const done = new Promise<void>((settle) => {
      resolve = settle;
    });
    const arrived = model.arrive(now, { resolve }, typeof request.max_tokens === "number" ? request.max_tokens : undefined);
    schedule();
    await done;
    const reply = await answer(request);
    const content = typeof reply === "string" ? reply : reply.content;
    completionNumber += 1;
    return Response.json({
      id: `chatcmpl-batching${completionNumber}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: arrived.tokens >= (request.max_tokens ?? Infinity) ? "length" : "stop" }],
      usage: { prompt_tokens: 100, completion_tokens: arrived.tokens, total_tokens: 100 + arrived.tokens },
    });
  };

  const stats = (): BatchingLmStats => ({
    completions: [...completions],
    refusals: [...refusals],
    completed,
    refused,
    peakBatch: model.peakBatch,
    peakQueue: model.peakQueue,
    decoding: model.decoding,
    queued: model.queued,
    now: clock(),
  });

  const reset = (): void => {
    completions = [];
    refusals = [];
    model.peakBatch = model.decoding;
    model.peakQueue = model.queued;
  };

  const served = options.model ?? "Qwen/Qwen2.5-7B-Instruct";
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch: async (httpRequest) => {
      const path = new URL(httpRequest.url).pathname.replace(/\/+$/, "");
      if (httpRequest.method === "POST" && path === "/v1/chat/completions") return chat((await httpRequest.json()) as FakeChatRequest);
      if (httpRequest.method === "GET" && path === "/v1/models") {
        const created = Math.floor(Date.now() / 1000);
        return Response.json({ object: "list", data: [{ id: served, object: "model", created, owned_by: "vllm", root: served, parent: null }] });
      }
      if (httpRequest.method === "GET" && path === "/fake/stats") return Response.json(stats());
      if (httpRequest.method === "POST" && path === "/fake/reset") {
        reset();
        return Response.json({ ok: true });
      }
      return Response.json({ detail: "Not Found" }, { status: 404 });
    },
  });
  const port = server.port ?? 0;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    stats,
    reset,
    stop: async () => {
      clearTimeout(timer);
      await server.stop(true);
    },
  };
}
