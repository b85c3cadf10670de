/**
 * The bm25s default tokeniser (retrieval.md "BM25") as term ids, with two bounded caches:
 *
 * - the vocabulary (vocabulary.ts): lower-cased word → term id of its stem, shared by every index
 *   and query in the process, so each token costs one table probe and only new words are stemmed.
 *   When it holds `maxWords` words it starts over (new term ids) at the start of the next
 *   tokenising call; an index built before re-maps its terms by their stems (index.ts).
 * - paragraph text → its bag of term ids, so a paragraph seen before (the same question in another
 *   rollout, step, epoch or evaluation) is not tokenised again. Two generations of at most
 *   `maxParagraphs / 2` texts each (texts over MAX_CACHED_TEXT_LENGTH are never kept): a hit in
 *   the older one moves it to the newer one; when the newer one is full it becomes the older one
 *   (the oldest texts are dropped). Default bound: 100k paragraphs, roughly 100–150 MB for
 *   MuSiQue-sized paragraphs (the text as key plus ~60 (term, tf) pairs).
 */
import { STOPWORDS, Vocabulary, stem } from "./vocabulary.ts";

export { STOPWORDS, stem };
export type { Vocabulary };

/** Default bounds of the caches (`configureBm25Caches` changes them, e.g. in tests). */
export const DEFAULT_MAX_WORDS = 1 << 19;
export const DEFAULT_MAX_PARAGRAPHS = 100_000;
/** Texts longer than this are not cached (a MuSiQue paragraph has ~500 characters). */
export const MAX_CACHED_TEXT_LENGTH = 8_192;

let maxWords = DEFAULT_MAX_WORDS;
let maxParagraphs = DEFAULT_MAX_PARAGRAPHS;

let vocabulary = new Vocabulary();
/** Paragraph text → its bag of terms, newer and older generation. */
let recentParagraphs = new Map<string, Int32Array>();
let olderParagraphs = new Map<string, Int32Array>();

function startOver(): void {
  vocabulary = new Vocabulary();
  recentParagraphs = new Map();
  olderParagraphs = new Map();
}

/**
 * The vocabulary to tokenise with now. Starts a new one first when the current one is full, so
 * call it once at the start of whatever must share term ids (an index's documents, a query).
 */
export function currentVocabulary(): Vocabulary {
  if (vocabulary.wordCount >= maxWords) startOver();
  return vocabulary;
}

/** Term ids of `text` in order (stopwords dropped; a repeated word repeats its id). Not cached: for queries. */
export function termIds(text: string): Int32Array {
  return currentVocabulary().termIds(text);
}

/**
 * Each document text as a bag of terms (Vocabulary.bag: [token count, term, count, …]), from the
 * paragraph cache where possible, all from one vocabulary (returned with them). The arrays are
 * shared with the cache: read them only.
 */
export function documentBags(texts: readonly string[]): { vocabulary: Vocabulary; documents: Int32Array[] } {
  const active = currentVocabulary();
  const documents = new Array<Int32Array>(texts.length);
  for (let d = 0; d < texts.length; d++) {
    const text = texts[d] as string;
    if (text.length > MAX_CACHED_TEXT_LENGTH) {
      documents[d] = active.bag(text);
      continue;
    }
    let bag = recentParagraphs.get(text);
    if (bag === undefined) {
      bag = olderParagraphs.get(text) ?? active.bag(text);
      if (recentParagraphs.size >= maxParagraphs >> 1) {
        olderParagraphs = recentParagraphs;
        recentParagraphs = new Map();
      }
      recentParagraphs.set(text, bag);
    }
    documents[d] = bag;
  }
  return { vocabulary: active, documents };
}

/** The stems of `text` in order, as bm25s would produce them. */
export function tokenize(text: string): string[] {
  const active = currentVocabulary();
  return Array.from(active.termIds(text), (id) => active.stems[id] as string);
}

export interface Bm25CacheOptions {
  /** Also forget the vocabulary (every word is stemmed again; term ids start over). */
  vocabulary?: boolean;
}

/**
 * Forget cached paragraphs (and with `{ vocabulary: true }` the word table too). For benchmarks
 * and tests; indexes built before keep working.
 */
export function clearBm25Caches(options: Bm25CacheOptions = {}): void {
  if (options.vocabulary === true) {
    startOver();
    return;
  }
  recentParagraphs.clear();
  olderParagraphs.clear();
}

export interface Bm25CacheSizes {
  words: number;
  terms: number;
  paragraphs: number;
}

export function bm25CacheSizes(): Bm25CacheSizes {
  return { words: vocabulary.wordCount, terms: vocabulary.termCount, paragraphs: recentParagraphs.size + olderParagraphs.size };
}

/** Change the cache bounds (defaults: DEFAULT_MAX_WORDS, DEFAULT_MAX_PARAGRAPHS); clears the paragraph cache. */
export function configureBm25Caches(bounds: { maxWords?: number; maxParagraphs?: number }): void {
  maxWords = Math.max(1, bounds.maxWords ?? maxWords);
  maxParagraphs = Math.max(2, bounds.maxParagraphs ?? maxParagraphs);
  clearBm25Caches();
}
