import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { ExitCode, InterruptedError, RetryError } from "../../src/errors.ts";
import { MemoryResponseCache, cacheKey } from "../../src/lm/cache.ts";
import { createChatClient, defaultBaseUrl, type ChatClientOptions } from "../../src/lm/client.ts";
import type { ChatRequest } from "../../src/lm/types.ts";
import { startFakeOpenAI, type FakeFault, type FakeOpenAI } from "../fakes/openai.ts";
import { serviceError } from "../helpers/errors.ts";

const request: ChatRequest = { messages: [{ role: "user", content: "Say hi." }] };

function options(baseUrls: string[], extra: Partial<ChatClientOptions> = {}): ChatClientOptions {
  return {
    baseUrls,
    apiKey: "test-key",
    model: "Qwen/Qwen2.5-7B-Instruct",
    temperature: 0.7,
    maxTokens: 256,
    maxRetries: 3,
    requestTimeoutSeconds: 5,
    concurrency: 4,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  };
}

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  fake.setResponder(() => "hello");
});
afterAll(() => fake.stop());
afterEach(() => {
  fake.setFaults([]);
  fake.requests.length = 0;
});

describe("LM client: one request", () => {
  test("returns text, finish reason, usage, endpoint, attempts and model", async () => {
    const result = await createChatClient(options([fake.baseUrl])).complete(request);
    expect(result).toMatchObject({
      text: "hello",
      finishReason: "stop",
      endpoint: fake.baseUrl,
      attempts: 1,
      cached: false,
      model: "Qwen/Qwen2.5-7B-Instruct",
    });
    expect(result.usage?.promptTokens).toBe(100);
    expect(result.latencyMs).toBeGreaterThan(0);
  });

  test("sends exactly model, messages, temperature and max_tokens (no top_p unless asked, like DSPy) and the bearer key", async () => {
    await createChatClient(options([fake.baseUrl])).complete({ ...request, temperature: 0.3, maxTokens: 9, model: "m2" });
    const sent = fake.requests.at(-1);
    expect(sent?.headers.authorization).toBe("Bearer test-key");
    expect(sent?.body).toEqual({ model: "m2", messages: request.messages, temperature: 0.3, max_tokens: 9 });
  });

  test("--top-p given: top_p is sent", async () => {
    await createChatClient(options([fake.baseUrl], { topP: 0.9 })).complete(request);
    expect((fake.requests.at(-1)?.body as Record<string, unknown>).top_p).toBe(0.9);
  });

  test("a JSONAdapter call sends its response_format as given", async () => {
    const responseFormat = {
      type: "json_schema" as const,
      json_schema: { schema: { type: "object" }, name: "DSPyProgramOutputs", strict: true },
    };
    await createChatClient(options([fake.baseUrl])).complete({ ...request, responseFormat });
    expect((fake.requests.at(-1)?.body as Record<string, unknown>).response_format).toEqual(responseFormat);
  });

  test("Arbor's reply without usage gives usage null", async () => {
    const arbor = await startFakeOpenAI({ flavor: "arbor", responder: () => "hi" });
    const result = await createChatClient(options([arbor.baseUrl])).complete(request);
    expect(result.usage).toBeNull();
    expect(result.text).toBe("hi");
    await arbor.stop();
  });

  test("content null becomes an empty text", async () => {
    fake.setFaults([{ kind: "null-content" }]);
    expect((await createChatClient(options([fake.baseUrl])).complete(request)).text).toBe("");
  });

  test("finish_reason length is reported, not an error", async () => {
    fake.setFaults([{ kind: "length", text: "[[ ## reasoning ## ]]\nI was cut" }]);
    const result = await createChatClient(options([fake.baseUrl])).complete(request);
    expect(result.finishReason).toBe("length");
    expect(result.text).toBe("[[ ## reasoning ## ]]\nI was cut");
  });
});

