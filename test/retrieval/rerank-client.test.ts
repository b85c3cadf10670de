import { afterAll, describe, expect, test } from "bun:test";
import { ExitCode } from "../../src/errors.ts";
import { RerankClient, type RerankClientOptions } from "../../src/retrieval/rerank/client.ts";
import { startFakeRerank } from "../fakes/rerank.ts";
import { closedUrl, startFakeTei, type FakeServer } from "../fakes/tei.ts";
import { serviceError as failure } from "../helpers/errors.ts";

const servers: FakeServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

function track(server: FakeServer): FakeServer {
  servers.push(server);
  return server;
}

function client(url: string, overrides: Partial<RerankClientOptions> = {}): RerankClient {
  return new RerankClient({
    url,
    api: "service",
    model: "tei",
    timeoutSeconds: 5,
    maxRetries: 3,
    concurrency: 4,
    retry: { initialDelayMs: 1, maxDelayMs: 5, random: () => 0 },
    ...overrides,
  });
}

const DOCUMENTS = ["# Paris\nParis is the capital of France.", "# Berlin\nBerlin is in Germany.", "# Rome\nRome, Italy."];

describe("rerank client: the three APIs", () => {
  test("service API: POST /rerank with model, documents, top_n, return_documents", async () => {
    const fake = track(startFakeRerank());
    const results = await client(fake.url).rerank("capital of Germany Berlin", DOCUMENTS, 2);
    expect(results.map((result) => result.index)).toEqual([1, 0]);
    expect(fake.requests.at(-1)).toMatchObject({
      path: "/rerank",
      body: {
        model: "tei",
        query: "capital of Germany Berlin",
        documents: DOCUMENTS,
        top_n: 2,
        return_documents: false,
      },
    });
  });

  test("tei API: POST /rerank with texts and raw_scores false; top_n applied locally", async () => {
    const fake = track(startFakeTei());
    const results = await client(fake.url, { api: "tei" }).rerank("Rome Italy", DOCUMENTS, 1);
    expect(results).toEqual([{ index: 2, score: 1 }]);
    expect(fake.requests.at(-1)).toMatchObject({
      path: "/rerank",
      body: { query: "Rome Italy", texts: DOCUMENTS, raw_scores: false },
    });
  });

  test("cohere API: POST /v1/rerank with model and top_n, Bearer API key", async () => {
    const fake = track(startFakeRerank({ apiKey: "secret" }));
    const reranker = client(fake.url, { api: "cohere", model: "rerank-v3.5", apiKey: "secret" });
    const results = await reranker.rerank("Paris France", DOCUMENTS, 3);
    expect(results[0]?.index).toBe(0);
    const last = fake.requests.at(-1);
    expect(last).toMatchObject({ path: "/v1/rerank", body: { model: "rerank-v3.5", top_n: 3 } });
    expect(last?.headers.authorization).toBe("Bearer secret");
  });

  test("a wrong API key is refused without retries (exit code 5)", async () => {
    const fake = track(startFakeRerank({ apiKey: "secret" }));
    const error = await failure(client(fake.url, { api: "cohere", apiKey: "wrong" }).rerank("q", DOCUMENTS, 1));
    expect(error.status).toBe(401);
    expect(error.exitCode).toBe(ExitCode.rejected);
    expect(fake.requests.length).toBe(1);
  });
});

describe("rerank client: edge cases", () => {
  test("no documents: no request, no results", async () => {
    const fake = track(startFakeRerank());
    expect(await client(fake.url).rerank("anything", [], 5)).toEqual([]);
    expect(fake.requests.length).toBe(0);
  });

  test("a blank query: no request; documents in their order with score 0", async () => {
    const fake = track(startFakeRerank());
    expect(await client(fake.url).rerank("   ", DOCUMENTS, 2)).toEqual([
      { index: 0, score: 0 },
      { index: 1, score: 0 },
    ]);
    expect(fake.requests.length).toBe(0);
  });

  test("top_n larger than the documents: sends top_n = document count, returns all", async () => {
    const fake = track(startFakeRerank());
    const results = await client(fake.url).rerank("Paris", DOCUMENTS, 50);
    expect(results.length).toBe(3);
    expect(fake.requests.at(-1)?.body).toMatchObject({ top_n: 3 });
  });
});

