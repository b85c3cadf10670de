/**
 * `--retriever semantic`: the rerank service (a cross-encoder) ranks the example's own
 * paragraphs for the query; top_n best. Scores are the service's relevance scores.
 */
import type { Example } from "../data/types.ts";
import type { RerankClient } from "./rerank/client.ts";
import { documentsOf, type Document, type RankedDocument, type Retriever } from "./types.ts";

export class SemanticRetriever implements Retriever {
  readonly name = "semantic";

  constructor(private readonly client: RerankClient) {}

  async retrieve(query: string, example: Example, topN: number, signal?: AbortSignal): Promise<RankedDocument[]> {
    const documents = documentsOf(example);
    const results = await this.client.rerank(
      query,
      documents.map((document) => document.text),
      topN,
      signal,
    );
    return results.map((result) => ({ ...(documents[result.index] as Document), score: result.score }));
  }

  preflight(signal?: AbortSignal): Promise<void> {
    return this.client.preflight(signal);
  }
}
