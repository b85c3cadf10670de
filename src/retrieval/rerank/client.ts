/**
 * Client for cross-encoder reranking over HTTP, speaking one of three APIs (`--rerank-api`):
 *   service  POST {url}/rerank    {model, query, documents, top_n, return_documents}
 *            → {results: [{index, relevance_score, document}], meta}   (the reference service)
 *   tei      POST {url}/rerank    {query, texts, raw_scores: false} → [{index, score}]
 *   cohere   POST {url}/v1/rerank {model, query, documents, top_n} → {results: [{index, relevance_score}]}
 * Every request goes through the one retry policy (withRetries + fetchOrThrow) and a Limiter.
 * A 2xx answer whose body is not the expected shape is a retryable ServiceError.
 *
 * Edge cases (defined here, so every caller behaves the same):
 *   - no documents: no request, no results;
 *   - an empty (blank) query: no request; every document scores 0, so the ranking is paragraph
 *     order, the same ranking BM25 gives a query without terms.
 */
import type { RerankApi } from "../names.ts";
import { ServiceError } from "../../errors.ts";
import { Limiter } from "../../http/limit.ts";
import { fetchOrThrow } from "../../http/fetch.ts";
import { rerankLimitBytes } from "../../http/limits.ts";
import { withRetries, type RetryPolicy } from "../../http/retry.ts";
import { log, retryLog } from "../../log.ts";
import { parseRerankBody } from "./parse.ts";

export interface RerankClientOptions {
  url: string;
  api: RerankApi;
  /** Sent as `model` to the service and cohere APIs (TEI serves one model and takes none). */
  model: string;
  apiKey?: string;
  timeoutSeconds: number;
  maxRetries: number;
  concurrency: number;
  /** Backoff overrides (tests); the policy itself stays the one in src/http/retry.ts. */
  retry?: Pick<RetryPolicy, "initialDelayMs" | "maxDelayMs" | "random">;
}

export interface RerankResult {
  /** Position in the documents sent. */
  index: number;
  score: number;
}

/** Seconds a preflight health check may take before it fails. */
const PREFLIGHT_TIMEOUT_SECONDS = 5;

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** What to tell the user when the rerank service fails. */
function rerankFix(api: RerankApi): string {
  if (api === "cohere") return "check --rerank-url and --rerank-api-key (RERANK_API_KEY), or use --retriever lexical";
  if (api === "tei") return "start TEI with `docker compose up tei-reranker` (in a folder `musique init` set up), or use --retriever lexical";
  return "start it with `docker compose up rerank` in a folder `musique init` set up (TEI behind it needs a GPU), or use --retriever lexical";
}

/** Best first; equal scores keep the lower index first. */
function sortResults(results: RerankResult[]): RerankResult[] {
  return results.sort((left, right) => right.score - left.score || left.index - right.index);
}

export class RerankClient {
  readonly url: string;
  readonly endpoint: string;
  private readonly limiter: Limiter;
  private readonly service: string;

  constructor(private readonly options: RerankClientOptions) {
    this.url = trimSlash(options.url);
    this.endpoint = this.url + (options.api === "cohere" ? "/v1/rerank" : "/rerank");
    this.limiter = new Limiter(options.concurrency);
    this.service = options.api === "tei" ? "TEI reranker" : "rerank service";
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    return headers;
  }

  private body(query: string, documents: readonly string[], topN: number): unknown {
    const { api, model } = this.options;
    if (api === "tei") return { query, texts: documents, raw_scores: false };
    if (api === "cohere") return { model, query, documents, top_n: topN };
    return { model, query, documents, top_n: topN, return_documents: false };
  }

  private async post(body: unknown, count: number, timeoutSeconds: number, maxRetries: number, signal?: AbortSignal) {
    const requestBody = JSON.stringify(body);
    const { value } = await withRetries(
      async () => {
        const response = await fetchOrThrow(
          this.endpoint,
          {
            method: "POST",
            headers: this.headers(),
            body: requestBody,
            timeoutMs: timeoutSeconds * 1000,
            service: this.service,
            timeoutFlag: "--rerank-timeout",
            fix: rerankFix(this.options.api),
            maxBodyBytes: rerankLimitBytes(Buffer.byteLength(requestBody)),
            retryMalformed: true,
          },
          signal,
        );
        const text = await response.text();
        return parseRerankBody(this.options.api, text, count, { service: this.service, url: this.endpoint });
      },
      {
        maxRetries,
        ...this.options.retry,
        onRetry: retryLog.onRetry,
      },
      signal,
    );
    return value;
  }

  /**
   * Rank `documents` for `query`: at most `topN` results (all when omitted), best first.
   * Indexes refer to `documents`.
   */
  async rerank(query: string, documents: readonly string[], topN?: number, signal?: AbortSignal): Promise<RerankResult[]> {
    const wanted = Math.max(0, Math.min(topN ?? documents.length, documents.length));
    if (documents.length === 0 || wanted === 0) return [];
    if (query.trim() === "") {
      return Array.from({ length: wanted }, (_, index) => ({ index, score: 0 }));
    }
    const started = performance.now();
    const results = await this.limiter.run(() =>
      this.post(this.body(query, documents, wanted), documents.length, this.options.timeoutSeconds, this.options.maxRetries, signal),
    );
    log.debug(`${this.service}: ranked ${documents.length} documents in ${Math.round(performance.now() - started)} ms`);
    return sortResults(results).slice(0, wanted);
  }

  /**
   * Fail within seconds if the service is not there: GET /health for service and tei, a
   * one-document rerank for cohere (which has no health route). The service is asked about the
   * model this client will use (`/health?model=…`): `musique serve rerank` then checks only that
   * model's backend, so `--rerank-model bm25` works while TEI is down.
   */
  async preflight(signal?: AbortSignal): Promise<void> {
    const timeoutSeconds = Math.min(PREFLIGHT_TIMEOUT_SECONDS, this.options.timeoutSeconds);
    try {
      if (this.options.api === "cohere") {
        await this.post(this.body("ping", ["ping"], 1), 1, timeoutSeconds, 0, signal);
        return;
      }
      const health = this.options.api === "service" ? `/health?model=${encodeURIComponent(this.options.model)}` : "/health";
      await fetchOrThrow(
        this.url + health,
        {
          method: "GET",
          headers: this.headers(),
          timeoutMs: timeoutSeconds * 1000,
          service: this.service,
          timeoutFlag: "--rerank-timeout",
          fix: rerankFix(this.options.api),
          maxBodyBytes: rerankLimitBytes(0),
        },
        signal,
      ).then((response) => response.discard());
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      throw error.reworded(`${this.service} is not available at ${error.url}`, {
        cause: error.hint ? `${error.message} (${error.hint})` : error.message,
        fix: rerankFix(this.options.api),
      });
    }
  }
}
