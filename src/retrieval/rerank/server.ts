/**
 * `musique serve rerank`: the reference rerank service's API, served by the tool itself.
 *   POST /rerank {model?, query, documents, top_n?, return_documents?}
 *     → {results: [{index, relevance_score, document}], meta: {model}}, best first
 *     model "bm25": our BM25 over the given documents, in-process;
 *     model "tei" (the default when missing): forwarded to TEI (--tei-url / TEI_RERANK_URL).
 *   GET /health → 200 {"status": "healthy"} when TEI answers its /health, else 503
 *     {"status": "unhealthy", "detail": "…"}; GET /health?model=bm25 does not ask TEI.
 *   GET /models → {"models": [...]}
 * Failures answer HTTP 500 {"detail": "…"}; malformed requests 422 in FastAPI's shape (request.ts);
 * an unknown model 400 {"detail": "…"}.
 *
 * It has no authentication, so it is built to survive what reaches it (README "What happens
 * when…"): a body over the limit is 413 naming the limit (read no further); a body must arrive
 * within a deadline (408) and a connection that sends nothing is closed after an idle timeout; on
 * stop, requests being answered get a drain deadline and connections still sending a request are
 * closed at once.
 */
import { DEFAULTS } from "../../config/defaults.ts";
import { MusiqueError } from "../../errors.ts";
import { log } from "../../log.ts";
import { Bm25Index } from "../bm25/index.ts";
import { RerankClient, type RerankResult } from "./client.ts";
import { jsonIssue, validateRerankRequest, type RerankRequest } from "./request.ts";

const SERVED_MODELS = ["tei", "bm25"] as const;
const DEFAULT_SERVED_MODEL = "tei";
/** TEI refuses more texts per request than its --max-client-batch-size (32 by default). */
const TEI_BATCH_SIZE = 32;

/** What the server tolerates (DEFAULTS.serve*; tests pass smaller values). */
interface ServeLimits {
  /** Largest request body read; a larger one is answered 413. */
  maxBodyBytes: number;
  /** A connection that sends nothing for this long is closed (Bun's idleTimeout, at most 255). */
  idleSeconds: number;
  /** The whole request body must arrive within this (408 otherwise). */
  bodySeconds: number;
  /** On stop, requests being answered may finish within this; then every connection is closed. */
  drainSeconds: number;
  /** GET /health waits this long for TEI's /health. */
  healthSeconds: number;
}

const DEFAULT_LIMITS: ServeLimits = {
  maxBodyBytes: DEFAULTS.serveMaxBodyBytes,
  idleSeconds: DEFAULTS.serveIdleSeconds,
  bodySeconds: DEFAULTS.serveBodySeconds,
  drainSeconds: DEFAULTS.serveDrainSeconds,
  healthSeconds: DEFAULTS.serveHealthSeconds,
};

export interface RerankServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  teiUrl: string;
  /** Seconds per TEI request. */
  timeoutSeconds: number;
  maxRetries?: number;
  concurrency?: number;
  limits?: Partial<ServeLimits>;
}

interface StopReport {
  /** Requests being answered when the drain deadline passed (their connections were closed). */
  cut: number;
  /** Connections closed while still sending their request. */
  unfinished: number;
}

export interface RerankServer {
  url: string;
  port: number;
  /** Requests being answered (body read) and requests still arriving (headers read, body not yet). */
  activity(): { answering: number; receiving: number };
  /**
   * Stop accepting connections, let requests being answered finish (up to the drain deadline),
   * then close every connection, including those still sending a request.
   */
  stop(): Promise<StopReport>;
}

function json(body: unknown, status = 200): Response {
  return Response.json(body, { status });
}

/** An answer to a request whose body was not read to its end: the connection cannot be reused. */
function closing(body: unknown, status: number): Response {
  return Response.json(body, { status, headers: { connection: "close" } });
}

async function rankWithTei(tei: RerankClient, request: RerankRequest, signal: AbortSignal): Promise<RerankResult[]> {
  const results: RerankResult[] = [];
  for (let start = 0; start < request.documents.length; start += TEI_BATCH_SIZE) {
    const batch = request.documents.slice(start, start + TEI_BATCH_SIZE);
    for (const result of await tei.rerank(request.query, batch, undefined, signal)) {
      results.push({ index: start + result.index, score: result.score });
    }
  }
  return results;
}

function rankWithBm25(request: RerankRequest): RerankResult[] {
  const ranking = new Bm25Index(request.documents).rank(request.query);
  return Array.from(ranking.positions, (index, position) => ({ index, score: ranking.scores[position] as number }));
}

function megabytes(bytes: number): string {
  return `${Number((bytes / (1024 * 1024)).toFixed(1))} MiB`;
}

function tooLarge(limits: ServeLimits): Response {
  return closing({ detail: `request body is larger than ${megabytes(limits.maxBodyBytes)}, the limit of musique serve rerank` }, 413);
}

