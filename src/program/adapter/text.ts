/**
 * Python string semantics the ChatAdapter depends on: str.strip() and str.splitlines().
 * They differ from JavaScript's trim() and split("\n") (e.g. \x1c–\x1f, \x85, \uFEFF).
 */

import { PYTHON_WHITESPACE, pythonStrip } from "../../metrics/normalize.ts";

export { pythonStrip };

const LEADING = new RegExp(`^[${PYTHON_WHITESPACE}]+`);

export function pythonLeftStrip(text: string): string {
  return text.replace(LEADING, "");
}

/** Python str.splitlines(): \n, \r\n, \r, \v, \f, \x1c, \x1d, \x1e, \x85, \u2028, \u2029; no empty last piece. */
export function pythonSplitLines(text: string): string[] {
  const lines = text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}
