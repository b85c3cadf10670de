/**
 * BM25 over one small corpus (a question's own paragraphs), bm25s style: documents become bags
 * of term ids (tokenize.ts; cached per paragraph text), and each (term, document) weight
 * idf(t) · tf / (tf + k1·(1 − b + b·|d|/avgdl)) is precomputed into flat typed arrays. Scoring a
 * query is then one table lookup per query token and a few additions; no objects are created
 * in the loop. Lucene variant, k1 = 1.5, b = 0.75, idf = ln(1 + (N − df + 0.5)/(df + 0.5)).
 *
 * Building: global term ids are numbered densely per corpus (local ids) through a scratch array
 * indexed by global id, owned by the tokenizer (tokenize.ts) and reset after each build, so the
 * build makes no Map. Queries find a global id's local id in a small open-addressing table kept by
 * the index. An index keeps the tokenizer it was built with (by default the process-wide one) and
 * tokenises its queries with it.
 */
import { bm25sOrder } from "./ties.ts";
import { defaultTokenizer, type Bm25Tokenizer, type Vocabulary } from "./tokenize.ts";

const BM25_K1 = 1.5;
const BM25_B = 0.75;

export interface Bm25Ranking {
  /** Document positions, best first (ties in bm25s's order: ties.ts). */
  positions: Int32Array;
  /** Scores in the same order. */
  scores: Float64Array;
}

/** idf by document frequency for corpora of n documents (n ≤ 256 cached): ln(1 + (n − df + 0.5)/(df + 0.5)). */
const idfTables = new Map<number, Float64Array>();

function idfTable(n: number): Float64Array {
  let table = idfTables.get(n);
  if (table === undefined) {
    table = new Float64Array(n + 1);
    for (let df = 0; df <= n; df++) table[df] = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    if (n <= 256) idfTables.set(n, table);
  }
  return table;
}

/** Multiplicative hash of a term id into a table of 2^bits slots. */
function slotOf(term: number, shift: number): number {
  return Math.imul(term, 0x9e3779b1) >>> shift;
}

export class Bm25Index {
  /** Number of documents. */
  readonly size: number;
  /** The term ids' stems of the vocabulary they come from (identifies it; for re-mapping after it started over). */
  private stems: readonly string[];
  /** local term id → global term id. */
  private readonly globals: Int32Array;
  /** Query lookup: pairs (global id, local id) in 2^bits slots, global −1 = empty. */
  private table: Int32Array;
  private readonly shift: number;
  /** Postings of local term t: entries postingStart[t] … postingStart[t+1] − 1. */
  private readonly postingStart: Int32Array;
  private readonly postingDocument: Int32Array;
  private readonly postingWeight: Float64Array;

