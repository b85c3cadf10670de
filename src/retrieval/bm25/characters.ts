/**
 * Which characters make up a token (retrieval.md "BM25"): exactly the characters of
 * `/[\p{L}\p{N}_]/u` (Unicode letters, Unicode numbers, underscore; combining marks are NOT
 * word characters). Answered by tables so the scanner never runs a regular expression per
 * character: ASCII by a fixed table, the rest of the BMP by a table filled on first use, astral
 * code points (surrogate pairs such as 𝔘) by the regular expression itself (they are rare).
 */

import { PYTHON_WORD } from "../../text/python.ts";

/** One word character, as the bm25s token pattern sees it (Python re's `\w`). */
const WORD_CHARACTER = new RegExp(`^${PYTHON_WORD}$`, "u");

/**
 * ASCII code → its lower-case code if it is a word character (a–z, 0–9, _; A–Z → a–z), else 0.
 * For ASCII, `toLowerCase` is exactly A–Z → a–z, so a scan through this table equals a scan of
 * the lower-cased text.
 */
export const ASCII_WORD: Uint8Array = (() => {
  const table = new Uint8Array(128);
  for (let code = 0; code < 128; code++) {
    const character = String.fromCharCode(code);
    if (WORD_CHARACTER.test(character)) table[code] = character.toLowerCase().charCodeAt(0);
  }
  return table;
})();

const UNKNOWN = 0;
const WORD = 1;
const NOT_WORD = 2;

/** BMP code unit → UNKNOWN / WORD / NOT_WORD; filled lazily. Surrogates are never word characters on their own. */
const bmpClass = new Uint8Array(0x10000);

/** True when the BMP code point `code` is a word character (a lone surrogate is not). */
export function isWordBmp(code: number): boolean {
  let kind = bmpClass[code] as number;
  if (kind === UNKNOWN) {
    kind = WORD_CHARACTER.test(String.fromCharCode(code)) ? WORD : NOT_WORD;
    bmpClass[code] = kind;
  }
  return kind === WORD;
}

/** True when the supplementary code point `codePoint` (≥ 0x10000) is a word character. */
export function isWordAstral(codePoint: number): boolean {
  return WORD_CHARACTER.test(String.fromCodePoint(codePoint));
}

export function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

export function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