/**
 * The request body as text, or the answer when it cannot be read: 413 past the size limit (from
 * Content-Length before reading anything, or as soon as the bytes received pass it), 408 when it
 * does not arrive within the body deadline, 400 when the client goes away.
 */
async function readBody(request: Request, limits: ServeLimits): Promise<{ text: string } | { response: Response }> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > limits.maxBodyBytes) return { response: tooLarge(limits) };
  if (request.body === null) return { text: "" };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  let complete = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), limits.bodySeconds * 1000)));
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), late]);
      if (next === "late") {
        return { response: closing({ detail: `the request body did not arrive within ${limits.bodySeconds} s` }, 408) };
      }
      if (next.done) {
        complete = true;
        break;
      }
      received += next.value.byteLength;
      if (received > limits.maxBodyBytes) return { response: tooLarge(limits) };
      chunks.push(next.value);
    }
  } catch {
    return { response: closing({ detail: "the connection closed before the request body was complete" }, 400) };
  } finally {
    clearTimeout(timer);
    if (!complete) void reader.cancel().catch(() => {});
  }
  return { text: Buffer.concat(chunks).toString("utf8") };
}

async function handleRerank(text: string, tei: RerankClient, signal: AbortSignal): Promise<Response> {
  let body: unknown;
  try {
    body = JSON.parse(text);
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
    const results = model === "bm25" ? rankWithBm25(rerank) : await rankWithTei(tei, rerank, signal);
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

/** 200 when TEI (the default model's backend) answers its /health in time, else 503 with why. */
async function health(tei: RerankClient, url: URL, options: RerankServerOptions, limits: ServeLimits): Promise<Response> {
  if (url.searchParams.get("model") === "bm25") return json({ status: "healthy" });
  try {
    await tei.preflight(AbortSignal.timeout(limits.healthSeconds * 1000));
    return json({ status: "healthy" });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return json({ status: "unhealthy", detail: `TEI at ${options.teiUrl} (model "tei") is not healthy: ${message}` }, 503);
  }
}

export function startRerankServer(options: RerankServerOptions): RerankServer {
  const limits: ServeLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const tei = new RerankClient({
    url: options.teiUrl,
    api: "tei",
    model: "tei",
    timeoutSeconds: options.timeoutSeconds,
    maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
    concurrency: options.concurrency ?? DEFAULTS.serviceConcurrency,
  });
  /** Aborts the TEI calls of requests cut at the drain deadline. */
  const stopping = new AbortController();
  /** Requests whose body has been read, being answered. */
  let answering = 0;

  async function rerank(request: Request): Promise<Response> {
    const body = await readBody(request, limits);
    if ("response" in body) return body.response;
    // Answering may take as long as TEI needs (--rerank-timeout per batch): no idle cut meanwhile.
    server.timeout(request, 0);
    answering++;
    try {
      return await handleRerank(body.text, tei, stopping.signal);
    } finally {
      answering--;
    }
  }

  async function route(request: Request, url: URL): Promise<Response> {
    const path = url.pathname;
    if (path === "/health") {
      return request.method === "GET" ? health(tei, url, options, limits) : json({ detail: "Method Not Allowed" }, 405);
    }
    if (path === "/models") {
      return request.method === "GET" ? json({ models: [...SERVED_MODELS] }) : json({ detail: "Method Not Allowed" }, 405);
    }
    if (path === "/rerank") {
      return request.method === "POST" ? rerank(request) : json({ detail: "Method Not Allowed" }, 405);
    }
    return json({ detail: "Not Found" }, 404);
  }

  const server = Bun.serve({
    hostname: options.host,
    port: options.port,
    idleTimeout: Math.min(255, Math.max(1, Math.round(limits.idleSeconds))),
    // readBody enforces the limit with a 413 that names it; Bun's own limit would answer without.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    async fetch(request) {
      const started = performance.now();
      // An HTTP/1.0 request without Host (the Docker health check's) has a relative URL.
      const url = new URL(request.url, "http://localhost");
      let response: Response;
      try {
        response = await route(request, url);
      } catch (error) {
        response = json({ detail: error instanceof Error ? error.message : String(error) }, 500);
      }
      log.debug(`${request.method} ${url.pathname} → ${response.status} in ${Math.round(performance.now() - started)} ms`);
      return response;
    },
  });
  const port = server.port ?? options.port;
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "localhost" : options.host;

  function activity(): { answering: number; receiving: number } {
    return { answering, receiving: Math.max(0, server.pendingRequests - answering) };
  }

  async function stop(): Promise<StopReport> {
    const graceful = server.stop(false);
    const deadline = performance.now() + limits.drainSeconds * 1000;
    while (answering > 0 && performance.now() < deadline) await Bun.sleep(20);
    const report = { cut: answering, unfinished: activity().receiving };
    stopping.abort();
    await server.stop(true);
    await graceful;
    return report;
  }

  return { url: `http://${shownHost}:${port}`, port, activity, stop };
}
