/**
 * DSPy 3.0.2 ChatAdapter.parse (docs/specs/program.md §5), rule for rule:
 * - split with Python splitlines; each line is stripped and matched against
 *   `\[\[ ## (\w+) ## \]\]` anchored at the start only (a header mid-line is not a header);
 * - a header opens a section; the rest of the line (sliced from the UNSTRIPPED line at the
 *   match end in the stripped line: the quirk) becomes its first line if non-empty after strip;
 * - text before the first header is dropped; a section's value = lines joined "\n", stripped;
 * - per output field the first section wins; duplicates, unknown names and `completed` are ignored;
 * - any output field missing → ParseError (DSPy raises AdapterParseError).
 * Empty completion text: DSPy raises nothing there (no JSON fallback either) and sets every field
 * to None, so what follows differs by module: an empty extract_info crashes the example later
 * (TypeError), an empty generate_query sends the query None (golden retrieval ignores it, the
 * rerank service refuses it), an empty generate_answer is scored as the answer None (EM/F1 0,
 * recall kept) and GRPO trains on the text "None". musique makes it a format failure instead
 * (ParseError with `empty: true`, no fallback): scored 0 on every metric like DSPy's crashes, −1 in
 * GRPO. So it does not always score the same as DSPy (README "Compatibility with DSPy").
 */
import type { Signature, SignatureField } from "./signature.ts";
import { PYTHON_WORD, pythonBool, pythonSplitLines, pythonStrip } from "../../text/python.ts";

/** `[[ ## name ## ]]` with Python's `\w`. */
const HEADER = new RegExp(`^\\[\\[ ## (${PYTHON_WORD}+) ## \\]\\]`, "u");

export class ParseError extends Error {
  /** The completion text as received. */
  readonly rawText: string;
  /** Output fields that were found (and parsed) before the failure. */
  readonly fieldsFound: Record<string, string>;
  readonly missing: string[];
  /** The completion was empty (DSPy: all fields None, no exception). */
  readonly empty: boolean;

  constructor(message: string, details: { rawText: string; fieldsFound: Record<string, string>; missing: string[]; empty?: boolean }) {
    super(message);
    this.name = "ParseError";
    this.rawText = details.rawText;
    this.fieldsFound = details.fieldsFound;
    this.missing = details.missing;
    this.empty = details.empty ?? false;
  }
}

const TRUE_WORDS = new Set(["true", "yes", "y", "on", "1", "t"]);
const FALSE_WORDS = new Set(["false", "no", "n", "off", "0", "f"]);

/** pydantic's lax bool (after json_repair): true/false in any case, yes/no, y/n, on/off, 1/0, t/f. */
export function parseBool(value: string): boolean | null {
  let text = pythonStrip(value);
  const quoted = /^"(.*)"$/s.exec(text) ?? /^'(.*)'$/s.exec(text);
  if (quoted) text = pythonStrip(quoted[1] ?? "");
  const lower = text.toLowerCase();
  if (TRUE_WORDS.has(lower)) return true;
  if (FALSE_WORDS.has(lower)) return false;
  return null;
}

/** Sections in order: [header name (null before the first header), value]. */
function sections(text: string): Array<[string | null, string]> {
  const found: Array<[string | null, string[]]> = [[null, []]];
  for (const line of pythonSplitLines(text)) {
    const stripped = pythonStrip(line);
    const match = HEADER.exec(stripped);
    if (match) {
      // Python slices by code points: line[match.end():], with match.end() from the stripped line.
      const end = Array.from(match[0]).length;
      const rest = pythonStrip(Array.from(line).slice(end).join(""));
      found.push([match[1] ?? "", rest === "" ? [] : [rest]]);
    } else {
      found[found.length - 1]?.[1].push(line);
    }
  }
  return found.map(([name, lines]) => [name, pythonStrip(lines.join("\n"))]);
}

function parseField(field: SignatureField, value: string): string | null {
  if (field.type === "str") return value;
  const parsed = parseBool(value);
  return parsed === null ? null : pythonBool(parsed);
}

/** Parse a completion into the signature's output fields (strings; bools as "True"/"False"). */
export function parse(signature: Signature, text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  if (text === "") {
    throw new ParseError(`empty completion for ${signature.name}`, {
      rawText: text,
      fieldsFound: fields,
      missing: signature.outputs.map((field) => field.name),
      empty: true,
    });
  }
  for (const [name, value] of sections(text)) {
    if (name === null || name in fields) continue;
    const field = signature.outputs.find((candidate) => candidate.name === name);
    if (!field) continue;
    const parsed = parseField(field, value);
    if (parsed === null) {
      throw new ParseError(`${signature.name}: field \`${name}\` must be a bool (True or False), got ${JSON.stringify(value)}`, {
        rawText: text,
        fieldsFound: { ...fields },
        missing: signature.outputs.map((output) => output.name).filter((outputName) => !(outputName in fields)),
      });
    }
    fields[name] = parsed;
  }
  const missing = signature.outputs.map((field) => field.name).filter((name) => !(name in fields));
  if (missing.length > 0) {
    const expected = signature.outputs.map((field) => field.name).join(", ");
    throw new ParseError(
      `${signature.name}: the completion lacks ${missing.map((name) => `\`${name}\``).join(", ")} ` +
        `(expected fields: ${expected}; found: ${Object.keys(fields).join(", ") || "none"})`,
      { rawText: text, fieldsFound: fields, missing },
    );
  }
  return fields;
}
