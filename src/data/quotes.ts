/**
 * fix_quotes (retrieval.md "Documents"): TeX quotes → straight quotes, with Python `re`
 * semantics. Python's `\s` is Unicode whitespace (str.isspace), its `.` is "not \n", and `\w`
 * is letters, numbers and "_"; JavaScript differs on each, so the classes are spelled out.
 */

/** Python str.isspace() characters. */
const WS = "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
/** Python `.` without DOTALL. */
const ANY = "[^\\n]";
const WORD = "[\\p{L}\\p{N}_]";

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
