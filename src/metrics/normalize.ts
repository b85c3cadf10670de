/**
 * The official MuSiQue (= SQuAD) answer normalisation, with Python semantics:
 *   lower() → drop every `string.punctuation` character → `re.sub(r"\b(a|an|the)\b", " ")`
 *   → `" ".join(text.split())`.
 * JavaScript's `\b`, `\w` and `\s` are ASCII-only or differ from Python's, so the Python classes
 * (Unicode `\w`, str.isspace() whitespace, string.punctuation) come from src/text/python.ts.
 */
import { PYTHON_PUNCTUATION, PYTHON_WORD, pythonSplit } from "../text/python.ts";

const PUNCTUATION_PATTERN = new RegExp(`[${PYTHON_PUNCTUATION.replace(/[\\\]^-]/g, "\\$&")}]`, "g");

/** Python's `\b(a|an|the)\b` with Unicode word characters. */
const ARTICLES = new RegExp(`(?<!${PYTHON_WORD})(?:a|an|the)(?!${PYTHON_WORD})`, "gu");

function removePunctuation(text: string): string {
  return text.replace(PUNCTUATION_PATTERN, "");
}

function removeArticles(text: string): string {
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
