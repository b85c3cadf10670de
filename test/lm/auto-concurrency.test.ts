/**
 * `--concurrency auto` in the LM client against fake servers: the limit grows on a server with
 * spare capacity, backs off on 429 and 503, waits out a Retry-After, stays under
 * --max-concurrency, and the run records what each endpoint got (concurrency_limits). A fixed
 * --concurrency is honoured (see also client.test.ts "the concurrency limit caps requests").
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createChatClient, type ChatClientOptions } from "../../src/lm/client.ts";
import type { ChatRequest } from "../../src/lm/types.ts";
import { startBatchingLm, type BatchingLm } from "../fakes/batching-lm.ts";
import { startFakeOpenAI, type FakeOpenAI } from "../fakes/openai.ts";
import { runCli } from "../helpers/cli.ts";

const request: ChatRequest = { messages: [{ role: "user", content: "Say hi." }] };
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

function options(baseUrls: string[], extra: Partial<ChatClientOptions> = {}): ChatClientOptions {
  return {
    baseUrls,
    apiKey: "k",
    model: "Qwen/Qwen2.5-7B-Instruct",
    temperature: 0.7,
    maxTokens: 256,
    maxRetries: 5,
    requestTimeoutSeconds: 10,
    concurrency: "auto",
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  };
}

async function batching(options: Parameters<typeof startBatchingLm>[0]): Promise<BatchingLm> {
  const server = await startBatchingLm(options);
  stops.push(() => server.stop());
  return server;
}

async function openai(): Promise<FakeOpenAI> {
  const server = await startFakeOpenAI({ responder: () => "hello" });
  stops.push(() => server.stop());
  return server;
}

/** `callers` loops sending `total` requests in all. */
async function load(client: ReturnType<typeof createChatClient>, callers: number, total: number): Promise<void> {
  let sent = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (sent++ < total) await client.complete(request);
    }),
  );
}

describe("--concurrency auto in the LM client", () => {
  test("the limit grows from 8 on a server with spare capacity (K = 64), and requests in flight follow it", async () => {
    const server = await batching({ maxBatch: 64, stepMs: 0.5, medianTokens: 8, seed: 1 });
    const client = createChatClient(options([server.baseUrl]));
    await load(client, 200, 3000);
    const limit = client.pool.endpoints[0]?.limit?.limit ?? 0;
    expect(limit).toBeGreaterThan(8);
    expect(server.stats().peakBatch).toBeGreaterThan(8);
  });

  test("it never sends more than --max-concurrency at once", async () => {
    const server = await batching({ maxBatch: 512, stepMs: 0.5, medianTokens: 8, seed: 2 });
    const client = createChatClient(options([server.baseUrl], { maxConcurrency: 12 }));
    await load(client, 100, 1500);
    expect(server.stats().peakBatch).toBeLessThanOrEqual(12);
    expect(client.pool.endpoints[0]?.limit?.limit ?? 0).toBeLessThanOrEqual(12);
  });

  test("a 503 lowers the endpoint's limit at once", async () => {
    const fake = await openai();
    const client = createChatClient(options([fake.baseUrl]));
    fake.setFaults([{ kind: "status", status: 503 }]);
    await client.complete(request);
    expect(client.pool.endpoints[0]?.limit?.limit).toBeLessThan(8);
  });

  test("a 429 lowers the endpoint's limit at once, and its Retry-After is waited before the next request to that server", async () => {
    const fake = await openai();
    const client = createChatClient(options([fake.baseUrl]));
    fake.setFaults([{ kind: "status", status: 429, retryAfterMs: 300 }]);
    await client.complete(request);
    expect(client.pool.endpoints[0]?.limit?.limit).toBeLessThan(8);
    const [refused, next] = fake.requests.filter((recorded) => recorded.path.endsWith("/chat/completions"));
    expect((next?.at ?? 0) - (refused?.at ?? 0)).toBeGreaterThanOrEqual(299);
  });
});

describe("the concurrency each endpoint got is stored with the run", () => {
  const directory = mkdtempSync(join(tmpdir(), "musique-concurrency-"));
  const rows = (database: string) => {
    const db = new Database(database, { readonly: true });
    try {
      return db.query("SELECT endpoint, concurrency, reason FROM concurrency_limits ORDER BY id").all() as Array<{
        endpoint: string;
        concurrency: number;
        reason: string;
      }>;
    } finally {
      db.close();
    }
  };
  const evaluate = async (database: string, name: string, baseUrls: string[], extra: string[]) =>
    runCli([
      "evaluate",
      "--datasets",
      "test/fixtures/musique_ans_dev_sample150.jsonl",
      "--limit",
      "6",
      "--retriever",
      "lexical",
      ...baseUrls.flatMap((url) => ["--base-url", url]),
      "--db",
      database,
      "--output-dir",
      join(directory, "outputs"),
      "--run-name",
      name,
      ...extra,
    ]);

  test("a fixed --concurrency: one row per endpoint, reason fixed", async () => {
    const first = await batching({ maxBatch: 8, stepMs: 0.2, medianTokens: 5, seed: 3 });
    const second = await batching({ maxBatch: 8, stepMs: 0.2, medianTokens: 5, seed: 4 });
    const database = join(directory, "fixed.db");
    const result = await evaluate(database, "fixed", [first.baseUrl, second.baseUrl], ["--concurrency", "3"]);
    expect(result.exitCode).toBe(0);
    expect(rows(database)).toEqual([
      { endpoint: first.baseUrl, concurrency: 3, reason: "fixed" },
      { endpoint: second.baseUrl, concurrency: 3, reason: "fixed" },
    ]);
  });

  test("auto (the default): each endpoint's starting limit, then every change, and a summary line", async () => {
    const server = await batching({ maxBatch: 8, stepMs: 0.2, medianTokens: 5, seed: 5 });
    const database = join(directory, "auto.db");
    const result = await evaluate(database, "auto", [server.baseUrl], []);
    expect(result.exitCode).toBe(0);
    expect(rows(database)[0]).toEqual({ endpoint: server.baseUrl, concurrency: 8, reason: "initial" });
    expect(result.stderr).toContain(`concurrency (--concurrency auto): ${server.baseUrl} `);
  });
});
