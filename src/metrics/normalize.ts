/**
 * The official MuSiQue (= SQuAD) answer normalisation, with Python semantics:
 *   lower() → drop every `string.punctuation` character → `re.sub(r"\b(a|an|the)\b", " ")`
 *   → `" ".join(text.split())`.
 * JavaScript's `\b`, `\w` and `\s` are ASCII-only or differ from Python's, so the classes are
 * spelled out: Python's Unicode `\w` is letters, numbers and "_" ([\p{L}\p{N}_]; combining marks
 * are not word characters), and `str.split()` splits on the str.isspace() characters.
 */

/** Python `string.punctuation`: the 32 ASCII punctuation characters, nothing else. */
export const PYTHON_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

const PUNCTUATION_PATTERN = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** Python str.isspace() characters (what `str.split()` and `str.strip()` act on), as a regex class body. */
export const PYTHON_WHITESPACE = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const WHITESPACE_RUN = new RegExp(`[${PYTHON_WHITESPACE}]+`, "gu");

/** Python's `\b(a|an|the)\b` with Unicode word characters. */
const WORD = "[\\p{L}\\p{N}_]";
const ARTICLES = new RegExp(`(?<!${WORD})(?:a|an|the)(?!${WORD})`, "gu");

const LEADING_WHITESPACE = new RegExp(`^[${PYTHON_WHITESPACE}]+`);
const TRAILING_WHITESPACE = new RegExp(`[${PYTHON_WHITESPACE}]+$`);

/** Python `str.strip()` (no argument). */
export function pythonStrip(text: string): string {
  return text.replace(LEADING_WHITESPACE, "").replace(TRAILING_WHITESPACE, "");
}

/** Python `str.split()` (no argument): runs of whitespace separate, no empty tokens. */
export function pythonSplit(text: string): string[] {
  return text.split(WHITESPACE_RUN).filter((token) => token !== "");
}

export function removePunctuation(text: string): string {
  return text.replace(PUNCTUATION_PATTERN, "");
}

export function removeArticles(text: string): string {
  return text.replace(ARTICLES, " ");
}

/** The official normalisation of an answer string. */
export function normalizeAnswer(text: string): string {
  return pythonSplit(removeArticles(removePunctuation(text.toLowerCase()))).join(" ");
}

/** SQuAD's get_tokens: the normalised answer split on whitespace ([] for an empty string). */
export function answerTokens(text: string): string[] {
  if (!text) return [];
  return pythonSplit(normalizeAnswer(text));
}
