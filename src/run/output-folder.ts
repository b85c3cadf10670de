/**
 * outputs/{run}/ belongs to one run of one database. A marker file in the folder
 * (`.musique-run.json`: the database's real path, the run's name, id and start time) ties them
 * together, so the same --run-name with another --db, or another database's run, is refused
 * (exit 2, with the fix) instead of silently replacing its outputs and interleaving its log.
 * A new run needs a missing or empty folder (the marker is created exclusively, so two
 * processes cannot both take it); a resumed run needs its own marker (or, for a folder written
 * before markers existed, the folder recorded with the run). Spec: README "What happens when…".
 */
import { readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { makeOutputDirectory, outputFailure, writeJsonFile } from "../files.ts";
import type { RunRecord } from "../store/runs.ts";

export const MARKER = ".musique-run.json";

/** Who owns an output folder. */
export interface FolderOwner {
  database: string;
  run: string;
  run_id: number;
  started_at: string;
}

export function ownerOf(databasePath: string, run: RunRecord): FolderOwner {
  return { database: realpathSync(databasePath), run: run.name, run_id: run.id, started_at: run.startedAt };
}

function sameOwner(a: FolderOwner, b: FolderOwner): boolean {
  return a.database === b.database && a.run_id === b.run_id && a.started_at === b.started_at;
}

function readMarker(directory: string): FolderOwner | "unreadable" | null {
  let text: string;
  try {
    text = readFileSync(join(directory, MARKER), "utf8");
  } catch {
    return null;
  }
  try {
    const value = JSON.parse(text) as Partial<FolderOwner>;
    if (typeof value.database !== "string" || typeof value.run !== "string" || typeof value.run_id !== "number" || typeof value.started_at !== "string") {
      return "unreadable";
    }
    return { database: value.database, run: value.run, run_id: value.run_id, started_at: value.started_at };
  } catch {
    return "unreadable";
  }
}

/**
 * Whose `directory` is, by its marker: "own" (`owner`'s), "other" (another run's, or an unreadable
 * marker) or "unmarked" (no marker: outputs written before markers existed, or not musique's).
 */
export function folderOwnership(directory: string, owner: FolderOwner): { kind: "own" | "unmarked" } | { kind: "other"; whose: string } {
  const marker = readMarker(directory);
  if (marker === null) return { kind: "unmarked" };
  if (marker !== "unreadable" && sameOwner(marker, owner)) return { kind: "own" };
  return { kind: "other", whose: describeOwner(marker) };
}

/** After `runs rename` moved a folder: the marker carries the run's new name. */
export function renameMarker(directory: string, owner: FolderOwner): void {
  if (readMarker(directory) !== null) writeJsonFile(join(directory, MARKER), owner);
}

function entries(directory: string): string[] {
  try {
    return readdirSync(directory);
  } catch {
    return [];
  }
}

function taken(directory: string, whose: string): UsageError {
  return new UsageError(`output folder ${directory} belongs to ${whose}`, {
    cause: "the same --run-name was used with another --db, or by another run",
    fix: `pass --output-dir with another folder or choose another --run-name; or remove ${directory} if its outputs are no longer needed`,
  });
}

function describeOwner(owner: FolderOwner | "unreadable" | null): string {
  if (owner === null) return "files of an unknown run (it has no musique marker)";
  if (owner === "unreadable") return `an unknown run (its ${MARKER} cannot be read)`;
  return `run "${owner.run}" of database ${owner.database}`;
}

/** Before a new run is created: its folder must be missing or empty. */
export function checkFolderFree(directory: string): void {
  const found = entries(directory);
  if (found.length > 0) throw taken(directory, describeOwner(readMarker(directory)));
}

/**
 * Take the folder for `owner` (creating it); refuse a folder that belongs to another run. `recorded`
 * is the folder stored with a resumed run (accepted without a marker: outputs of older versions).
 */
export function claimOutputFolder(directory: string, owner: FolderOwner, resumed: boolean, recorded: string | null): void {
  makeOutputDirectory(directory, "--output-dir");
  const marker = readMarker(directory);
  if (marker !== null && marker !== "unreadable" && sameOwner(marker, owner)) return;
  const adoptable = resumed && marker === null && recorded !== null && resolve(recorded) === resolve(directory);
  if (marker !== null || (!adoptable && entries(directory).length > 0)) throw taken(directory, describeOwner(marker));
  const path = join(directory, MARKER);
  if (adoptable) {
    writeJsonFile(path, owner, "--output-dir");
    return;
  }
  try {
    // Exclusive create: of two processes claiming one empty folder, only one wins.
    writeFileSync(path, JSON.stringify(owner, null, 2) + "\n", { flag: "wx" });
  } catch (error) {
    if ((error as { code?: unknown }).code === "EEXIST") throw taken(directory, describeOwner(readMarker(directory)));
    throw outputFailure(path, error, "--output-dir");
  }
}