describe("rerank client: faults", () => {
  test("HTTP 500 twice, then success: retried and answered", async () => {
    const fake = track(startFakeRerank());
    fake.faults.push({ kind: "status", status: 500 }, { kind: "status", status: 503 });
    const results = await client(fake.url).rerank("Berlin", DOCUMENTS, 1);
    expect(results[0]?.index).toBe(1);
    expect(fake.requests.length).toBe(3);
  });

  test("HTTP 429 is retried", async () => {
    const fake = track(startFakeRerank());
    fake.faults.push({ kind: "status", status: 429, headers: { "retry-after-ms": "1" } });
    expect((await client(fake.url).rerank("Berlin", DOCUMENTS, 1)).length).toBe(1);
    expect(fake.requests.length).toBe(2);
  });

  test("500 on every attempt: gives up after max retries with the URL in the message (exit code 4)", async () => {
    const fake = track(startFakeRerank());
    for (let i = 0; i < 5; i++) fake.faults.push({ kind: "status", status: 500, body: '{"detail":"TEI is down"}' });
    const error = await failure(client(fake.url, { maxRetries: 2 }).rerank("Berlin", DOCUMENTS, 1));
    expect(fake.requests.length).toBe(3);
    expect(error.exitCode).toBe(ExitCode.service);
    expect(error.message).toContain(`${fake.url}/rerank`);
    expect(error.message).toContain("TEI is down");
  });

  test("malformed JSON is a retryable error naming the URL; the retry succeeds", async () => {
    const fake = track(startFakeRerank());
    fake.faults.push({ kind: "body", body: "<html>proxy error" });
    expect((await client(fake.url).rerank("Berlin", DOCUMENTS, 1))[0]?.index).toBe(1);
    expect(fake.requests.length).toBe(2);
  });

  test("a body of the wrong shape, every time: a clear ServiceError", async () => {
    const fake = track(startFakeRerank());
    for (let i = 0; i < 3; i++) fake.faults.push({ kind: "body", body: '{"ranking": [1, 0]}' });
    const error = await failure(client(fake.url, { maxRetries: 1 }).rerank("Berlin", DOCUMENTS, 1));
    expect(error.message).toContain("unexpected response");
    expect(error.message).toContain('expected {"results": [...]}');
    expect(error.fix).toContain("--rerank-api");
  });

  test("an index outside the documents is rejected", async () => {
    const fake = track(startFakeTei());
    for (let i = 0; i < 2; i++) fake.faults.push({ kind: "body", body: '[{"index": 7, "score": 0.5}]' });
    const error = await failure(client(fake.url, { api: "tei", maxRetries: 1 }).rerank("Berlin", DOCUMENTS, 1));
    expect(error.message).toContain("index 7");
  });

  test("a slow answer past the timeout is retried; the next attempt succeeds", async () => {
    const fake = track(startFakeRerank());
    fake.faults.push({ kind: "delay", ms: 1500 });
    const results = await client(fake.url, { timeoutSeconds: 0.2 }).rerank("Berlin", DOCUMENTS, 1);
    expect(results[0]?.index).toBe(1);
    expect(fake.requests.length).toBe(2);
  });

  test("slow on every attempt: fails saying it did not answer in time and naming --rerank-timeout", async () => {
    const fake = track(startFakeRerank());
    fake.faults.push({ kind: "delay", ms: 1500 }, { kind: "delay", ms: 1500 });
    const error = await failure(client(fake.url, { timeoutSeconds: 0.2, maxRetries: 1 }).rerank("Berlin", DOCUMENTS, 1));
    expect(error.message).toContain("did not answer within 0.2 s");
    expect(error.fix).toContain("--rerank-timeout");
  });

  test("requests in flight never exceed the concurrency limit", async () => {
    const fake = track(startFakeRerank());
    for (let i = 0; i < 6; i++) fake.faults.push({ kind: "delay", ms: 50 });
    const reranker = client(fake.url, { concurrency: 2 });
    await Promise.all(Array.from({ length: 6 }, () => reranker.rerank("Paris", DOCUMENTS, 1)));
    expect(fake.requests.length).toBe(6);
    expect(fake.peakConcurrency).toBe(2);
  });
});

describe("rerank client: preflight", () => {
  test("service down: fails at once naming the /health URL and `docker compose up rerank` (exit code 4)", async () => {
    const url = await closedUrl();
    const started = performance.now();
    const error = await failure(client(url).preflight());
    expect(performance.now() - started).toBeLessThan(5000);
    expect(error.exitCode).toBe(ExitCode.service);
    expect(error.message).toContain(`${url}/health`);
    expect(error.fix).toContain("docker compose up rerank");
    expect(error.fix).toContain("--retriever lexical");
  });

  test("service and tei APIs check GET /health", async () => {
    const fake = track(startFakeTei());
    await client(fake.url, { api: "tei" }).preflight();
    expect(fake.requests.at(-1)).toMatchObject({ method: "GET", path: "/health" });
  });

  test("an unhealthy service fails the preflight with its status", async () => {
    const fake = track(startFakeRerank());
    fake.healthFaults.push({ kind: "status", status: 503, body: "loading" });
    const error = await failure(client(fake.url).preflight());
    expect(error.status).toBe(503);
    expect(error.message).toContain(`${fake.url}/health`);
  });

  test("cohere API preflight is a one-document rerank", async () => {
    const fake = track(startFakeRerank());
    await client(fake.url, { api: "cohere", model: "m" }).preflight();
    expect(fake.requests.at(-1)).toMatchObject({
      method: "POST",
      path: "/v1/rerank",
      body: { documents: ["ping"], top_n: 1 },
    });
  });
});
