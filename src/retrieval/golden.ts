/**
 * `--retriever golden`: every supporting paragraph in paragraph order. It ignores the query and
 * top_n and needs no service (an upper bound for the rest of the program). Scores are NaN.
 */
import type { Example } from "../data/types.ts";
import { documentsOf, type RankedDocument, type Retriever } from "./types.ts";

export class GoldenRetriever implements Retriever {
  readonly name = "golden";

  retrieve(_query: string, example: Example): Promise<RankedDocument[]> {
    const supporting = documentsOf(example).filter((document) => document.isSupporting);
    return Promise.resolve(supporting.map((document) => ({ ...document, score: Number.NaN })));
  }

  preflight(): Promise<void> {
    return Promise.resolve();
  }
}
