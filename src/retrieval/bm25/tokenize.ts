/**
 * The bm25s default tokeniser (retrieval.md "BM25"): lower-case, runs of two or more Unicode word
 * characters, the 33 bm25s English stopwords removed, then Snowball English (2.2.0) stems.
 *
 * Speed: every distinct lower-cased word is looked up once in a process-wide table that maps it
 * straight to a term id (its stem's id), or to STOPWORD. Term ids are shared by all indexes, so
 * a query and a document agree on ids without string comparisons.
 */
import { newStemmer } from "snowball-stemmers";

/** bm25s "en" stopwords (33). */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    "a an and are as at be but by for if in into is it no not of on or such that the their then " +
    "there these they this to was will with"
  ).split(" "),
);

/** The token pattern; JavaScript `\w` is ASCII-only, so the Unicode classes are spelled out. */
const TOKEN = /[\p{L}\p{N}_]{2,}/gu;

/** Marks a stopword in the word table. */
const STOPWORD = -1;

const stemmer = newStemmer("english");

/** lower-cased word → term id (or STOPWORD); shared across every call in the process. */
const wordTable = new Map<string, number>();
/** stem → term id. */
const stemIds = new Map<string, number>();
/** term id → stem (for tests and debugging). */
const stems: string[] = [];

function termIdOfStem(stem: string): number {
  let id = stemIds.get(stem);
  if (id === undefined) {
    id = stems.length;
    stems.push(stem);
    stemIds.set(stem, id);
  }
  return id;
}

function lookUpWord(word: string): number {
  let id = wordTable.get(word);
  if (id === undefined) {
    id = STOPWORDS.has(word) ? STOPWORD : termIdOfStem(stemmer.stem(word));
    wordTable.set(word, id);
  }
  return id;
}

/** Term ids of `text` in order (stopwords dropped; a repeated word repeats its id). */
export function termIds(text: string): Int32Array {
  const matches = text.toLowerCase().match(TOKEN);
  if (matches === null) return new Int32Array(0);
  const ids = new Int32Array(matches.length);
  let count = 0;
  for (let i = 0; i < matches.length; i++) {
    const id = lookUpWord(matches[i] as string);
    if (id !== STOPWORD) ids[count++] = id;
  }
  return count === ids.length ? ids : ids.subarray(0, count);
}

/** The stems of `text` in order, as bm25s would produce them. */
export function tokenize(text: string): string[] {
  return Array.from(termIds(text), (id) => stems[id] as string);
}

/** The Snowball English stem of one lower-case word (cached unless it is a stopword). */
export function stem(word: string): string {
  const id = lookUpWord(word);
  return id === STOPWORD ? stemmer.stem(word) : (stems[id] as string);
}
