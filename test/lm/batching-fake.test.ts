/**
 * The batching fake (test/fakes/batching-lm.ts), the server model behind `--concurrency auto`'s
 * tests and bench: at most K sequences decode at once and the rest queue, seeded completion
 * lengths, 429 with Retry-After above a rate, and replies the program parses.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createChatClient } from "../../src/lm/client.ts";
import { LexicalRetriever } from "../../src/retrieval/lexical.ts";
import { runMultiHop } from "../../src/program/multihop.ts";
import { loadExamples } from "../../src/data/index.ts";
import { startBatchingLm, type BatchingLm } from "../fakes/batching-lm.ts";
import { BatchingModel } from "../fakes/batching-model.ts";

const servers: BatchingLm[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function started(options: Parameters<typeof startBatchingLm>[0]): Promise<BatchingLm> {
  const server = await startBatchingLm(options);
  servers.push(server);
  return server;
}

async function chat(baseUrl: string, maxTokens = 4000): Promise<Response> {
  return fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }], max_tokens: maxTokens }),
  });
}

describe("batching fake LM", () => {
  test("at most K sequences decode at once; the rest wait in the queue", async () => {
    const server = await started({ maxBatch: 4, stepMs: 1, medianTokens: 10, seed: 1 });
    const answers = await Promise.all(Array.from({ length: 12 }, () => chat(server.baseUrl)));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const stats = server.stats();
    expect(stats.peakBatch).toBe(4);
    expect(stats.peakQueue).toBe(8);
    expect(stats.completed).toBe(12);
  });

  test("a request that had to queue started only when a sequence finished", async () => {
    const server = await started({ maxBatch: 1, stepMs: 1, medianTokens: 5, seed: 2 });
    await Promise.all([chat(server.baseUrl), chat(server.baseUrl)]);
    const [first, second] = server.stats().completions;
    expect(second?.startedAt).toBeGreaterThanOrEqual(first?.finishedAt ?? Number.POSITIVE_INFINITY);
  });

  test("usage.completion_tokens is the seeded length: the same seed gives the same lengths", async () => {
    const lengths = async (seed: number) => {
      const server = await started({ maxBatch: 8, stepMs: 0.1, seed });
      const tokens: number[] = [];
      for (let index = 0; index < 5; index++) {
        const body = (await (await chat(server.baseUrl)).json()) as { usage: { completion_tokens: number } };
        tokens.push(body.usage.completion_tokens);
      }
      return tokens;
    };
    expect(await lengths(7)).toEqual(await lengths(7));
    expect(await lengths(7)).not.toEqual(await lengths(8));
  });

  test("a completion never exceeds max_tokens, and one cut there says finish_reason length", async () => {
    const server = await started({ maxBatch: 8, stepMs: 0.1, medianTokens: 500, seed: 3 });
    const body = (await (await chat(server.baseUrl, 3)).json()) as { usage: { completion_tokens: number }; choices: Array<{ finish_reason: string }> };
    expect(body.usage.completion_tokens).toBe(3);
    expect(body.choices[0]?.finish_reason).toBe("length");
  });

  test("above its rate it answers 429 with retry-after-ms and retry-after, as OpenAI's API does", async () => {
    const server = await started({ maxBatch: 1000, stepMs: 0.1, medianTokens: 2, ratePerSecond: 5, seed: 4 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => chat(server.baseUrl)));
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused).toHaveLength(5);
    expect(Number(refused[0]?.headers.get("retry-after-ms"))).toBeGreaterThan(0);
    expect(refused[0]?.headers.get("retry-after")).toBe("1");
    expect(server.stats().refused).toBe(5);
  });

  test("its replies are ChatAdapter text the program parses", async () => {
    const server = await started({ maxBatch: 16, stepMs: 0.1, seed: 5 });
    const { examples } = await loadExamples("sample", { seed: 89, noiseRate: 1, skipInvalid: false });
    const client = createChatClient({
      baseUrls: [server.baseUrl],
      apiKey: "k",
      model: "m",
      temperature: 0,
      maxTokens: 256,
      maxRetries: 0,
      requestTimeoutSeconds: 10,
      concurrency: 4,
    });
    const result = await runMultiHop(examples[0] as (typeof examples)[number], { client, retriever: new LexicalRetriever(), topN: 2, numHops: 2, maxHops: 4 });
    expect(result.failure).toBeNull();
    expect(result.calls).toHaveLength(4);
  });
});

describe("batching server model", () => {
  test("a decode step with b sequences takes stepMs·(1 + b/batchForDoubleStep)", () => {
    const model = new BatchingModel({ maxBatch: 512, stepMs: 5, batchForDoubleStep: 128 });
    expect(model.stepTime(128)).toBe(10);
    expect(model.stepTime(512)).toBe(25);
  });

  test("a lone request takes (prefill + tokens) steps", () => {
    const model = new BatchingModel<null>({ maxBatch: 4, stepMs: 2, batchForDoubleStep: Number.POSITIVE_INFINITY, prefillSteps: 2, seed: 9 });
    const request = model.arrive(0, null);
    expect(model.nextEventAt()).toBeCloseTo((2 + request.tokens) * 2, 6);
    expect(model.advance(1e9)).toEqual([request]);
  });
});
