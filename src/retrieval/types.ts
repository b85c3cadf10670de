/**
 * What every retriever returns: documents of the question's own paragraphs, best first.
 * See ../shared/docs/retrieval.md (copied rules in docs/SPEC-NOTES.md).
 */
import type { Example } from "../data/types.ts";

export interface Document {
  /** The paragraph's original idx as a string ("0"…"19"). */
  id: string;
  title: string;
  /** fix_quotes(paragraph_text). */
  body: string;
  /** "# " + title + "\n" + body: what lexical and semantic ranking see. */
  text: string;
  isSupporting: boolean;
}

export interface RankedDocument extends Document {
  /** Retriever score (BM25 score, reranker relevance); NaN for golden. */
  score: number;
}

export interface Retriever {
  readonly name: string;
  /** Rank the example's own paragraphs for `query` and return at most `topN`, best first. */
  retrieve(query: string, example: Example, topN: number, signal?: AbortSignal): Promise<RankedDocument[]>;
  /** Fail fast (seconds) with a clear message if a service this retriever needs is not reachable. */
  preflight(signal?: AbortSignal): Promise<void>;
}

export function documentsOf(example: Example): Document[] {
  return example.paragraphs.map((paragraph) => ({
    id: String(paragraph.idx),
    title: paragraph.title,
    body: paragraph.text,
    text: `# ${paragraph.title}\n${paragraph.text}`,
    isSupporting: paragraph.isSupporting,
  }));
}

/** How documents are shown to the language model (program.md §3). "" when nothing is retrieved. */
export function formatDocuments(documents: readonly Document[]): string {
  return documents.map((document) => `Document ID: ${document.id}\n${document.text}`).join("\n\n");
}
