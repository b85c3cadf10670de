/**
 * `--retriever lexical`: BM25 (bm25/index.ts) over the example's own paragraphs, top_n best.
 * The index of a corpus is built once and cached by its paragraph list; noise filtering makes
 * a new list, so a filtered corpus gets its own index. Below that, each paragraph text's tokens
 * are cached (bounded, bm25/tokenize.ts), so a new list of paragraphs seen before builds fast.
 */
import type { Example, Paragraph } from "../data/types.ts";
import { Bm25Index } from "./bm25/index.ts";
import { clearBm25Caches, type Bm25CacheOptions } from "./bm25/tokenize.ts";
import { documentsOf, type Document, type RankedDocument, type Retriever } from "./types.ts";

interface CorpusEntry {
  /** Paragraph count when built; a list changed in place gets rebuilt. */
  length: number;
  documents: Document[];
  index: Bm25Index;
}

let corpora = new WeakMap<readonly Paragraph[], CorpusEntry>();

/**
 * Forget every built index and the cached paragraphs (bm25/tokenize.ts; with `{ vocabulary: true }`
 * also the word table), so the next ranking of any example starts from its text. For benchmarks and tests.
 */
export function clearLexicalCaches(options: Bm25CacheOptions = {}): void {
  corpora = new WeakMap();
  clearBm25Caches(options);
}

/** The documents of `example` and their BM25 index (built once per paragraph list). */
export function corpusOf(example: Example): { documents: Document[]; index: Bm25Index } {
  const cached = corpora.get(example.paragraphs);
  if (cached !== undefined && cached.length === example.paragraphs.length) return cached;
  const documents = documentsOf(example);
  const entry: CorpusEntry = {
    length: documents.length,
    documents,
    index: new Bm25Index(documents.map((document) => document.text)),
  };
  corpora.set(example.paragraphs, entry);
  return entry;
}

/** BM25 ranking of the example's documents for `query`: at most `topN`, best first. */
export function rankLexical(query: string, example: Example, topN: number): RankedDocument[] {
  const { documents, index } = corpusOf(example);
  const ranking = index.rank(query, topN);
  const ranked: RankedDocument[] = [];
  for (let i = 0; i < ranking.positions.length; i++) {
    const document = documents[ranking.positions[i] as number] as Document;
    ranked.push({ ...document, score: ranking.scores[i] as number });
  }
  return ranked;
}

export class LexicalRetriever implements Retriever {
  readonly name = "lexical";

  retrieve(query: string, example: Example, topN: number): Promise<RankedDocument[]> {
    return Promise.resolve(rankLexical(query, example, topN));
  }

  preflight(): Promise<void> {
    return Promise.resolve();
  }
}
