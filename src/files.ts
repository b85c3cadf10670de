/**
 * Writing a file so that a reader never sees half of it: write a temporary sibling, then rename.
 * Used for the Hub cache (src/data/cache.ts) and the run outputs (src/run/outputs.ts).
 */
import { renameSync, rmSync, writeFileSync } from "node:fs";

/** A unique temporary sibling of `path` (`<path>.tmp-<pid>-<random>`). */
export function temporaryPath(path: string): string {
  return `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Write `data` to `path` atomically; on failure the temporary file is removed and the error rethrown. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const temporary = temporaryPath(path);
  try {
    writeFileSync(temporary, data);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
