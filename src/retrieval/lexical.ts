/**
 * `--retriever lexical`: BM25 (bm25/index.ts) over the example's own paragraphs, top_n best.
 * A retriever owns its built indexes: the index of a corpus is built once and kept by its
 * paragraph list (noise filtering makes a new list, so a filtered corpus gets its own index).
 * Below that, its tokenizer (bm25/tokenize.ts; the process-wide one unless given) caches each
 * paragraph text's tokens, so a new list of paragraphs seen before builds fast.
 */
import type { Example, Paragraph } from "../data/types.ts";
import { Bm25Index } from "./bm25/index.ts";
import { defaultTokenizer, type Bm25ResetOptions, type Bm25Tokenizer } from "./bm25/tokenize.ts";
import { documentsOf, type Document, type RankedDocument, type Retriever } from "./types.ts";

interface CorpusEntry {
  /** Paragraph count when built; a list changed in place gets rebuilt. */
  length: number;
  documents: Document[];
  index: Bm25Index;
}

export class LexicalRetriever implements Retriever {
  readonly name = "lexical";
  private corpora = new WeakMap<readonly Paragraph[], CorpusEntry>();

  constructor(readonly tokenizer: Bm25Tokenizer = defaultTokenizer) {}

  /** The documents of `example` and their BM25 index (built once per paragraph list). */
  corpusOf(example: Example): { documents: Document[]; index: Bm25Index } {
    const cached = this.corpora.get(example.paragraphs);
    if (cached !== undefined && cached.length === example.paragraphs.length) return cached;
    const documents = documentsOf(example);
    const entry: CorpusEntry = {
      length: documents.length,
      documents,
      index: new Bm25Index(
        documents.map((document) => document.text),
        this.tokenizer,
      ),
    };
    this.corpora.set(example.paragraphs, entry);
    return entry;
  }

  /** BM25 ranking of the example's documents for `query`: at most `topN`, best first. */
  rank(query: string, example: Example, topN: number): RankedDocument[] {
    const { documents, index } = this.corpusOf(example);
    const ranking = index.rank(query, topN);
    const ranked: RankedDocument[] = [];
    for (let i = 0; i < ranking.positions.length; i++) {
      const document = documents[ranking.positions[i] as number] as Document;
      ranked.push({ ...document, score: ranking.scores[i] as number });
    }
    return ranked;
  }

  retrieve(query: string, example: Example, topN: number): Promise<RankedDocument[]> {
    return Promise.resolve(this.rank(query, example, topN));
  }

  preflight(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Forget the built indexes and the tokenizer's cached paragraphs (with `{ vocabulary: true }`
   * its word table too), so the next ranking of any example starts from its text.
   */
  reset(options: Bm25ResetOptions = {}): void {
    this.corpora = new WeakMap();
    this.tokenizer.reset(options);
  }
}
