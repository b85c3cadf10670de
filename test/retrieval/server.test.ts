import { afterAll, describe, expect, test } from "bun:test";
import { ExitCode } from "../../src/errors.ts";
import { Bm25Index } from "../../src/retrieval/bm25/index.ts";
import { RerankClient } from "../../src/retrieval/rerank/client.ts";
import { startRerankServer, type RerankServer } from "../../src/retrieval/rerank/server.ts";
import { cleanEnv, compiledBinary, MAIN } from "../helpers/cli.ts";
import { closedUrl, startFakeTei, type FakeServer } from "../fakes/tei.ts";

const tei: FakeServer = startFakeTei();
const running: RerankServer[] = [];
afterAll(async () => {
  await Promise.all(running.map((server) => server.stop()));
  await tei.stop();
});

function serve(teiUrl = tei.url): RerankServer {
  const server = startRerankServer({ host: "127.0.0.1", port: 0, teiUrl, timeoutSeconds: 2, maxRetries: 1 });
  running.push(server);
  return server;
}

const server = serve();
const DOCUMENTS = ["# Paris\nParis is the capital of France.", "# Berlin\nBerlin is the capital of Germany.", "# Rome"];

async function post(path: string, body: unknown, target = server): Promise<{ status: number; json: unknown }> {
  const response = await fetch(target.url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

describe("rerank server: routes", () => {
  test("GET /health → {status: healthy}", async () => {
    expect(await (await fetch(server.url + "/health")).json()).toEqual({ status: "healthy" });
  });

  test("GET /models lists tei and bm25", async () => {
    expect(await (await fetch(server.url + "/models")).json()).toEqual({ models: ["tei", "bm25"] });
  });

  test("an unknown route is 404 with a detail", async () => {
    const response = await fetch(server.url + "/nope");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ detail: "Not Found" });
  });
});

describe("rerank server: POST /rerank", () => {
  test("model bm25 ranks in-process with our BM25", async () => {
    const { status, json } = await post("/rerank", {
      model: "bm25",
      query: "capital of Germany",
      documents: DOCUMENTS,
      top_n: 2,
      return_documents: true,
    });
    expect(status).toBe(200);
    const scores = new Bm25Index(DOCUMENTS).score("capital of Germany");
    expect(json).toEqual({
      results: [
        { index: 1, relevance_score: scores[1], document: DOCUMENTS[1] },
        { index: 0, relevance_score: scores[0], document: DOCUMENTS[0] },
      ],
      meta: { model: "bm25" },
    });
  });

  test("a missing model means tei: forwarded to TEI as {query, texts, raw_scores: false}", async () => {
    const { status, json } = await post("/rerank", { query: "Rome", documents: DOCUMENTS, top_n: 1 });
    expect(status).toBe(200);
    expect(json).toMatchObject({ results: [{ index: 2, relevance_score: 1, document: null }], meta: { model: "tei" } });
    expect(tei.requests.at(-1)?.body).toEqual({ query: "Rome", texts: DOCUMENTS, raw_scores: false });
  });

  test("more than 32 documents are sent to TEI in batches and merged", async () => {
    const many = Array.from({ length: 70 }, (_, i) => (i === 65 ? "Rome Italy" : `filler ${i}`));
    const before = tei.requests.length;
    const { json } = await post("/rerank", { model: "tei", query: "Rome Italy", documents: many, top_n: 1 });
    expect(json).toMatchObject({ results: [{ index: 65 }] });
    expect(tei.requests.length - before).toBe(3);
  });

  test("empty documents: empty results and no TEI call", async () => {
    const before = tei.requests.length;
    expect((await post("/rerank", { query: "x", documents: [] })).json).toEqual({
      results: [],
      meta: { model: "tei" },
    });
    expect(tei.requests.length).toBe(before);
  });

  test("our client (service API) works against our server for both models", async () => {
    for (const model of ["tei", "bm25"]) {
      const client = new RerankClient({
        url: server.url,
        api: "service",
        model,
        timeoutSeconds: 5,
        maxRetries: 0,
        concurrency: 2,
      });
      await client.preflight();
      expect((await client.rerank("Berlin Germany", DOCUMENTS, 1))[0]?.index).toBe(1);
    }
  });

  test("TEI failing: retried, then HTTP 500 with a detail naming TEI's URL", async () => {
    tei.faults.push({ kind: "status", status: 500 }, { kind: "status", status: 500 });
    const { status, json } = await post("/rerank", { query: "Rome", documents: DOCUMENTS });
    expect(status).toBe(500);
    expect((json as { detail: string }).detail).toContain(`${tei.url}/rerank`);
  });

  test("TEI down: HTTP 500 saying it cannot reach TEI", async () => {
    const orphan = serve(await closedUrl());
    const { status, json } = await post("/rerank", { query: "Rome", documents: DOCUMENTS }, orphan);
    expect(status).toBe(500);
    expect((json as { detail: string }).detail).toContain("cannot reach TEI reranker");
    expect((json as { detail: string }).detail).toContain("docker compose up tei-reranker");
  });

  test("TEI 500 once, then fine: the request succeeds", async () => {
    tei.faults.push({ kind: "status", status: 503 });
    const { status } = await post("/rerank", { query: "Rome", documents: DOCUMENTS });
    expect(status).toBe(200);
  });

  test("an unknown model is 400 with the served models", async () => {
    const { status, json } = await post("/rerank", { model: "gpt", query: "x", documents: ["a"] });
    expect(status).toBe(400);
    expect((json as { detail: string }).detail).toContain("tei, bm25");
  });
});

