/**
 * The JSON columns (`…_json`, docs/store.md "Conventions"): written with `json()`, read through a
 * valibot schema, so a stored value is checked where it is read instead of cast. A NULL column, text
 * that is not JSON, or JSON of another shape reads as null (the caller says what that means).
 */
import * as v from "valibot";

/** JSON text for a JSON column; undefined and null become SQL NULL. */
export function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

/** Any JSON value of a column (null for NULL or text that is not JSON). */
export function jsonValue(text: string | null): unknown {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value;
  } catch {
    return null;
  }
}

/** A JSON column read as `schema`'s output, or null (NULL, not JSON, another shape). */
export function jsonColumn<S extends v.GenericSchema<unknown, unknown>>(text: string | null, schema: S): v.InferOutput<S> | null {
  const result = v.safeParse(schema, jsonValue(text));
  return result.success ? result.output : null;
}

const StringList = v.array(v.string());

/** A JSON list of strings (ids, gold answers); [] when the column holds none. */
export function stringList(text: string | null): string[] {
  return jsonColumn(text, StringList) ?? [];
}

/** A JSON list of numbers (rewards, advantages); an entry that is not a number (NaN is stored as null) reads as NaN; null when the column holds no list. */
export function numberList(text: string | null): number[] | null {
  const value = jsonValue(text);
  return Array.isArray(value) ? value.map((item) => (typeof item === "number" ? item : Number.NaN)) : null;
}
