/**
 * The one home of the Python string semantics that DSPy and MuSiQue parity depend on (issue 15
 * item 7): what Python calls whitespace (str.isspace), a word character (re's Unicode `\w`) and
 * punctuation (string.punctuation); str.strip / lstrip / split / splitlines, round(x, digits),
 * str(bool), inspect.cleandoc and textwrap.dedent. JavaScript's trim(), split(/\s+/), `\w`, `\s`, `\b` and toFixed differ from
 * Python's on some inputs (e.g. \x1c–\x1f, \x85 and \uFEFF; non-ASCII letters; exact halves), so
 * the answer normalisation (metrics), the ChatAdapter (program/adapter), fix_quotes (data) and the
 * BM25 token pattern (retrieval/bm25) all use these instead. A leaf: imports nothing.
 */

/** Python str.isspace() characters (what `str.split()` and `str.strip()` act on), as a regex class body. */
export const PYTHON_WHITESPACE = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/**
 * Python re's Unicode `\w` as a regex class (use with the `u` flag): letters, numbers and "_".
 * Combining marks are not word characters (Python's str.isalnum() says no to them too).
 */
export const PYTHON_WORD = "[\\p{L}\\p{N}_]";

/** Python `string.punctuation`: the 32 ASCII punctuation characters, nothing else. */
export const PYTHON_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

const WHITESPACE_RUN = new RegExp(`[${PYTHON_WHITESPACE}]+`, "gu");
const LEADING = new RegExp(`^[${PYTHON_WHITESPACE}]+`);
const TRAILING = new RegExp(`[${PYTHON_WHITESPACE}]+$`);

/** Python `str.strip()` (no argument). */
export function pythonStrip(text: string): string {
  return text.replace(LEADING, "").replace(TRAILING, "");
}

/** Python `str.split()` (no argument): runs of whitespace separate, no empty tokens. */
export function pythonSplit(text: string): string[] {
  return text.split(WHITESPACE_RUN).filter((token) => token !== "");
}

/** Python's str(bool). */
export function pythonBool(value: boolean): string {
  return value ? "True" : "False";
}

/** Python's round(x, digits): the nearest decimal, exact halves to even. */
export function pythonRound(value: number, digits: number): number {
  if (!Number.isFinite(value)) return value;
  const exact = Math.abs(value).toFixed(100);
  const point = exact.indexOf(".");
  const tail = exact.slice(point + 1 + digits);
  if (/^50*$/.test(tail)) {
    const kept = exact.slice(0, point + 1 + digits);
    const lastDigit = Number(kept[kept.length - 1]);
    const roundedAway = Number(kept) + (lastDigit % 2 === 1 ? 10 ** -digits : 0);
    return Math.sign(value) * Number(roundedAway.toFixed(digits));
  }
  return Number(value.toFixed(digits));
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
