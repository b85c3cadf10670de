/**
 * A fake of the reference rerank service on 127.0.0.1 (POST /rerank {model, query, documents,
 * top_n, return_documents} → {results: [{index, relevance_score, document}], meta}; GET /health;
 * GET /models) that also answers the Cohere-style POST /v1/rerank. Optional API key check
 * (401 without `Authorization: Bearer <key>`), deterministic scores, queued faults, and an
 * optional seeded fault schedule for the rerank routes (`schedule`, see test/fakes/schedule.ts).
 */
import type { FaultSchedule } from "./schedule.ts";
import { applyFault, rankTexts, serveFake, type Fault, type FakeServer } from "./tei.ts";

export interface FakeRerankOptions {
  apiKey?: string;
  score?: (query: string, text: string) => number;
  /** Seeded random faults for POST /rerank and /v1/rerank, drawn when `faults` is empty. */
  schedule?: FaultSchedule<Fault>;
}

export function startFakeRerank(options: FakeRerankOptions = {}): FakeServer {
  return serveFake(async (request, body, { faults, healthFaults }) => {
    const path = new URL(request.url).pathname;
    if (options.apiKey !== undefined && request.headers.get("authorization") !== `Bearer ${options.apiKey}`) {
      return Response.json({ detail: "invalid API key" }, { status: 401 });
    }
    if (path === "/health" && request.method === "GET") {
      return (await applyFault(healthFaults)) ?? Response.json({ status: "healthy" });
    }
    if (path === "/models" && request.method === "GET") return Response.json({ models: ["tei", "bm25"] });
    if ((path === "/rerank" || path === "/v1/rerank") && request.method === "POST") {
      const injected = await applyFault(faults, options.schedule);
      if (injected) return injected;
      const input = body as { model?: unknown; query?: unknown; documents?: unknown; top_n?: unknown };
      if (typeof input?.query !== "string" || !Array.isArray(input.documents)) {
        return Response.json({ detail: [{ type: "missing", loc: ["body", "query"], msg: "Field required" }] }, { status: 422 });
      }
      const documents = input.documents as string[];
      const ranked = rankTexts(input.query, documents, options.score);
      const kept = typeof input.top_n === "number" ? ranked.slice(0, input.top_n) : ranked;
      if (path === "/v1/rerank") {
        return Response.json({
          results: kept.map((result) => ({ index: result.index, relevance_score: result.score })),
        });
      }
      return Response.json({
        results: kept.map((result) => ({ index: result.index, relevance_score: result.score, document: null })),
        meta: { model: typeof input.model === "string" ? input.model : "tei" },
      });
    }
    return Response.json({ detail: "Not Found" }, { status: 404 });
  });
}
