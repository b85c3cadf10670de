/**
 * From retrieval options (the keys of retrievalEntries in src/config/schemas.ts) to a Retriever.
 */
import { DEFAULTS } from "../config/defaults.ts";
import { type RerankApi, type RetrieverName } from "./names.ts";
import { GoldenRetriever } from "./golden.ts";
import { HybridRetriever } from "./hybrid.ts";
import { LexicalRetriever } from "./lexical.ts";
import { RerankClient, type RerankClientOptions } from "./rerank/client.ts";
import { SemanticRetriever } from "./semantic.ts";
import type { Retriever } from "./types.ts";

export interface RetrieverOptions {
  retriever: RetrieverName;
  rerankUrl?: string;
  rerankApi?: RerankApi;
  rerankModel?: string;
  rerankApiKey?: string;
  /** Seconds per rerank request (`--rerank-timeout`). */
  rerankTimeout?: number;
  maxRetries?: number;
  /** Rerank requests in flight at once. */
  concurrency?: number;
  /** Backoff overrides for tests. */
  retry?: RerankClientOptions["retry"];
}

function createRerankClient(options: Omit<RetrieverOptions, "retriever">): RerankClient {
  return new RerankClient({
    url: options.rerankUrl ?? DEFAULTS.rerankUrl,
    api: options.rerankApi ?? "service",
    model: options.rerankModel ?? DEFAULTS.rerankModel,
    ...(options.rerankApiKey ? { apiKey: options.rerankApiKey } : {}),
    timeoutSeconds: options.rerankTimeout ?? DEFAULTS.rerankTimeoutSeconds,
    maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
    concurrency: options.concurrency ?? DEFAULTS.serviceConcurrency,
    ...(options.retry ? { retry: options.retry } : {}),
  });
}

export function createRetriever(options: RetrieverOptions): Retriever {
  switch (options.retriever) {
    case "lexical":
      return new LexicalRetriever();
    case "golden":
      return new GoldenRetriever();
    case "semantic":
      return new SemanticRetriever(createRerankClient(options));
    case "hybrid":
      return new HybridRetriever(new SemanticRetriever(createRerankClient(options)), new LexicalRetriever());
  }
}