  constructor(
    texts: readonly string[],
    private readonly tokenizer: Bm25Tokenizer = defaultTokenizer,
  ) {
    const n = texts.length;
    this.size = n;
    // Each document as [token count, term, tf, term, tf, …] (tokenize.ts, cached per text).
    const { vocabulary, documents } = tokenizer.documentBags(texts);
    let totalLength = 0;
    let pairCount = 0;
    for (let d = 0; d < n; d++) {
      const bag = documents[d] as Int32Array;
      totalLength += bag[0] as number;
      pairCount += (bag.length - 1) >> 1;
    }
    const averageLength = n === 0 ? 0 : totalLength / n;
    const { localOfGlobal, globalOfLocal, documentFrequency, idf, pairLocal } = tokenizer.buildScratch(vocabulary.termCount, pairCount);

    // Local ids and document frequencies (a bag holds each of its terms once).
    let vocabularySize = 0;
    let at = 0;
    for (let d = 0; d < n; d++) {
      const bag = documents[d] as Int32Array;
      for (let k = 1; k < bag.length; k += 2) {
        const global = bag[k] as number;
        let local = localOfGlobal[global] as number;
        if (local < 0) {
          local = vocabularySize++;
          localOfGlobal[global] = local;
          globalOfLocal[local] = global;
          documentFrequency[local] = 0;
        }
        documentFrequency[local] = (documentFrequency[local] as number) + 1;
        pairLocal[at++] = local;
      }
    }
    for (let t = 0; t < vocabularySize; t++) localOfGlobal[globalOfLocal[t] as number] = -1;

    const idfOf = idfTable(n);
    const postingStart = new Int32Array(vocabularySize + 1);
    for (let t = 0; t < vocabularySize; t++) {
      const df = documentFrequency[t] as number;
      postingStart[t + 1] = (postingStart[t] as number) + df;
      idf[t] = idfOf[df] as number;
    }
    const postingDocument = new Int32Array(pairCount);
    const postingWeight = new Float64Array(pairCount);
    // Next free posting of each term (documentFrequency is no longer needed).
    const fill = documentFrequency;
    for (let t = 0; t < vocabularySize; t++) fill[t] = postingStart[t] as number;

    // Weights, written in document order per term.
    at = 0;
    for (let d = 0; d < n; d++) {
      const bag = documents[d] as Int32Array;
      const norm = averageLength === 0 ? 1 : 1 - BM25_B + (BM25_B * (bag[0] as number)) / averageLength;
      const k1Norm = BM25_K1 * norm;
      for (let k = 2; k < bag.length; k += 2) {
        const local = pairLocal[at++] as number;
        const tf = bag[k] as number;
        const slot = fill[local] as number;
        fill[local] = slot + 1;
        postingDocument[slot] = d;
        postingWeight[slot] = (idf[local] as number) * (tf / (tf + k1Norm));
      }
    }
    this.postingStart = postingStart;
    this.postingDocument = postingDocument;
    this.postingWeight = postingWeight;
    this.globals = globalOfLocal.slice(0, vocabularySize);
    let bits = 4;
    while (1 << bits < 2 * vocabularySize) bits++;
    this.shift = 32 - bits;
    this.table = new Int32Array(2 << bits);
    this.fillTable();
    this.stems = vocabulary.stems;
  }

  private fillTable(): void {
    const table = this.table;
    table.fill(-1);
    const mask = (table.length >> 1) - 1;
    for (let local = 0; local < this.globals.length; local++) {
      const global = this.globals[local] as number;
      let slot = slotOf(global, this.shift);
      while (table[slot << 1] !== -1) slot = (slot + 1) & mask;
      table[slot << 1] = global;
      table[(slot << 1) + 1] = local;
    }
  }

  /** The vocabulary started over since this index was built: take its terms' ids in the new one. */
  private remap(vocabulary: Vocabulary): void {
    for (let local = 0; local < this.globals.length; local++) {
      this.globals[local] = vocabulary.termIdOfStem(this.stems[this.globals[local] as number] as string);
    }
    this.stems = vocabulary.stems;
    this.fillTable();
  }

  private localOf(global: number): number {
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    let slot = slotOf(global, this.shift);
    for (;;) {
      const key = table[slot << 1] as number;
      if (key === global) return table[(slot << 1) + 1] as number;
      if (key === -1) return -1;
      slot = (slot + 1) & mask;
    }
  }

  /** BM25 score of every document for `query` (by position). */
  score(query: string): Float64Array {
    const scores = new Float64Array(this.size);
    const vocabulary = this.tokenizer.currentVocabulary();
    const queryTerms = vocabulary.termIds(query);
    if (this.stems !== vocabulary.stems) this.remap(vocabulary);
    for (let q = 0; q < queryTerms.length; q++) {
      const local = this.localOf(queryTerms[q] as number);
      if (local < 0) continue; // unknown query terms are ignored
      const end = this.postingStart[local + 1] as number;
      for (let p = this.postingStart[local] as number; p < end; p++) {
        const document = this.postingDocument[p] as number;
        scores[document] = (scores[document] as number) + (this.postingWeight[p] as number);
      }
    }
    return scores;
  }

  /** The `topN` best documents for `query` (all when topN ≥ size), in bm25s's order, ties included (ties.ts). */
  rank(query: string, topN: number = this.size): Bm25Ranking {
    const scores = this.score(query);
    const order = bm25sOrder(scores);
    const count = Math.max(0, Math.min(Math.floor(topN), this.size));
    const positions = order.slice(0, count);
    const ranked = new Float64Array(count);
    for (let i = 0; i < count; i++) ranked[i] = scores[positions[i] as number] as number;
    return { positions, scores: ranked };
  }
}
