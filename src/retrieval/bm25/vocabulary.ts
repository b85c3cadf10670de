/**
 * The bm25s tokeniser as one pass over the text (retrieval.md "BM25"): lower-case, maximal runs
 * of two or more Unicode word characters, stopwords dropped, Snowball English (2.2.0) stems,
 * each token turned straight into a term id.
 *
 * Speed: the text is scanned by char codes, never through a regular expression, and no string is
 * made for a token that was seen before. While scanning, the lower-cased code units of the current
 * token are copied into a scratch buffer and hashed; at its end ONE probe of an open-addressing
 * table (lower-cased word → term id of its stem, or STOPWORD) finds it by comparing code units
 * with a character pool. Only a word seen for the first time becomes a string, is checked against
 * the stopwords and stemmed.
 *
 * Exactness: a pure-ASCII text is lower-cased on the fly (ASCII `toLowerCase` is A–Z → a–z). At the
 * first non-ASCII code unit the scan goes on over `text.toLowerCase()` (the whole text, so
 * context rules such as the final sigma and expansions such as İ → i̇ are JavaScript's own) from
 * the start of the current token: the ASCII prefix lower-cases to the same length, so positions
 * agree. Word characters are those of `/[\p{L}\p{N}_]/u` by code point (characters.ts), and
 * "two or more" counts code points, as the `u` regex does.
 */
import { newStemmer } from "snowball-stemmers";
import { ASCII_WORD, isHighSurrogate, isLowSurrogate, isWordAstral, isWordBmp } from "./characters.ts";

/** bm25s "en" stopwords (33). */
export const STOPWORDS: ReadonlySet<string> = new Set(
  ("a an and are as at be but by for if in into is it no not of on or such that the their then " + "there these they this to was will with").split(" "),
);

/** The term id of a stopword in the word table (never emitted). */
export const STOPWORD = -1;

const stemmer = newStemmer("english");

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const INITIAL_SLOTS = 1 << 14;
/** Ints per word record. */
const RECORD = 8;
/** Code units kept in a word record. */
const INLINE_UNITS = 8;

/** A final mix of the FNV-1a hash so the low bits (the slot) depend on every code unit. */
function mix(hash: number): number {
  let mixed = hash ^ (hash >>> 16);
  mixed = Math.imul(mixed, 0x85ebca6b);
  mixed ^= mixed >>> 13;
  mixed = Math.imul(mixed, 0xc2b2ae35);
  return mixed ^ (mixed >>> 16);
}

function grownInt32(array: Int32Array<ArrayBuffer>, needed: number): Int32Array<ArrayBuffer> {
  if (array.length >= needed) return array;
  const grown = new Int32Array(Math.max(needed, array.length * 2));
  grown.set(array);
  return grown;
}

export interface TracedToken {
  word: string;
  term: number;
}

export class Vocabulary {
  /** term id → stem. */
  readonly stems: string[] = [];
  private readonly stemIds = new Map<string, number>();

  /**
   * Open addressing, linear probing; slot s is the record table[8s … 8s + 7] = mixed hash, length
   * in code units (0 = empty slot), term id, where code units 8… start in `pool`, then code units
   * 0–7 packed two per int (zero-padded). A word of up to 8 code units (most words) is confirmed
   * from its record alone: one cache line per probe.
   */
  private table = new Int32Array(INITIAL_SLOTS * RECORD);
  private mask = INITIAL_SLOTS - 1;
  private pool = new Uint16Array(INITIAL_SLOTS);
  private poolLength = 0;
  /** Distinct lower-cased words in the table. */
  wordCount = 0;

  /** Scratch: the lower-cased code units of the current token, and the term ids of the text. */
  private word = new Uint16Array(256);
  /** The same buffer as `word`, two code units per int. */
  private wordPacked = new Int32Array(this.word.buffer);
  private output = new Int32Array(256);
  private count = 0;
  /** Scratch for bags: per term id, the bag serial it was last seen in and its slot there. */
  private seenIn = new Int32Array(1024);
  private slotIn = new Int32Array(1024);
  private bagSerial = 0;
  private bagScratch = new Int32Array(1024);
  /** Collects tokens while `traceTokens` runs. */
  private trace: TracedToken[] | null = null;

  /** Number of term ids handed out (ids are 0 … termCount − 1). */
  get termCount(): number {
    return this.stems.length;
  }

