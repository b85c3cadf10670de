/**
 * The retrieval vocabulary (retrieval.md): the retriever names `--retriever` takes and the rerank
 * APIs `--rerank-api` speaks. Owned here, built into flag schemas by src/config; imports nothing,
 * so every layer (config included) may import it.
 */
export const RETRIEVERS = ["lexical", "semantic", "hybrid", "golden"] as const;
export type RetrieverName = (typeof RETRIEVERS)[number];
/** Other names accepted for a retriever: BM25 is what `lexical` is. */
export const RETRIEVER_ALIASES: Readonly<Record<string, RetrieverName>> = { bm25: "lexical" };

export const RERANK_APIS = ["service", "tei", "cohere"] as const;
export type RerankApi = (typeof RERANK_APIS)[number];
