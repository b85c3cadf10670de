/**
 * BM25 over one small corpus (a question's own paragraphs), bm25s style: documents are
 * tokenised once into term ids, and each (term, document) weight
 * idf(t) · tf / (tf + k1·(1 − b + b·|d|/avgdl)) is precomputed into flat typed arrays. Scoring a
 * query is then one table lookup per query token and a few additions; no objects are created
 * in the loop. Lucene variant, k1 = 1.5, b = 0.75, idf = ln(1 + (N − df + 0.5)/(df + 0.5)).
 */
import { termIds } from "./tokenize.ts";

export const BM25_K1 = 1.5;
export const BM25_B = 0.75;

export interface Bm25Ranking {
  /** Document positions, best first (ties: lower position first). */
  positions: Int32Array;
  /** Scores in the same order. */
  scores: Float64Array;
}

export class Bm25Index {
  /** Number of documents. */
  readonly size: number;
  /** global term id → local term id (only terms that occur in the corpus). */
  private readonly localIds: Map<number, number>;
  /** Postings of local term t: entries postingStart[t] … postingStart[t+1] − 1. */
  private readonly postingStart: Int32Array;
  private readonly postingDocument: Int32Array;
  private readonly postingWeight: Float64Array;

  constructor(texts: readonly string[]) {
    this.size = texts.length;
    const documents = texts.map((text) => termIds(text));
    let totalLength = 0;
    for (const terms of documents) totalLength += terms.length;
    const averageLength = documents.length === 0 ? 0 : totalLength / documents.length;

    // Local vocabulary and document frequencies.
    const localIds = new Map<number, number>();
    const documentFrequency: number[] = [];
    const lastSeenIn: number[] = [];
    for (let d = 0; d < documents.length; d++) {
      const terms = documents[d] as Int32Array;
      for (let i = 0; i < terms.length; i++) {
        const globalId = terms[i] as number;
        let local = localIds.get(globalId);
        if (local === undefined) {
          local = documentFrequency.length;
          localIds.set(globalId, local);
          documentFrequency.push(0);
          lastSeenIn.push(-1);
        }
        if (lastSeenIn[local] !== d) {
          lastSeenIn[local] = d;
          documentFrequency[local] = (documentFrequency[local] as number) + 1;
        }
      }
    }
    const vocabularySize = documentFrequency.length;
    const postingStart = new Int32Array(vocabularySize + 1);
    for (let t = 0; t < vocabularySize; t++) {
      postingStart[t + 1] = (postingStart[t] as number) + (documentFrequency[t] as number);
    }
    const postingCount = postingStart[vocabularySize] as number;
    const postingDocument = new Int32Array(postingCount);
    const postingWeight = new Float64Array(postingCount);
    const fill = postingStart.slice(0, vocabularySize);

    // Term frequencies per document, then weights, written in document order per term.
    const frequency = new Int32Array(vocabularySize);
    const touched = new Int32Array(vocabularySize);
    const n = documents.length;
    for (let d = 0; d < n; d++) {
      const terms = documents[d] as Int32Array;
      let touchedCount = 0;
      for (let i = 0; i < terms.length; i++) {
        const local = localIds.get(terms[i] as number) as number;
        if (frequency[local] === 0) touched[touchedCount++] = local;
        frequency[local] = (frequency[local] as number) + 1;
      }
      const norm = averageLength === 0 ? 1 : 1 - BM25_B + (BM25_B * terms.length) / averageLength;
      for (let j = 0; j < touchedCount; j++) {
        const local = touched[j] as number;
        const tf = frequency[local] as number;
        const df = documentFrequency[local] as number;
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        const slot = fill[local] as number;
        fill[local] = slot + 1;
        postingDocument[slot] = d;
        postingWeight[slot] = idf * (tf / (tf + BM25_K1 * norm));
        frequency[local] = 0;
      }
    }
    this.localIds = localIds;
    this.postingStart = postingStart;
    this.postingDocument = postingDocument;
    this.postingWeight = postingWeight;
  }

  /** BM25 score of every document for `query` (by position). */
  score(query: string): Float64Array {
    const scores = new Float64Array(this.size);
    const queryTerms = termIds(query);
    for (let q = 0; q < queryTerms.length; q++) {
      const local = this.localIds.get(queryTerms[q] as number);
      if (local === undefined) continue; // unknown query terms are ignored
      const end = this.postingStart[local + 1] as number;
      for (let p = this.postingStart[local] as number; p < end; p++) {
        const document = this.postingDocument[p] as number;
        scores[document] = (scores[document] as number) + (this.postingWeight[p] as number);
      }
    }
    return scores;
  }

  /** The `topN` best documents for `query` (all when topN ≥ size), ties by lower position. */
  rank(query: string, topN: number = this.size): Bm25Ranking {
    const scores = this.score(query);
    const order = new Int32Array(this.size);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((left, right) => (scores[right] as number) - (scores[left] as number) || left - right);
    const count = Math.max(0, Math.min(Math.floor(topN), this.size));
    const positions = order.slice(0, count);
    const ranked = new Float64Array(count);
    for (let i = 0; i < count; i++) ranked[i] = scores[positions[i] as number] as number;
    return { positions, scores: ranked };
  }
}
