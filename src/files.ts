/**
 * The one way musique writes a file a person or a script reads: a temporary sibling, then a
 * rename in the same folder, so a reader never sees half of it and a failed write (disk full,
 * `ulimit -f`, a directory in the way) leaves the previous file as it was. Every output —
 * outputs/{run}/…, `report --html`, `retrieve --output`, train's groups.jsonl — goes through
 * `writeOutputFile`, and every failure is one OutputError: exit code 6 with the message
 * documented in the README ("cannot write FILE: …", the cause, the fix). The Hub cache
 * (src/data/cache.ts) uses the raw `writeFileAtomic` and maps failures itself.
 */
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { StoreError } from "./errors.ts";

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

/** A failed write of an output file or folder (exit code 6, like every write failure). */
export class OutputError extends StoreError {}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

const FULL = new Set(["ENOSPC", "EFBIG", "EDQUOT"]);
const NOT_WRITABLE = new Set(["EACCES", "EPERM", "EROFS"]);
const NO_FOLDER = new Set(["ENOTDIR", "ENOENT"]);

/**
 * The documented message of a failed write: `cannot write PATH: what (CODE)`, the likely cause,
 * and the fix; `flag` names the option that chooses the path (e.g. --output-dir).
 */
export function outputFailure(path: string, error: unknown, flag?: string): OutputError {
  const code = errorCode(error) ?? "error";
  const elsewhere = flag ? `, or pass ${flag} with another path` : "";
  let what: string;
  let cause: string;
  let fix: string;
  if (FULL.has(code)) {
    what = "no space left";
    cause = "the disk is full or a file-size limit (ulimit -f) was reached";
    fix = `free some disk space (or raise the limit) and run the command again${elsewhere}`;
  } else if (code === "EISDIR") {
    what = "it is a directory";
    cause = "the path names an existing folder, not a file";
    fix = `name a file, not a folder${elsewhere}`;
  } else if (NOT_WRITABLE.has(code)) {
    what = "permission denied";
    cause = "the folder is not writable (permissions, or a read-only file system)";
    fix = `check the folder's permissions${elsewhere}`;
  } else if (NO_FOLDER.has(code)) {
    what = "a part of the path is not a folder";
    cause = "a parent of the path is a file, or could not be created";
    fix = `check the path${elsewhere}`;
  } else {
    what = error instanceof Error ? error.message : String(error);
    cause = "the file system refused the write";
    fix = `check the path and the disk${elsewhere}`;
  }
  return new OutputError(`cannot write ${path}: ${what} (${code})`, { cause, fix: `${fix}; nothing was half-written`, error });
}

/** Create a folder (and its parents) for outputs; a failure is an OutputError. */
export function makeOutputDirectory(path: string, flag?: string): string {
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    throw outputFailure(path, error, flag);
  }
  return path;
}

/**
 * Write an output file atomically, creating its folder; an existing file is replaced only by a
 * complete new one. A failure is an OutputError (exit code 6) and leaves no temporary file.
 */
export function writeOutputFile(path: string, content: string | Uint8Array, flag?: string): void {
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
      throw Object.assign(new Error(`${path} is a directory`), { code: "EISDIR" });
    }
    mkdirSync(dirname(resolve(path)), { recursive: true });
    writeFileAtomic(path, content);
  } catch (error) {
    throw outputFailure(path, error, flag);
  }
}

/** Pretty-printed JSON with a final newline. */
export function writeJsonFile(path: string, value: unknown, flag?: string): void {
  writeOutputFile(path, JSON.stringify(value, null, 2) + "\n", flag);
}

/** One JSON document per line (JSONL). */
export function writeJsonLinesFile(path: string, rows: readonly unknown[], flag?: string): void {
  writeOutputFile(path, rows.map((row) => JSON.stringify(row)).join("\n") + (rows.length > 0 ? "\n" : ""), flag);
}