describe("LM client: the one retry policy", () => {
  const retried: Array<[string, FakeFault]> = [
    ["429 with Retry-After", { kind: "status", status: 429, retryAfter: "0" }],
    ["500", { kind: "status", status: 500 }],
    ["502", { kind: "status", status: 502 }],
    ["503", { kind: "status", status: 503, retryAfterMs: 1 }],
    ["a connection reset", { kind: "reset" }],
    ["Arbor's HTTP 200 null body", { kind: "null-body" }],
    ["a body without choices", { kind: "no-choices" }],
    ["truncated JSON", { kind: "truncated-json" }],
  ];
  test.each(retried)("%s is retried and the call succeeds", async (_, fault) => {
    fake.setFaults([fault, fault]);
    const result = await createChatClient(options([fake.baseUrl])).complete(request);
    expect(result.text).toBe("hello");
    expect(result.attempts).toBe(3);
    expect(fake.counts.faults).toBeGreaterThan(0);
  });

  test("a server that keeps failing gives a retryable ServiceError after maxRetries + 1 attempts (exit 4)", async () => {
    fake.setFaults(Array.from({ length: 3 }, () => ({ kind: "status", status: 503 }) as FakeFault));
    const error = await serviceError(createChatClient(options([fake.baseUrl], { maxRetries: 2 })).complete(request));
    expect(error.exitCode).toBe(ExitCode.service);
    expect(error.message).toContain("HTTP 503");
    expect(error).toBeInstanceOf(RetryError);
    if (!(error instanceof RetryError)) return;
    expect(error.reason).toBe("maxRetriesExceeded");
    expect(error.attempts.map((attempt) => attempt.error.status)).toEqual([503, 503, 503]);
    expect(error.kind).toBe("server");
    expect(fake.requests.length).toBe(3);
  });

  test("401 is not retried and says to check --api-key / OPENAI_API_KEY (exit 5)", async () => {
    const locked = await startFakeOpenAI({ apiKey: "right-key" });
    const error = await serviceError(createChatClient(options([locked.baseUrl])).complete(request));
    expect(locked.requests.length).toBe(1);
    expect(error.exitCode).toBe(ExitCode.rejected);
    expect(error.fix).toContain("--api-key or OPENAI_API_KEY");
    await locked.stop();
  });

  test("404 (model not served) is not retried and says how to list the served models", async () => {
    const vllm = await startFakeOpenAI({ models: ["other-model"] });
    const error = await serviceError(createChatClient(options([vllm.baseUrl])).complete(request));
    expect(vllm.requests.length).toBe(1);
    expect(error.status).toBe(404);
    expect(error.message).toContain('model "Qwen/Qwen2.5-7B-Instruct" is not served');
    expect(error.fix).toContain(`curl ${vllm.baseUrl}/models`);
    await vllm.stop();
  });

  test("400 is not retried", async () => {
    fake.setFaults([{ kind: "status", status: 400, body: '{"error":{"message":"context too long"}}' }]);
    const error = await serviceError(createChatClient(options([fake.baseUrl])).complete(request));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("context too long");
    expect(fake.requests.length).toBe(1);
  });

  test("a hung server times out after --request-timeout and the retry succeeds", async () => {
    fake.setFaults([{ kind: "hang" }]);
    const result = await createChatClient(options([fake.baseUrl], { requestTimeoutSeconds: 0.3 })).complete(request);
    expect(result.attempts).toBe(2);
  });

  test("an unreachable server names the URL and how to start Arbor", async () => {
    const gone = await startFakeOpenAI();
    await gone.stop();
    const error = await serviceError(createChatClient(options([gone.baseUrl], { maxRetries: 0 })).complete(request));
    expect(error.message).toContain(`cannot reach the language model at ${gone.baseUrl}`);
    expect(error.fix).toContain("python -m arbor.cli serve --arbor-config arbor.yaml");
  });

  test("a connection reset in the middle of the body is reported as a reset (not 'not valid JSON') and retried", async () => {
    fake.setFaults([{ kind: "reset-mid-body" }]);
    const client = createChatClient(options([fake.baseUrl], { maxRetries: 0 }));
    const error = await serviceError(client.complete(request));
    expect(error.kind).toBe("reset");
    expect(error.message).toContain("broke off the connection in the middle of its answer");
    expect(error.message).not.toContain("JSON");
    fake.setFaults([{ kind: "reset-mid-body" }]);
    expect((await createChatClient(options([fake.baseUrl])).complete(request)).attempts).toBe(2);
  });

  test("a completion larger than --max-tokens can produce fails as too_large, once (not retried), exit 4", async () => {
    fake.setFaults([{ kind: "oversized", bytes: 10 * 1024 * 1024 }]);
    const error = await serviceError(createChatClient(options([fake.baseUrl], { maxTokens: 256 })).complete(request));
    expect(error.kind).toBe("too_large");
    expect(error.exitCode).toBe(ExitCode.service);
    expect(error.message).toContain("sent an answer larger than");
    expect(fake.counts.chat).toBeGreaterThan(0);
    expect(fake.requests.filter((recorded) => recorded.fault === "oversized")).toHaveLength(1);
  });

  test("a server error body of 5 MB reaches the message as a short excerpt", async () => {
    fake.setFaults([{ kind: "status", status: 400, body: "E".repeat(5 * 1024 * 1024) }]);
    const error = await serviceError(createChatClient(options([fake.baseUrl])).complete(request));
    expect(error.kind).toBe("rejected");
    expect(error.message.length).toBeLessThan(600);
    expect(error.describe().length).toBeLessThan(1000);
  });

  test("an aborted signal stops the call with the abort reason", async () => {
    fake.setFaults([{ kind: "latency", ms: 2000 }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new InterruptedError()), 50);
    const promise = createChatClient(options([fake.baseUrl])).complete(request, controller.signal);
    await expect(promise).rejects.toBeInstanceOf(InterruptedError);
  });
});