  termIdOfStem(stem: string): number {
    let id = this.stemIds.get(stem);
    if (id === undefined) {
      id = this.stems.length;
      this.stems.push(stem);
      this.stemIds.set(stem, id);
    }
    return id;
  }

  /** Term ids of `text` in order (stopwords dropped; a repeated word repeats its id). */
  termIds(text: string): Int32Array {
    this.scan(text);
    return this.output.slice(0, this.count);
  }

  /**
   * `text` as a bag of terms: [token count, term, count, term, count, …], each distinct term once
   * (in order of first occurrence). What an index needs of a document.
   */
  bag(text: string): Int32Array {
    this.scan(text);
    const tokens = this.output;
    const count = this.count;
    if (this.seenIn.length < this.stems.length) {
      const grown = new Int32Array(Math.max(this.stems.length, this.seenIn.length * 2));
      grown.set(this.seenIn);
      this.seenIn = grown;
      this.slotIn = new Int32Array(grown.length);
    }
    const seenIn = this.seenIn;
    const slotIn = this.slotIn;
    if (this.bagSerial === 0x7fffffff) {
      seenIn.fill(0);
      this.bagSerial = 0;
    }
    const serial = ++this.bagSerial;
    if (this.bagScratch.length < 1 + 2 * count) this.bagScratch = new Int32Array(Math.max(1 + 2 * count, this.bagScratch.length * 2));
    const bag = this.bagScratch;
    bag[0] = count;
    let size = 1;
    for (let i = 0; i < count; i++) {
      const term = tokens[i] as number;
      if (seenIn[term] !== serial) {
        seenIn[term] = serial;
        slotIn[term] = size;
        bag[size] = term;
        bag[size + 1] = 1;
        size += 2;
      } else {
        const slot = (slotIn[term] as number) + 1;
        bag[slot] = (bag[slot] as number) + 1;
      }
    }
    return bag.slice(0, size);
  }

  /**
   * Every token of `text` as the scanner saw it: the lower-cased word exactly as hashed and
   * compared (stopwords included), and its term id (STOPWORD for a stopword). For tests.
   */
  traceTokens(text: string): TracedToken[] {
    const trace: TracedToken[] = [];
    this.trace = trace;
    try {
      this.scan(text);
    } finally {
      this.trace = null;
    }
    return trace;
  }

  private traceToken(size: number, term: number): void {
    let word = "";
    for (let i = 0; i < size; i++) word += String.fromCharCode(this.word[i] as number);
    this.trace?.push({ word, term });
  }

