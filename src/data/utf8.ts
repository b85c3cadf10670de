/**
 * UTF-8 decoding that notices invalid bytes. Dataset files are UTF-8 (datasets.md); a byte
 * sequence that is not valid UTF-8 is still replaced by U+FFFD, as every reader does, but the
 * loader warns naming the file and line (or Parquet row) instead of replacing it silently.
 */

const strict = new TextDecoder("utf-8", { fatal: true });
const lenient = new TextDecoder("utf-8");
const NEWLINE = 0x0a;

/** The text of `bytes`, and whether any invalid UTF-8 had to be replaced. */
export function decodeUtf8(bytes: Uint8Array): { text: string; invalid: boolean } {
  try {
    return { text: strict.decode(bytes), invalid: false };
  } catch {
    return { text: lenient.decode(bytes), invalid: true };
  }
}

/** 1-based numbers of the lines of `bytes` that hold invalid UTF-8. */
export function invalidUtf8Lines(bytes: Uint8Array): number[] {
  const lines: number[] = [];
  let start = 0;
  for (let line = 1; start <= bytes.byteLength; line++) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end < 0) end = bytes.byteLength;
    if (decodeUtf8(bytes.subarray(start, end)).invalid) lines.push(line);
    start = end + 1;
  }
  return lines;
}

/** A string that was decoded with replacements holds U+FFFD somewhere (searched in nested values). */
export function holdsReplacement(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\uFFFD");
  if (Array.isArray(value)) return value.some(holdsReplacement);
  if (typeof value === "object" && value !== null) return Object.values(value).some(holdsReplacement);
  return false;
}