describe("rerank server: malformed requests answer 422 like FastAPI", () => {
  test("missing query", async () => {
    const { status, json } = await post("/rerank", { documents: ["a"] });
    expect(status).toBe(422);
    expect(json).toMatchObject({ detail: [{ type: "missing", loc: ["body", "query"], msg: "Field required" }] });
  });

  test("documents not a list, and a non-string document", async () => {
    expect((await post("/rerank", { query: "q", documents: "a" })).json).toMatchObject({
      detail: [{ type: "list_type", loc: ["body", "documents"] }],
    });
    expect((await post("/rerank", { query: "q", documents: ["a", 3] })).json).toMatchObject({
      detail: [{ type: "string_type", loc: ["body", "documents", 1] }],
    });
  });

  test("top_n not an integer; return_documents not a boolean", async () => {
    const { json } = await post("/rerank", { query: "q", documents: ["a"], top_n: 1.5, return_documents: "yes" });
    expect(json).toMatchObject({
      detail: [
        { type: "int_type", loc: ["body", "top_n"] },
        { type: "bool_type", loc: ["body", "return_documents"] },
      ],
    });
  });

  test("a body that is not JSON", async () => {
    const { status, json } = await post("/rerank", "{not json");
    expect(status).toBe(422);
    expect(json).toMatchObject({ detail: [{ type: "json_invalid", loc: ["body", 0] }] });
  });
});

describe("musique serve rerank (command)", () => {
  test("serves /health and stops cleanly on SIGTERM (exit code 0)", async () => {
    const port = Number(new URL(await closedUrl()).port);
    const binary = compiledBinary();
    const command = [...(binary ? [binary] : [process.execPath, MAIN]), "serve", "rerank", "--host", "127.0.0.1"];
    const child = Bun.spawn([...command, "--port", String(port), "--tei-url", tei.url], {
      env: cleanEnv(),
      stdout: "pipe",
      stderr: "pipe",
    });
    let healthy: unknown;
    for (let attempt = 0; attempt < 100 && healthy === undefined; attempt++) {
      try {
        healthy = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
      } catch {
        await Bun.sleep(100);
      }
    }
    expect(healthy).toEqual({ status: "healthy" });
    child.kill("SIGTERM");
    expect(await child.exited).toBe(ExitCode.ok);
    expect(await new Response(child.stderr).text()).toContain("rerank service stopped");
  });

  test("an unknown service name is a usage error", async () => {
    const child = Bun.spawn([process.execPath, MAIN, "serve", "reranker"], { env: cleanEnv(), stderr: "pipe" });
    expect(await child.exited).toBe(ExitCode.usage);
  });
});
