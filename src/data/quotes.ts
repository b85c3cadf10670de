/**
 * fix_quotes (retrieval.md "Documents"): TeX quotes → straight quotes, with Python `re`
 * semantics. Python's `\s` is Unicode whitespace (str.isspace), its `.` is "not \n", and `\w`
 * is letters, numbers and "_"; JavaScript differs on each, so the classes are spelled out.
 */

import { PYTHON_WHITESPACE, PYTHON_WORD as WORD } from "../text/python.ts";

/** Python's `\s`: the str.isspace() characters. */
const WS = `[${PYTHON_WHITESPACE}]`;
/** Python `.` without DOTALL. */
const ANY = "[^\\n]";

const PASS_1 = new RegExp(`${WS}\`\`${WS}*(${ANY}*?)${WS}*''`, "gu");
const PASS_2 = new RegExp(`(${WORD}*)\`\`${WS}*(${ANY}*?)${WS}*''`, "gu");
const PASS_3 = /``|''/g;

export function fixQuotes(text: string): string {
  if (!text.includes("``") && !text.includes("''")) return text;
  return text
    .replace(PASS_1, (_match, inner: string) => ` "${inner}"`)
    .replace(PASS_2, (_match, word: string, inner: string) => `${word} "${inner}"`)
    .replace(PASS_3, "");
}
