/**
 * Python values as DSPy sees them after `json.loads` / `ujson.loads` (program.md §5, program
 * files): ints and floats stay apart (`1` vs `1.0` print differently), dicts keep their key order.
 * With Python's printing: `str()` / `repr()` (what DSPy's `parse_value(v, str)` and
 * `format_field_value` produce) and `json.dumps` (ensure_ascii on or off, indent or not).
 */
import { pythonBool } from "../../text/python.ts";

/** A Python int (arbitrary size). */
export class PyInt {
  constructor(readonly value: bigint) {}
}

/** A Python float. */
export class PyFloat {
  constructor(readonly value: number) {}
}

export type PyValue = string | boolean | null | PyInt | PyFloat | PyValue[] | PyDict;
/** A Python dict with string keys, in insertion order. */
export type PyDict = Map<string, PyValue>;

export function isPyDict(value: PyValue): value is PyDict {
  return value instanceof Map;
}

/** Python's repr(float): the shortest round-trip digits, fixed notation for 1e-4 ≤ |x| < 1e16. */
function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const [mantissa = "", exponentText = "0"] = value.toExponential().split("e");
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
    const whole = digits.length > exponent + 1 ? digits.slice(0, exponent + 1) : digits.padEnd(exponent + 1, "0");
    const fraction = digits.length > exponent + 1 ? digits.slice(exponent + 1) : "0";
    return `${sign}${whole}.${fraction}`;
  }
  const shown = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const exponentSign = exponent < 0 ? "-" : "+";
  return `${sign}${shown}e${exponentSign}${String(Math.abs(exponent)).padStart(2, "0")}`;
}

/** Python's str.isprintable() for one code point (approximated with Unicode properties). */
const NOT_PRINTABLE = /^(?:[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?! )\p{Zs})$/u;

/** Python's repr(str). */
function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    if (character === quote || character === "\\") out += "\\" + character;
    else if (character === "\n") out += "\\n";
    else if (character === "\r") out += "\\r";
    else if (character === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
    else if (code > 0x7f && NOT_PRINTABLE.test(character)) {
      out +=
        code <= 0xff
          ? "\\x" + code.toString(16).padStart(2, "0")
          : code <= 0xffff
            ? "\\u" + code.toString(16).padStart(4, "0")
            : "\\U" + code.toString(16).padStart(8, "0");
    } else out += character;
  }
  return out + quote;
}

/** Python's repr() of a JSON-loaded value. */
function pythonRepr(value: PyValue): string {
  if (typeof value === "string") return pythonStringRepr(value);
  if (value === null) return "None";
  if (typeof value === "boolean") return pythonBool(value);
  if (value instanceof PyInt) return value.value.toString();
  if (value instanceof PyFloat) return pythonFloatRepr(value.value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(", ")}]`;
  return `{${[...value.entries()].map(([key, item]) => `${pythonStringRepr(key)}: ${pythonRepr(item)}`).join(", ")}}`;
}

/** Python's str(): a string is itself, everything else its repr. */
export function pythonStr(value: PyValue): string {
  return typeof value === "string" ? value : pythonRepr(value);
}

export interface DumpOptions {
  /** json.dumps ensure_ascii (Python's default is true). */
  ensureAscii: boolean;
  /** json.dumps indent; undefined = one line with ", " and ": " separators. */
  indent?: number;
  /** ujson's escape_forward_slashes (DSPy 3.0.2 writes program files with ujson): "/" → "\/". */
  escapeSlash?: boolean;
}

function dumpString(text: string, options: DumpOptions): string {
  let out = '"';
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    if (character === '"') out += '\\"';
    else if (character === "\\") out += "\\\\";
    else if (character === "\n") out += "\\n";
    else if (character === "\r") out += "\\r";
    else if (character === "\t") out += "\\t";
    else if (character === "\b") out += "\\b";
    else if (character === "\f") out += "\\f";
    else if (character === "/" && options.escapeSlash) out += "\\/";
    else if (code < 0x20) out += "\\u" + code.toString(16).padStart(4, "0");
    else if (code > 0x7e && options.ensureAscii) {
      for (let i = 0; i < character.length; i++) out += "\\u" + character.charCodeAt(i).toString(16).padStart(4, "0");
    } else out += character;
  }
  return out + '"';
}

function dumpFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  return pythonFloatRepr(value);
}

function dumpValue(value: PyValue, options: DumpOptions, depth: number): string {
  if (typeof value === "string") return dumpString(value, options);
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value instanceof PyInt) return value.value.toString();
  if (value instanceof PyFloat) return dumpFloat(value.value);
  const items: string[] = Array.isArray(value)
    ? value.map((item) => dumpValue(item, options, depth + 1))
    : [...value.entries()].map(([key, item]) => `${dumpString(key, options)}: ${dumpValue(item, options, depth + 1)}`);
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (items.length === 0) return open + close;
  if (options.indent === undefined) return open + items.join(", ") + close;
  const inner = "\n" + " ".repeat(options.indent * (depth + 1));
  return open + inner + items.join("," + inner) + "\n" + " ".repeat(options.indent * depth) + close;
}

/** Python's json.dumps(value, ensure_ascii=…, indent=…) (ujson's with escapeSlash). */
export function jsonDumps(value: PyValue, options: DumpOptions): string {
  return dumpValue(value, options, 0);
}
