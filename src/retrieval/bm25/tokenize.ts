/**
 * The bm25s default tokeniser (retrieval.md "BM25") as term ids, with its state in one object, as
 * bm25s's `Tokenizer` owns its vocabulary: a `Bm25Tokenizer` holds
 *
 * - the vocabulary (vocabulary.ts): lower-cased word → term id of its stem, shared by every index
 *   and query made with this tokenizer, so each token costs one table probe and only new words are
 *   stemmed. When it holds `maxWords` words it starts over (new term ids) at the start of the next
 *   tokenising call; an index built before re-maps its terms by their stems (index.ts).
 * - paragraph text → its bag of term ids, so a paragraph seen before (the same question in another
 *   rollout, step, epoch or evaluation) is not tokenised again. Two generations of at most
 *   `maxParagraphs / 2` texts each (texts over MAX_CACHED_TEXT_LENGTH are never kept): a hit in
 *   the older one moves it to the newer one; when the newer one is full it becomes the older one
 *   (the oldest texts are dropped). Default bound: 100k paragraphs, roughly 100–150 MB for
 *   MuSiQue-sized paragraphs (the text as key plus ~60 (term, tf) pairs).
 * - the scratch arrays index.ts builds with (indexed by this vocabulary's term ids).
 *
 * `defaultTokenizer` is the process-wide one the lexical retriever and `new Bm25Index(texts)` use,
 * so every question seen in a process shares one vocabulary and paragraph cache (today's speed);
 * a test or a benchmark makes its own (`new Bm25Tokenizer({ maxWords: 300 })`) or calls `reset()`.
 */
import { STOPWORDS, Vocabulary, stem } from "./vocabulary.ts";

export { STOPWORDS, stem };
export type { Vocabulary };

/** Default bounds of a tokenizer's caches. */
const DEFAULT_MAX_WORDS = 1 << 19;
const DEFAULT_MAX_PARAGRAPHS = 100_000;
/** Texts longer than this are not cached (a MuSiQue paragraph has ~500 characters). */
const MAX_CACHED_TEXT_LENGTH = 8_192;

export interface Bm25TokenizerBounds {
  /** Words the vocabulary holds before it starts over (default DEFAULT_MAX_WORDS). */
  maxWords?: number;
  /** Paragraph texts whose bags are kept (default DEFAULT_MAX_PARAGRAPHS). */
  maxParagraphs?: number;
}

export interface Bm25ResetOptions {
  /** Also forget the vocabulary (every word is stemmed again; term ids start over). */
  vocabulary?: boolean;
}

export interface Bm25CacheSizes {
  words: number;
  terms: number;
  paragraphs: number;
}

/** Scratch for index builds (index.ts): builds run to completion synchronously, one at a time per tokenizer. */
export interface BuildScratch {
  /** global term id → local id, −1 when absent; all −1 between builds. */
  localOfGlobal: Int32Array;
  /** local id → global term id. */
  globalOfLocal: Int32Array;
  documentFrequency: Int32Array;
  idf: Float64Array;
  /** The local id of every (document, term) pair of the corpus, documents one after another. */
  pairLocal: Int32Array;
}

export class Bm25Tokenizer {
  readonly maxWords: number;
  readonly maxParagraphs: number;
  private vocabulary = new Vocabulary();
  /** Paragraph text → its bag of terms, newer and older generation. */
  private recentParagraphs = new Map<string, Int32Array>();
  private olderParagraphs = new Map<string, Int32Array>();
  private readonly scratch: BuildScratch = {
    localOfGlobal: new Int32Array(0),
    globalOfLocal: new Int32Array(1024),
    documentFrequency: new Int32Array(1024),
    idf: new Float64Array(1024),
    pairLocal: new Int32Array(1024),
  };

  constructor(bounds: Bm25TokenizerBounds = {}) {
    this.maxWords = Math.max(1, bounds.maxWords ?? DEFAULT_MAX_WORDS);
    this.maxParagraphs = Math.max(2, bounds.maxParagraphs ?? DEFAULT_MAX_PARAGRAPHS);
  }

