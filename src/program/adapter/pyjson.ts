/**
 * Reading JSON the way DSPy 3.0.2's JSONAdapter and Module.load do (program.md §5):
 * - `parsePythonJson`: Python's `json.loads` (NaN/Infinity accepted, ints kept apart from floats,
 *   raw control characters in strings refused, duplicate keys: the last value wins in the first
 *   key's place);
 * - `repairJson`: what musique implements of `json_repair.loads` (0.50.0), which DSPy calls on the
 *   first balanced `{…}` of a reply. Valid JSON parses as above; otherwise a small, documented
 *   subset of json_repair's repairs: text before the first `{` or `[` is skipped, single-quoted
 *   strings, raw newlines in strings, Python's True/False/None, trailing commas, and a reply cut
 *   off at the end (open strings, arrays and objects are closed). Anything else gives null (DSPy:
 *   "LM response cannot be serialized to a JSON object"), where json_repair might still guess.
 */
import { PyFloat, PyInt, type PyDict, type PyValue } from "./pyvalue.ts";

/** Invalid JSON (Python would raise json.JSONDecodeError). */
export class JsonSyntaxError extends Error {}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const NUMBER = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/;

class Reader {
  position = 0;

  constructor(
    readonly text: string,
    readonly lenient: boolean,
  ) {}

  get atEnd(): boolean {
    return this.position >= this.text.length;
  }

  peek(): string {
    return this.text[this.position] ?? "";
  }

  skipWhitespace(): void {
    while (WHITESPACE.has(this.peek())) this.position++;
  }

  fail(what: string): never {
    throw new JsonSyntaxError(`${what} at character ${this.position}`);
  }

  value(): PyValue {
    this.skipWhitespace();
    const character = this.peek();
    if (character === "{") return this.object();
    if (character === "[") return this.array();
    if (character === '"' || (this.lenient && character === "'")) return this.string();
    for (const [word, value] of LITERALS) {
      if (this.text.startsWith(word, this.position) && (this.lenient || !PYTHON_ONLY.has(word))) {
        this.position += word.length;
        return typeof value === "number" ? new PyFloat(value) : value;
      }
    }
    const number = NUMBER.exec(this.text.slice(this.position));
    if (number) {
      this.position += number[0].length;
      return number[1] === undefined && number[2] === undefined ? new PyInt(BigInt(number[0])) : new PyFloat(Number(number[0]));
    }
    return this.fail(this.atEnd ? "unexpected end" : `unexpected ${JSON.stringify(character)}`);
  }

  /** In lenient mode, the end of the text closes what is open. */
  private closedByEnd(): boolean {
    this.skipWhitespace();
    return this.lenient && this.atEnd;
  }

  object(): PyDict {
    this.position++;
    const result: PyDict = new Map();
    for (;;) {
      if (this.closedByEnd()) return result;
      if (this.peek() === "}") {
        this.position++;
        return result;
      }
      const quote = this.peek();
      if (quote !== '"' && !(this.lenient && quote === "'")) this.fail("expected a key");
      const key = this.string();
      if (this.closedByEnd()) return result;
      if (this.peek() !== ":") this.fail("expected ':'");
      this.position++;
      if (this.closedByEnd()) return result;
      result.set(key, this.value());
      if (this.closedByEnd()) return result;
      if (this.peek() === ",") {
        this.position++;
        this.skipWhitespace();
        if (this.peek() === "}" && !this.lenient) this.fail("trailing comma");
        continue;
      }
      if (this.peek() !== "}") this.fail("expected ',' or '}'");
    }
  }

  array(): PyValue[] {
    this.position++;
    const result: PyValue[] = [];
    for (;;) {
      if (this.closedByEnd()) return result;
      if (this.peek() === "]") {
        this.position++;
        return result;
      }
      result.push(this.value());
      if (this.closedByEnd()) return result;
      if (this.peek() === ",") {
        this.position++;
        this.skipWhitespace();
        if (this.peek() === "]" && !this.lenient) this.fail("trailing comma");
        continue;
      }
      if (this.peek() !== "]") this.fail("expected ',' or ']'");
    }
  }

  string(): string {
    const quote = this.peek();
    this.position++;
    let out = "";
    for (;;) {
      if (this.atEnd) {
        if (this.lenient) return out;
        this.fail("unterminated string");
      }
      const character = this.text[this.position] as string;
      this.position++;
      if (character === quote) return out;
      if (character === "\\") {
        const escape = this.text[this.position] ?? "";
        this.position++;
        if (escape === "u") {
          const hex = this.text.slice(this.position, this.position + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("bad \\u escape");
          out += String.fromCharCode(parseInt(hex, 16));
          this.position += 4;
        } else if (escape in ESCAPES) out += ESCAPES[escape];
        else if (this.lenient) out += escape;
        else this.fail("bad escape");
        continue;
      }
      if (character.charCodeAt(0) < 0x20 && !this.lenient) this.fail("invalid control character");
      out += character;
    }
  }
}

const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", "'": "'" };
const LITERALS: ReadonlyArray<[string, PyValue | number]> = [
  ["true", true],
  ["false", false],
  ["null", null],
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["-Infinity", Number.NEGATIVE_INFINITY],
  ["True", true],
  ["False", false],
  ["None", null],
];
const PYTHON_ONLY = new Set(["True", "False", "None"]);

/** Python's json.loads; throws JsonSyntaxError on invalid JSON. */
export function parsePythonJson(text: string): PyValue {
  const reader = new Reader(text, false);
  const value = reader.value();
  reader.skipWhitespace();
  if (!reader.atEnd) reader.fail("extra data");
  return value;
}

/** What musique implements of json_repair.loads (see the header); null when it gives up. */
export function repairJson(text: string): PyValue {
  try {
    return parsePythonJson(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
  }
  const start = text.search(/[{[]/);
  if (start < 0) return null;
  try {
    return new Reader(text.slice(start), true).value();
  } catch (error) {
    if (error instanceof JsonSyntaxError) return null;
    throw error;
  }
}

/**
 * The first balanced `{…}` of `text`, as DSPy's `regex.search(r"\{(?:[^{}]|(?R))*\}", …,
 * DOTALL)` finds it (braces inside strings count too), or null.
 */
export function firstBalancedObject(text: string): string | null {
  for (let start = text.indexOf("{"); start >= 0; start = text.indexOf("{", start + 1)) {
    let depth = 0;
    for (let i = start; i < text.length; i++) {
      const character = text[i];
      if (character === "{") depth++;
      else if (character === "}" && --depth === 0) return text.slice(start, i + 1);
    }
  }
  return null;
}
