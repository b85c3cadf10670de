/**
 * DSPy 3.0.2's `format_field_value` (adapters/utils.py; program files README §4 "Values"): how a
 * value is written into a prompt, for inputs and outputs, demos and the main request alike.
 * - a str is inserted verbatim;
 * - a list for a str-typed field becomes `N/A` (empty), `«item»` (one), or `[i] «item»` lines,
 *   with multi-line items as `«««\n    …\n»»»`;
 * - a dict or list otherwise becomes `json.dumps(…, ensure_ascii=False)`;
 * - anything else is `str()`: None, True/False, 42, 1.5.
 */
import { isPyDict, jsonDumps, pythonStr, type PyValue } from "./pyvalue.ts";
import type { SignatureField } from "./signature.ts";

function formatBlob(blob: string): string {
  if (!blob.includes("\n") && !blob.includes("«") && !blob.includes("»")) return `«${blob}»`;
  return `«««\n    ${blob.replaceAll("\n", "\n    ")}\n»»»`;
}

/** DSPy's _format_input_list_field_value (items that are not strings are str()'d first). */
function formatListForText(items: readonly PyValue[]): string {
  if (items.length === 0) return "N/A";
  if (items.length === 1) return formatBlob(pythonStr(items[0] ?? null));
  return items.map((item, index) => `[${index + 1}] ${formatBlob(pythonStr(item))}`).join("\n");
}

export function formatFieldValue(field: SignatureField, value: PyValue): string {
  if (Array.isArray(value) && field.type === "str") return formatListForText(value);
  if (Array.isArray(value) || (value !== null && typeof value === "object" && isPyDict(value))) {
    return jsonDumps(value, { ensureAscii: false });
  }
  return pythonStr(value);
}

/** Inputs given as plain strings (the program's own calls) as the values formatting takes. */
export function valuesOf(inputs: Readonly<Record<string, string>>): Map<string, PyValue> {
  return new Map(Object.entries(inputs));
}