describe("LM client: several endpoints", () => {
  test("sequential requests alternate between two endpoints", async () => {
    const other = await startFakeOpenAI({ responder: () => "hello" });
    const client = createChatClient(options([fake.baseUrl, other.baseUrl]));
    for (let i = 0; i < 6; i++) await client.complete(request);
    expect(fake.requests.length).toBe(3);
    expect(other.requests.length).toBe(3);
    await other.stop();
  });

  test("concurrent requests go to the endpoint with the fewest in flight", async () => {
    const slow = await startFakeOpenAI({ responder: async () => (await Bun.sleep(300), "slow") });
    const client = createChatClient(options([slow.baseUrl, fake.baseUrl]));
    const first = client.complete(request);
    await Bun.sleep(20);
    const results = [await client.complete(request), await client.complete(request)];
    expect(results.map((result) => result.endpoint)).toEqual([fake.baseUrl, fake.baseUrl]);
    expect((await first).text).toBe("slow");
    await slow.stop();
  });

  test("with one endpoint down the calls complete on the other, which then takes all traffic", async () => {
    const gone = await startFakeOpenAI();
    await gone.stop();
    const client = createChatClient(options([gone.baseUrl, fake.baseUrl], { endpointFailureThreshold: 2 }));
    const results = [];
    for (let i = 0; i < 8; i++) results.push(await client.complete(request));
    expect(results.every((result) => result.endpoint === fake.baseUrl)).toBe(true);
    const down = client.pool.endpoints[0];
    expect(down?.failures).toBe(2);
    expect(down?.coolingUntil).toBeGreaterThan(Date.now());
    expect(fake.requests.length).toBe(8);
  });

  test("the concurrency limit caps requests in flight over all endpoints", async () => {
    let inFlight = 0;
    let peak = 0;
    const counting = async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await Bun.sleep(30);
      inFlight--;
      return "ok";
    };
    const first = await startFakeOpenAI({ responder: counting });
    const second = await startFakeOpenAI({ responder: counting });
    const client = createChatClient(options([first.baseUrl, second.baseUrl], { concurrency: 3 }));
    await Promise.all(Array.from({ length: 12 }, () => client.complete(request)));
    expect(peak).toBe(3);
    expect(first.requests.length).toBeGreaterThan(0);
    expect(second.requests.length).toBeGreaterThan(0);
    await Promise.all([first.stop(), second.stop()]);
  });

  test("the default base URL is the local Arbor port", () => {
    expect(defaultBaseUrl(7453)).toBe("http://localhost:7453/v1");
  });
});

describe("LM client: response cache", () => {
  test("a temperature-0 request is answered from the cache the second time", async () => {
    const cache = new MemoryResponseCache();
    const client = createChatClient(options([fake.baseUrl], { temperature: 0, cache }));
    const first = await client.complete(request);
    const second = await client.complete(request);
    expect(first.cached).toBe(false);
    expect(second).toMatchObject({ text: "hello", cached: true, attempts: 0, endpoint: null });
    expect(fake.requests.length).toBe(1);
    expect(cache.entries.size).toBe(1);
  });

  test("noCache and sampled requests never use the cache", async () => {
    const cache = new MemoryResponseCache();
    const client = createChatClient(options([fake.baseUrl], { temperature: 0, cache }));
    await client.complete({ ...request, noCache: true });
    await client.complete({ ...request, noCache: true });
    await client.complete({ ...request, temperature: 0.7 });
    await client.complete({ ...request, temperature: 0.7 });
    expect(fake.requests.length).toBe(4);
    expect(cache.entries.size).toBe(0);
  });

  test("the cache key depends on endpoint, served identity, model, messages, temperature, max tokens, top_p and response_format only", () => {
    const base = {
      endpoint: "http://a:8000/v1",
      identity: { id: "m", root: "/ckpt/1" },
      model: "m",
      messages: request.messages,
      temperature: 0,
      maxTokens: 10,
    };
    expect(cacheKey(base)).toBe(cacheKey({ ...base, endpoint: "http://user:secret@a:8000/v1/" }));
    expect(cacheKey(base)).not.toBe(cacheKey({ ...base, endpoint: "http://b:8000/v1" }));
    expect(cacheKey(base)).not.toBe(cacheKey({ ...base, identity: { id: "m", root: "/ckpt/2" } }));
    expect(cacheKey(base)).not.toBe(cacheKey({ ...base, identity: null }));
    expect(cacheKey(base)).toBe(cacheKey({ ...base, messages: [{ content: "Say hi.", role: "user" }] }));
    expect(cacheKey(base)).not.toBe(cacheKey({ ...base, maxTokens: 11 }));
    expect(cacheKey(base)).not.toBe(cacheKey({ ...base, topP: 1 }));
    expect(cacheKey(base)).not.toBe(cacheKey({ ...base, responseFormat: { type: "json_object" } }));
    expect(cacheKey(base)).not.toBe(cacheKey({ ...base, model: "n" }));
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });
});
