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

const PYTHON_SPACE = new RegExp(`[${PYTHON_WHITESPACE}]`);

/** Python str.expandtabs() (tab size 8; the column restarts after \n and \r). */
function expandTabs(line: string): string {
  let out = "";
  let column = 0;
  for (const character of line) {
    if (character === "\t") {
      const spaces = 8 - (column % 8);
      out += " ".repeat(spaces);
      column += spaces;
    } else {
      out += character;
      column = character === "\n" || character === "\r" ? 0 : column + 1;
    }
  }
  return out;
}

/** Code points of leading whitespace (Python's len(line) - len(line.lstrip())). */
function leadingSpace(line: readonly string[]): number {
  let count = 0;
  while (count < line.length && PYTHON_SPACE.test(line[count] as string)) count++;
  return count;
}

/**
 * Python 3.11's inspect.cleandoc: expand tabs, lstrip the first line, remove the common indent
 * of the other non-blank lines, drop leading and trailing empty lines. Splits on "\n" only.
 */
export function inspectCleandoc(doc: string): string {
  const lines = expandTabs(doc)
    .split("\n")
    .map((line) => Array.from(line));
  let margin = Number.POSITIVE_INFINITY;
  for (const line of lines.slice(1)) {
    const indent = leadingSpace(line);
    if (indent < line.length) margin = Math.min(margin, indent);
  }
  const first = lines[0];
  if (first) lines[0] = first.slice(leadingSpace(first));
  if (Number.isFinite(margin)) for (let i = 1; i < lines.length; i++) lines[i] = (lines[i] as string[]).slice(margin);
  const text = lines.map((line) => line.join(""));
  while (text.length > 0 && text[text.length - 1] === "") text.pop();
  while (text.length > 0 && text[0] === "") text.shift();
  return text.join("\n");
}

/**
 * Python's textwrap.dedent: whitespace-only lines ([ \t]+) become empty, then the longest common
 * leading [ \t]* of the lines with other characters is removed. Lines are split on "\n" only.
 */
export function textwrapDedent(text: string): string {
  const lines = text.split("\n").map((line) => (/^[ \t]+$/.test(line) ? "" : line));
  let margin: string | null = null;
  for (const line of lines) {
    const indent = /^[ \t]*/.exec(line)?.[0] ?? "";
    if (indent.length === line.length) continue;
    if (margin === null || indent.startsWith(margin)) margin ??= indent;
    else if (margin.startsWith(indent)) margin = indent;
    else {
      let common = 0;
      while (common < margin.length && margin[common] === indent[common]) common++;
      margin = margin.slice(0, common);
    }
  }
  if (!margin) return lines.join("\n");
  const prefix = margin;
  return lines.map((line) => (line.startsWith(prefix) ? line.slice(prefix.length) : line)).join("\n");
}
