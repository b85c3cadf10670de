/**
 * `musique runs rm` and `musique runs rename` (README "Managing runs"): the database rows through
 * src/store/manage.ts, and the run's output folder handled on purpose. A folder is only ever
 * deleted or moved when it is the run's own: a directory whose config.json is exactly the run's
 * stored configuration (what musique wrote there). `rm` keeps folders unless asked (`--outputs`);
 * `rename` moves outputs/OLD to outputs/NEW beside it when nothing is in the way, else leaves it.
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { outputFailure, writeJsonFile } from "../files.ts";
import { holderAlive } from "./lock.ts";
import { folderOwnership, ownerOf, renameMarker } from "./output-folder.ts";
import {
  canonicalJson,
  checkNewRunName,
  configHash,
  deleteRun,
  lockOf,
  renameRun,
  requireRuns,
  rowCountsOf,
  type RunRecord,
  type Store,
} from "../store/index.ts";

/** What happened to a run's output folder. */
export interface FolderOutcome {
  path: string | null;
  action: "deleted" | "kept" | "moved" | "none";
  /** Why it was kept or not touched. */
  reason?: string;
}

/** The run's output folder if it is the run's own (by its marker, else its config.json), else why not. */
function ownFolder(store: Store, run: RunRecord): { path: string } | { path: string | null; reason: string } {
  if (run.outputDir === null) return { path: null, reason: "the run has no output folder recorded" };
  const path = resolve(run.outputDir);
  if (!existsSync(path)) return { path, reason: "it no longer exists" };
  if (!statSync(path).isDirectory()) return { path, reason: "it is not a folder" };
  const ownership = folderOwnership(path, ownerOf(store.path, run));
  if (ownership.kind === "own") return { path };
  if (ownership.kind === "other") return { path, reason: `it belongs to ${ownership.whose}` };
  let written: string;
  try {
    written = canonicalJson(JSON.parse(readFileSync(join(path, "config.json"), "utf8")));
  } catch {
    return { path, reason: "it has no readable config.json, so it may not be this run's" };
  }
  if (written !== run.configJson) return { path, reason: "its config.json is another run's" };
  return { path };
}

/** A folder left as it is: "none" when there is none (any more), else "kept". */
function notTouched(folder: { path: string | null; reason: string }): FolderOutcome {
  const exists = folder.path !== null && existsSync(folder.path);
  return { path: folder.path, action: exists ? "kept" : "none", reason: folder.reason };
}

export interface RemovalPlan {
  run: RunRecord;
  /** Rows per table that go with it. */
  rows: Record<string, number>;
}

/** Refuse while a live musique process runs `run` (its lock: lock.ts); a run whose process died is fair game. */
function checkNotRunning(store: Store, run: RunRecord, doing: string): void {
  const lock = lockOf(store, run.id);
  if (lock === null || !holderAlive(lock)) return;
  throw new UsageError(`run "${run.name}" is being run by a musique process (pid ${lock.pid} on ${lock.host})`, {
    cause: `${doing} it now would pull its rows or its folder from under that process`,
    fix: `wait for it to finish, or stop it (Ctrl-C there, or kill ${lock.pid} on ${lock.host}) and run this again`,
  });
}

/** The runs to remove and what goes with them; a run a live process is running is refused. */
export function planRemoval(store: Store, names: readonly string[]): RemovalPlan[] {
  const runs = requireRuns(store, names);
  for (const run of runs) checkNotRunning(store, run, "deleting");
  return runs.map((run) => ({ run, rows: rowCountsOf(store, run.id) }));
}

export interface Removed {
  name: string;
  rows: Record<string, number>;
  folder: FolderOutcome;
}

/** Delete the planned runs (each in its own transaction); their folders only with `outputs`. */
export function removeRuns(store: Store, plans: readonly RemovalPlan[], outputs: boolean): Removed[] {
  return plans.map(({ run, rows }) => {
    const folder = ownFolder(store, run);
    deleteRun(store, run.id);
    if ("reason" in folder) return { name: run.name, rows, folder: notTouched(folder) };
    if (!outputs) return { name: run.name, rows, folder: { path: folder.path, action: "kept", reason: "--outputs not given" } };
    try {
      rmSync(folder.path, { recursive: true });
    } catch (error) {
      throw outputFailure(folder.path, error);
    }
    return { name: run.name, rows, folder: { path: folder.path, action: "deleted" } };
  });
}

/** The stored configuration with its run name set to `name` (null when it has none): run_name, or runName in runs recorded before. */
function renamedConfig(configJson: string, name: string): Record<string, unknown> | null {
  const parsed: unknown = JSON.parse(configJson);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return null;
  if ("run_name" in parsed) return { ...parsed, run_name: name };
  if ("runName" in parsed) return { ...parsed, runName: name };
  return null;
}

/** Rename a run; its own output folder outputs/OLD moves to outputs/NEW when that is free. */
export function renameRunAndFolder(store: Store, oldName: string, newName: string): { folder: FolderOutcome } {
  const [run] = requireRuns(store, [oldName]);
  if (run === undefined) throw new UsageError(`no run named "${oldName}" in ${store.path}`);
  checkNotRunning(store, run, "renaming");
  checkNewRunName(store, newName);
  const config = renamedConfig(run.configJson, newName);
  const configJson = config === null ? undefined : canonicalJson(config);
  const stored = { name: newName, ...(config === null ? {} : { configJson, configHash: configHash(config) }) };
  const folder = ownFolder(store, run);
  if ("reason" in folder || basename(folder.path) !== run.name) {
    renameRun(store, run.id, stored);
    return { folder: notTouched("reason" in folder ? folder : { path: folder.path, reason: "its name is not the run's" }) };
  }
  const destination = join(dirname(folder.path), newName);
  if (existsSync(destination)) {
    renameRun(store, run.id, stored);
    return { folder: { path: folder.path, action: "kept", reason: `${destination} already exists` } };
  }
  try {
    renameSync(folder.path, destination);
  } catch (error) {
    throw outputFailure(destination, error);
  }
  try {
    renameRun(store, run.id, { ...stored, outputDir: destination });
  } catch (error) {
    renameSync(destination, folder.path);
    throw error;
  }
  if (config !== null) writeJsonFile(join(destination, "config.json"), config);
  renameMarker(destination, ownerOf(store.path, { ...run, name: newName }));
  return { folder: { path: destination, action: "moved" } };
}