  /**
   * The vocabulary to tokenise with now. Starts a new one first when the current one is full, so
   * call it once at the start of whatever must share term ids (an index's documents, a query).
   */
  currentVocabulary(): Vocabulary {
    if (this.vocabulary.wordCount >= this.maxWords) this.startOver();
    return this.vocabulary;
  }

  /** Term ids of `text` in order (stopwords dropped; a repeated word repeats its id). Not cached: for queries. */
  termIds(text: string): Int32Array {
    return this.currentVocabulary().termIds(text);
  }

  /** The stems of `text` in order, as bm25s would produce them. */
  tokenize(text: string): string[] {
    const active = this.currentVocabulary();
    return Array.from(active.termIds(text), (id) => active.stems[id] as string);
  }

  /**
   * Each document text as a bag of terms (Vocabulary.bag: [token count, term, count, …]), from the
   * paragraph cache where possible, all from one vocabulary (returned with them). The arrays are
   * shared with the cache: read them only.
   */
  documentBags(texts: readonly string[]): { vocabulary: Vocabulary; documents: Int32Array[] } {
    const active = this.currentVocabulary();
    const documents = new Array<Int32Array>(texts.length);
    for (let d = 0; d < texts.length; d++) {
      const text = texts[d] as string;
      if (text.length > MAX_CACHED_TEXT_LENGTH) {
        documents[d] = active.bag(text);
        continue;
      }
      let bag = this.recentParagraphs.get(text);
      if (bag === undefined) {
        bag = this.olderParagraphs.get(text) ?? active.bag(text);
        if (this.recentParagraphs.size >= this.maxParagraphs >> 1) {
          this.olderParagraphs = this.recentParagraphs;
          this.recentParagraphs = new Map();
        }
        this.recentParagraphs.set(text, bag);
      }
      documents[d] = bag;
    }
    return { vocabulary: active, documents };
  }

  /** Build scratch big enough for `terms` term ids and `pairs` (document, term) pairs. */
  buildScratch(terms: number, pairs: number): BuildScratch {
    const scratch = this.scratch;
    if (scratch.localOfGlobal.length < terms) {
      scratch.localOfGlobal = new Int32Array(Math.max(terms, scratch.localOfGlobal.length * 2)).fill(-1);
    }
    // A corpus has at most `pairs` distinct terms.
    if (scratch.globalOfLocal.length < pairs) {
      const size = Math.max(pairs, scratch.globalOfLocal.length * 2);
      scratch.globalOfLocal = new Int32Array(size);
      scratch.documentFrequency = new Int32Array(size);
      scratch.idf = new Float64Array(size);
      scratch.pairLocal = new Int32Array(size);
    }
    return scratch;
  }

  /**
   * Forget the cached paragraphs (with `{ vocabulary: true }` the word table too, as bm25s's
   * `reset_vocab()`). Indexes built before keep working.
   */
  reset(options: Bm25ResetOptions = {}): void {
    if (options.vocabulary === true) {
      this.startOver();
      return;
    }
    this.recentParagraphs.clear();
    this.olderParagraphs.clear();
  }

  sizes(): Bm25CacheSizes {
    return {
      words: this.vocabulary.wordCount,
      terms: this.vocabulary.termCount,
      paragraphs: this.recentParagraphs.size + this.olderParagraphs.size,
    };
  }

  private startOver(): void {
    this.vocabulary = new Vocabulary();
    this.recentParagraphs = new Map();
    this.olderParagraphs = new Map();
    // The scratch is indexed by term ids, which start over: all −1 already between builds.
  }
}

/** The process-wide tokenizer: what the lexical retriever and `new Bm25Index(texts)` use. */
export const defaultTokenizer = new Bm25Tokenizer();

/** `defaultTokenizer.tokenize`: the stems of `text`, as bm25s would produce them. */
export function tokenize(text: string): string[] {
  return defaultTokenizer.tokenize(text);
}

/** `defaultTokenizer.termIds`. */
export function termIds(text: string): Int32Array {
  return defaultTokenizer.termIds(text);
}