  /** Scans `text` into output[0 … count). */
  private scan(text: string): void {
    const length = text.length;
    if (this.word.length < length) this.growWord(Math.max(length, this.word.length * 2));
    if (this.output.length < (length >> 1) + 1) this.output = new Int32Array(Math.max((length >> 1) + 1, this.output.length * 2));
    this.count = 0;
    const word = this.word;
    let size = 0;
    let hash = FNV_OFFSET;
    let start = 0;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code < 128) {
        const lower = ASCII_WORD[code] as number;
        if (lower !== 0) {
          if (size === 0) start = i;
          word[size++] = lower;
          hash = Math.imul(hash ^ lower, FNV_PRIME);
          continue;
        }
        if (size >= 2) this.emit(size, hash, text, start, i, true);
        size = 0;
        hash = FNV_OFFSET;
        continue;
      }
      // Not ASCII: go on over the lower-cased text from the start of the current token.
      this.scanLowered(text.toLowerCase(), size > 0 ? start : i);
      return;
    }
    if (size >= 2) this.emit(size, hash, text, start, length, true);
  }

  /** The general scan of a lower-cased text from `from` (a position where no token is in progress). */
  private scanLowered(lowered: string, from: number): void {
    const length = lowered.length;
    if (this.word.length < length) this.growWord(length);
    this.output = grownInt32(this.output, (length >> 1) + 1);
    const word = this.word;
    let size = 0;
    let points = 0;
    let hash = FNV_OFFSET;
    let start = from;
    for (let i = from; i < length; i++) {
      const code = lowered.charCodeAt(i);
      let units = 0; // code units of the word character at i; 0 when it is not one
      let low = 0;
      if (code < 128) {
        if (ASCII_WORD[code] !== 0) units = 1;
      } else if (isHighSurrogate(code) && i + 1 < length && isLowSurrogate((low = lowered.charCodeAt(i + 1)))) {
        if (isWordAstral(((code - 0xd800) << 10) + (low - 0xdc00) + 0x10000)) units = 2;
      } else if (isWordBmp(code)) {
        units = 1;
      }
      if (units === 0) {
        if (points >= 2) this.emit(size, hash, lowered, start, i, false);
        size = 0;
        points = 0;
        hash = FNV_OFFSET;
        continue;
      }
      if (size === 0) start = i;
      word[size++] = code;
      hash = Math.imul(hash ^ code, FNV_PRIME);
      if (units === 2) {
        word[size++] = low;
        hash = Math.imul(hash ^ low, FNV_PRIME);
        i++;
      }
      points++;
    }
    if (points >= 2) this.emit(size, hash, lowered, start, length, false);
  }

  /** The token in `word[0 … size)` (= source[start … end), lower-cased if `lowerCase`) ends here. */
  private emit(size: number, hash: number, source: string, start: number, end: number, lowerCase: boolean): void {
    const term = this.lookUp(size, mix(hash), source, start, end, lowerCase);
    if (this.trace !== null) this.traceToken(size, term);
    if (term !== STOPWORD) this.output[this.count++] = term;
  }

  private growWord(units: number): void {
    this.word = new Uint16Array((units + 1) & ~1);
    this.wordPacked = new Int32Array(this.word.buffer);
  }

  private lookUp(size: number, hash: number, source: string, start: number, end: number, lowerCase: boolean): number {
    const word = this.word;
    for (let i = size; i < INLINE_UNITS; i++) word[i] = 0;
    const packed = this.wordPacked;
    const p0 = packed[0] as number;
    const p1 = packed[1] as number;
    const p2 = packed[2] as number;
    const p3 = packed[3] as number;
    const table = this.table;
    const mask = this.mask;
    let slot = hash & mask;
    for (;;) {
      const record = slot * RECORD;
      const length = table[record + 1] as number;
      if (length === 0) break;
      if (
        length === size &&
        table[record] === hash &&
        table[record + 4] === p0 &&
        table[record + 5] === p1 &&
        table[record + 6] === p2 &&
        table[record + 7] === p3 &&
        (size <= INLINE_UNITS || this.sameTail(size, table[record + 3] as number))
      ) {
        return table[record + 2] as number;
      }
      slot = (slot + 1) & mask;
    }
    const text = lowerCase ? source.slice(start, end).toLowerCase() : source.slice(start, end);
    const term = STOPWORDS.has(text) ? STOPWORD : this.termIdOfStem(stemmer.stem(text));
    this.insert(slot, size, hash, term);
    return term;
  }

  /** Whether word[8 … size) equals the pool from `at`. */
  private sameTail(size: number, at: number): boolean {
    const word = this.word;
    const pool = this.pool;
    for (let i = INLINE_UNITS; i < size; i++) if (pool[at + i - INLINE_UNITS] !== word[i]) return false;
    return true;
  }

  /** Adds the word in `word[0 … size)` (zero-padded to 8 code units) at the empty `slot`. */
  private insert(slot: number, size: number, hash: number, term: number): void {
    const tail = Math.max(0, size - INLINE_UNITS);
    if (this.poolLength + tail > this.pool.length) {
      const grown = new Uint16Array(Math.max(this.poolLength + tail, this.pool.length * 2));
      grown.set(this.pool.subarray(0, this.poolLength));
      this.pool = grown;
    }
    if (tail > 0) this.pool.set(this.word.subarray(INLINE_UNITS, size), this.poolLength);
    const record = slot * RECORD;
    const table = this.table;
    table[record] = hash;
    table[record + 1] = size;
    table[record + 2] = term;
    table[record + 3] = this.poolLength;
    table.set(this.wordPacked.subarray(0, INLINE_UNITS / 2), record + 4);
    this.poolLength += tail;
    this.wordCount++;
    if (this.wordCount * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2);
  }

  private rehash(capacity: number): void {
    const old = this.table;
    const table = new Int32Array(capacity * RECORD);
    const mask = capacity - 1;
    for (let record = 0; record < old.length; record += RECORD) {
      if (old[record + 1] === 0) continue;
      let slot = (old[record] as number) & mask;
      while (table[slot * RECORD + 1] !== 0) slot = (slot + 1) & mask;
      table.set(old.subarray(record, record + RECORD), slot * RECORD);
    }
    this.table = table;
    this.mask = mask;
  }
}

/** The Snowball English (2.2.0) stem of one lower-case word. */
export function stem(word: string): string {
  return stemmer.stem(word);
}
