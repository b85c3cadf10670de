/**
 * One key style in every file musique writes: snake_case, like the official MuSiQue files and the
 * database's columns (config.json and runs.config_json, validations.json, checkpoints.json,
 * scores.json, the Hub cache manifest). Code keeps camelCase options; these convert at the edge.
 * Conversion is shallow: values (a model's metrics, Arbor's records) keep their own keys.
 */

/** `numHops` → `num_hops` (a snake_case key stays as it is). */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** `num_hops` → `numHops` (a camelCase key stays as it is). */
function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

/** The same record with snake_case keys, in the same order. */
export function snakeKeys(record: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [snakeCase(key), value]));
}

/** The same record with camelCase keys (reads snake_case files and older camelCase ones alike). */
export function camelKeys(record: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [camelCase(key), value]));
}
