/**
 * Keys that are not snake_case in a JSON document musique wrote (every file has one key style),
 * with their path; values that are other programs' records (Arbor's checkpoint record and
 * metadata, the GRPO batch as sent) are not looked into.
 */
const FOREIGN = new Set(["arbor_record", "metadata", "batch"]);

export function keysNotSnakeCase(value: unknown, path = "$"): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => keysNotSnakeCase(item, `${path}[${index}]`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, item]) => [
    ...(/[A-Z]/.test(key) ? [`${path}.${key}`] : []),
    ...(FOREIGN.has(key) ? [] : keysNotSnakeCase(item, `${path}.${key}`)),
  ]);
}
