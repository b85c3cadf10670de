/**
 * `musique serve rerank`: the reference rerank service's API, served by the tool itself.
 *   POST /rerank {model?, query, documents, top_n?, return_documents?}
 *     → {results: [{index, relevance_score, document}], meta: {model}}, best first
 *     model "bm25": our BM25 over the given documents, in-process;
 *     model "tei" (the default when missing): forwarded to TEI (--tei-url / TEI_RERANK_URL).
 *   GET /health → {"status": "healthy"};  GET /models → {"models": [...]}
 * Failures answer HTTP 500 {"detail": "…"}; malformed requests 422 in FastAPI's shape; an
 * unknown model 400 {"detail": "…"}.
 */
import { DEFAULTS } from "../../config/defaults.ts";
import { MusiqueError } from "../../errors.ts";
import { log } from "../../log.ts";
import { Bm25Index } from "../bm25/index.ts";
import { RerankClient, type RerankResult } from "./client.ts";
import { jsonIssue, validateRerankRequest, type RerankRequest } from "./request.ts";

export const SERVED_MODELS = ["tei", "bm25"] as const;
export const DEFAULT_SERVED_MODEL = "tei";
/** TEI refuses more texts per request than its --max-client-batch-size (32 by default). */
export const TEI_BATCH_SIZE = 32;

export interface RerankServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  teiUrl: string;
  /** Seconds per TEI request. */
  timeoutSeconds: number;
  maxRetries?: number;
  concurrency?: number;
}

export interface RerankServer {
  url: string;
  port: number;
  /** Stop accepting connections and wait for requests in flight. */
  stop(): Promise<void>;
}

function json(body: unknown, status = 200): Response {
  return Response.json(body, { status });
}

async function rankWithTei(tei: RerankClient, request: RerankRequest): Promise<RerankResult[]> {
  const results: RerankResult[] = [];
  for (let start = 0; start < request.documents.length; start += TEI_BATCH_SIZE) {
    const batch = request.documents.slice(start, start + TEI_BATCH_SIZE);
    for (const result of await tei.rerank(request.query, batch)) {
      results.push({ index: start + result.index, score: result.score });
    }
  }
  return results;
}

function rankWithBm25(request: RerankRequest): RerankResult[] {
  const ranking = new Bm25Index(request.documents).rank(request.query);
  return Array.from(ranking.positions, (index, position) => ({ index, score: ranking.scores[position] as number }));
}

async function handleRerank(request: Request, tei: RerankClient): Promise<Response> {
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch {
    return json({ detail: [jsonIssue()] }, 422);
  }
  const validated = validateRerankRequest(body);
  if (!validated.ok) return json({ detail: validated.issues }, 422);
  const rerank = validated.request;
  const model = rerank.model ?? DEFAULT_SERVED_MODEL;
  if (!(SERVED_MODELS as readonly string[]).includes(model)) {
    return json({ detail: `unknown model "${model}"; this service serves: ${SERVED_MODELS.join(", ")}` }, 400);
  }
  try {
    const results = model === "bm25" ? rankWithBm25(rerank) : await rankWithTei(tei, rerank);
    results.sort((left, right) => right.score - left.score || left.index - right.index);
    const kept = rerank.topN === undefined ? results : results.slice(0, rerank.topN);
    return json({
      results: kept.map((result) => ({
        index: result.index,
        relevance_score: result.score,
        document: rerank.returnDocuments ? rerank.documents[result.index] : null,
      })),
      meta: { model },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const fix = error instanceof MusiqueError && error.fix ? ` (fix: ${error.fix})` : "";
    log.warn(`rerank (${model}) failed: ${message}`);
    return json({ detail: message + fix }, 500);
  }
}

export function startRerankServer(options: RerankServerOptions): RerankServer {
  const tei = new RerankClient({
    url: options.teiUrl,
    api: "tei",
    model: "tei",
    timeoutSeconds: options.timeoutSeconds,
    maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
    concurrency: options.concurrency ?? DEFAULTS.concurrency,
  });

  async function route(request: Request, path: string): Promise<Response> {
    if (path === "/health") {
      return request.method === "GET" ? json({ status: "healthy" }) : json({ detail: "Method Not Allowed" }, 405);
    }
    if (path === "/models") {
      return request.method === "GET"
        ? json({ models: [...SERVED_MODELS] })
        : json({ detail: "Method Not Allowed" }, 405);
    }
    if (path === "/rerank") {
      return request.method === "POST" ? handleRerank(request, tei) : json({ detail: "Method Not Allowed" }, 405);
    }
    return json({ detail: "Not Found" }, 404);
  }

  const server = Bun.serve({
    hostname: options.host,
    port: options.port,
    // TEI may take up to --rerank-timeout per batch; keep the client's connection open meanwhile.
    idleTimeout: 0,
    async fetch(request) {
      const started = performance.now();
      const path = new URL(request.url).pathname;
      let response: Response;
      try {
        response = await route(request, path);
      } catch (error) {
        response = json({ detail: error instanceof Error ? error.message : String(error) }, 500);
      }
      log.debug(`${request.method} ${path} → ${response.status} in ${Math.round(performance.now() - started)} ms`);
      return response;
    },
  });
  const port = server.port ?? options.port;
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "localhost" : options.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    stop: () => server.stop(false),
  };
}
