/**
 * The char-code scanner of bm25/vocabulary.ts must cut exactly the tokens of the regex tokeniser
 * the spec states: `text.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu)`, stopwords dropped, stems.
 */
import { describe, expect, test } from "bun:test";
import { STOPWORDS, stem, termIds, tokenize } from "../../src/retrieval/bm25/tokenize.ts";
import { STOPWORD, Vocabulary } from "../../src/retrieval/bm25/vocabulary.ts";
import { documentsOf } from "../../src/retrieval/types.ts";
import { sampleExamples } from "./helpers.ts";
import { mulberry32 } from "../../src/data/random.ts";

/** The spec's tokeniser, word level (stopwords still in). */
function regexWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu) ?? [];
}

/** The spec's tokeniser, stems. */
function regexStems(text: string): string[] {
  return regexWords(text)
    .filter((word) => !STOPWORDS.has(word))
    .map((word) => stem(word));
}

/** Differences between the scanner and the regex for `text` ("" when they agree). */
function disagreement(vocabulary: Vocabulary, text: string): string {
  const traced = vocabulary.traceTokens(text);
  const words = traced.map((token) => token.word);
  const expected = regexWords(text);
  if (JSON.stringify(words) !== JSON.stringify(expected)) {
    return `${JSON.stringify(text)}: scanner ${JSON.stringify(words)} regex ${JSON.stringify(expected)}`;
  }
  for (const token of traced) {
    const want = STOPWORDS.has(token.word) ? "(stopword)" : stem(token.word);
    const got = token.term === STOPWORD ? "(stopword)" : vocabulary.stems[token.term];
    if (got !== want) return `${JSON.stringify(text)}: ${token.word} → ${got}, want ${want}`;
  }
  const ids = Array.from(vocabulary.termIds(text), (id) => vocabulary.stems[id]);
  if (JSON.stringify(ids) !== JSON.stringify(regexStems(text))) return `${JSON.stringify(text)}: termIds differ`;
  return "";
}

/** Characters that make tokenising hard; each entry is one "character" (some are 2 code units or lone surrogates). */
const TRICKY = [
  "a",
  "Z",
  "q",
  "0",
  "7",
  "_",
  " ",
  "\n",
  "\t",
  "-",
  ".",
  ",",
  "'",
  '"',
  "#",
  "é",
  "É",
  "ß",
  "ẞ",
  "İ",
  "ı",
  "I",
  "Σ",
  "σ",
  "ς",
  "Ω",
  "ǅ",
  "Ǆ",
  "K" /* Kelvin sign → k */,
  "Å" /* Angstrom sign */,
  "ﬁ",
  "ŉ",
  "\u0301" /* combining acute */,
  "\u0307" /* combining dot */,
  "\u0345" /* combining ypogegrammeni */,
  "٣" /* Arabic-Indic 3 */,
  "३" /* Devanagari 3 */,
  "Ⅻ" /* Roman numeral (Nl) */,
  "①" /* No */,
  "²",
  "½",
  "中",
  "文",
  "한",
  "ー",
  "\u00a0",
  "\u2019",
  "\u2013",
  "\u200d",
  "\ufeff",
  "𝔘" /* U+1D518 letter */,
  "𝟘" /* U+1D7D8 digit */,
  "😀" /* not a word character */,
  "𐐀" /* Deseret capital, lower-cases to 𐐨 */,
  "\ud800" /* lone high surrogate */,
  "\udc00" /* lone low surrogate */,
  "\u0130\u0130",
  "Ǳ",
];

const EDGE_CASES = [
  "",
  "a",
  "ab",
  "The Ångström of a Zürich_team, I 1st X9!",
  "İstanbul İİ iİ",
  "STRASSE straße STRAẞE",
  "ΟΔΥΣΣΕΥΣ Σ ΑΣ ΑΣ' ΑΣ'Β σς",
  "e\u0301e\u0301 cafe\u0301 \u0301\u0301 x\u0301y",
  "٣٣ ३३ 12٣ a٣ ²² ½½ ⅫⅫ ①②",
  "𝔘 𝔘𝔘 a𝔘 𝔘a 😀😀 a😀b 𝟘𝟘",
  "\ud800\ud800 a\ud800b ab\udc00cd \udc00\ud800 x\ud835",
  "KELVIN K ÅNGSTROM",
  "abc def ÉCOLE école",
  "snake_case __ _a a_ ___",
  "ascii then ü at the very end ü",
  "ü at the start then ascii",
  "mid-token switch: ABCÜDEF abcİdef ABCΣ",
  "a".repeat(5000) + "Ü" + "b".repeat(300),
  "𐐀𐐀 𐐨𐐨",
  "中文字 한국어 ｶﾀｶﾅ ＦＵＬＬ　ＷＩＤＴＨ",
  "\u200dab\u200dcd\ufeffef",
  "ends with one astral letter 𝔘",
  "ends with two 𝔘𝔘",
];

describe("BM25 tokeniser: the char-code scanner equals the regex tokeniser", () => {
  test("every sample paragraph and question: same words, same stems, same term ids", async () => {
    const vocabulary = new Vocabulary();
    const problems: string[] = [];
    for (const example of await sampleExamples()) {
      for (const text of [example.question, ...documentsOf(example).map((document) => document.text)]) {
        const problem = disagreement(vocabulary, text);
        if (problem !== "") problems.push(problem);
      }
    }
    expect(problems).toEqual([]);
  });

  test("Unicode edge cases: case mapping, combining marks, other scripts' digits, surrogates", () => {
    const vocabulary = new Vocabulary();
    expect(EDGE_CASES.map((text) => disagreement(vocabulary, text)).filter((problem) => problem !== "")).toEqual([]);
  });

  test("20,000 seeded random strings of tricky characters", () => {
    const vocabulary = new Vocabulary();
    const next = mulberry32(20_250_101);
    const problems: string[] = [];
    for (let sample = 0; sample < 20_000 && problems.length < 5; sample++) {
      const length = Math.floor(next() * 24);
      let text = "";
      for (let i = 0; i < length; i++) text += TRICKY[Math.floor(next() * TRICKY.length)] as string;
      const problem = disagreement(vocabulary, text);
      if (problem !== "") problems.push(problem);
    }
    expect(problems).toEqual([]);
  });

  test("long words (beyond the 8 code units kept inline) are told apart by every code unit", () => {
    const vocabulary = new Vocabulary();
    const words = ["internationalisation", "internationalization", "internationalisatioN", "abcdefgh", "abcdefghi", "abcdefghj"];
    const text = words.join(" ");
    expect(vocabulary.traceTokens(text).map((token) => token.word)).toEqual(words.map((word) => word.toLowerCase()));
    expect(disagreement(vocabulary, `${text} ${text}`)).toBe("");
    expect(new Set(vocabulary.termIds("abcdefghi abcdefghj")).size).toBe(2);
  });

  test("the shared tokeniser (termIds, tokenize) agrees with the regex on the edge cases", () => {
    for (const text of EDGE_CASES) {
      expect(tokenize(text)).toEqual(regexStems(text));
      expect(termIds(text).length).toBe(regexStems(text).length);
    }
  });
});
