/**
 * A fake Hugging Face text-embeddings-inference (TEI) reranker on 127.0.0.1, speaking TEI's
 * wire format: POST /rerank {query, texts, raw_scores} → [{index, score}] best first; GET /health.
 * Scores are deterministic (shared words), and faults can be queued per request, or drawn from
 * a seeded schedule (test/fakes/schedule.ts) when the queue is empty.
 */
import type { FaultSchedule } from "./schedule.ts";

/** One injected fault, used by the next matching request. */
export type Fault =
  | { kind: "status"; status: number; body?: string; headers?: Record<string, string> }
  /** 200 with this raw body (not JSON, or JSON of the wrong shape). */
  | { kind: "body"; body: string }
  /** Wait this long, then answer normally. */
  | { kind: "delay"; ms: number }
  /** Close the connection without an answer (ECONNRESET on the client). */
  | { kind: "reset" };

interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface FakeServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Faults for scoring routes, used first in first out. */
  faults: Fault[];
  /** Faults for GET /health. */
  healthFaults: Fault[];
  /** Most requests the fake was handling at once. */
  readonly peakConcurrency: number;
  stop(): Promise<void>;
}

/**
 * Serve `answer` on 127.0.0.1: every request is recorded (with its JSON body) and counted while in
 * flight; `answer` gets the fake's own fault queues. Shared by the TEI and rerank fakes.
 */
export function serveFake(answer: (request: Request, body: unknown, queues: { faults: Fault[]; healthFaults: Fault[] }) => Promise<Response>): FakeServer {
  const requests: RecordedRequest[] = [];
  const queues = { faults: [] as Fault[], healthFaults: [] as Fault[] };
  const state = { inFlight: 0, peak: 0 };
  const fetch = async (request: Request) => {
    state.inFlight++;
    state.peak = Math.max(state.peak, state.inFlight);
    try {
      return await answer(request, await record(request, requests), queues);
    } finally {
      state.inFlight--;
    }
  };
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, fetch });
  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port ?? 0,
    requests,
    faults: queues.faults,
    healthFaults: queues.healthFaults,
    get peakConcurrency() {
      return state.peak;
    },
    stop: () => server.stop(true),
  };
}

/** Deterministic relevance: the share of the query's words (≥ 3 letters) found in the text. */
function overlapScore(query: string, text: string): number {
  const words = (value: string) => value.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? [];
  const queryWords = new Set(words(query));
  if (queryWords.size === 0) return 0;
  const textWords = new Set(words(text));
  let shared = 0;
  for (const word of queryWords) if (textWords.has(word)) shared++;
  return shared / queryWords.size;
}

/** Apply a queued fault; returns a Response to send instead, or undefined to answer normally. */
export async function applyFault(queue: Fault[], schedule?: FaultSchedule<Fault>): Promise<Response | undefined> {
  const fault = queue.shift() ?? schedule?.next();
  if (fault === undefined) return undefined;
  if (fault.kind === "delay") {
    await Bun.sleep(fault.ms);
    return undefined;
  }
  if (fault.kind === "reset") return new Response(new ReadableStream({ start: (controller) => controller.error() }));
  if (fault.kind === "body") return new Response(fault.body, { headers: { "content-type": "application/json" } });
  return new Response(fault.body ?? JSON.stringify({ error: "injected failure" }), {
    status: fault.status,
    headers: { "content-type": "application/json", ...fault.headers },
  });
}

async function record(request: Request, requests: RecordedRequest[]): Promise<unknown> {
  const text = request.method === "GET" ? "" : await request.text();
  let body: unknown = text;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    // keep the raw text
  }
  requests.push({
    method: request.method,
    path: new URL(request.url).pathname,
    headers: Object.fromEntries(request.headers.entries()),
    body,
  });
  return body;
}

/** Scored results best first, ties by lower index. */
export function rankTexts(query: string, texts: readonly string[], score = overlapScore) {
  return texts.map((text, index) => ({ index, score: score(query, text) })).sort((left, right) => right.score - left.score || left.index - right.index);
}

export function startFakeTei(options: { score?: (query: string, text: string) => number; schedule?: FaultSchedule<Fault> } = {}): FakeServer {
  return serveFake(async (request, body, { faults, healthFaults }) => {
    const path = new URL(request.url).pathname;
    if (path === "/health" && request.method === "GET") {
      return (await applyFault(healthFaults)) ?? new Response("", { status: 200 });
    }
    if (path === "/rerank" && request.method === "POST") {
      const injected = await applyFault(faults, options.schedule);
      if (injected) return injected;
      const input = body as { query?: unknown; texts?: unknown };
      if (typeof input?.query !== "string" || !Array.isArray(input.texts)) {
        return Response.json({ error: "Json deserialize error", error_type: "Validation" }, { status: 422 });
      }
      if (input.texts.length > 32) {
        return Response.json({ error: "batch size > 32", error_type: "Validation" }, { status: 413 });
      }
      return Response.json(rankTexts(input.query, input.texts as string[], options.score));
    }
    return new Response("Not Found", { status: 404 });
  });
}

/** A URL on 127.0.0.1 where nothing listens (connection refused). */
export async function closedUrl(): Promise<string> {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = server.port;
  await server.stop(true);
  return `http://127.0.0.1:${port}`;
}
