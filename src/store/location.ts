/**
 * Where the results database lives (README "The results database"): a warning when it is on a
 * network file system (SQLite's WAL needs every process using the file on one machine, so
 * several nodes writing one shared file can corrupt it), which of --db / MUSIQUE_DB / the per-user
 * default chose it (the run header), and pointers to the database earlier versions used by default
 * (./outputs/musique.db) while it holds runs the per-user default does not.
 */
import { Database } from "bun:sqlite";
import { existsSync, statfsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DEFAULTS, defaultDatabasePath } from "../config/defaults.ts";
import { log } from "../log.ts";
import type { Store } from "./database.ts";

/** statfs f_type → name, for the file systems clusters share between nodes. */
const NETWORK_FILE_SYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x6969, "NFS"],
  [0x517b, "SMB"],
  [0xff534d42, "CIFS"],
  [0xfe534d42, "SMB2"],
  [0x0bd00bd0, "Lustre"],
  [0x47504653, "GPFS (Spectrum Scale)"],
  [0x00c36400, "CephFS"],
  [0x19830326, "BeeGFS"],
  [0x5346414f, "AFS"],
  [0xaad7aaea, "PanFS"],
  [0x20030528, "OrangeFS"],
]);

/** The network file system a statfs type number stands for, or null for a local one. */
export function networkFileSystemName(type: number): string | null {
  return NETWORK_FILE_SYSTEMS.get(type >>> 0) ?? null;
}

/** The network file system `path`'s folder is on, or null (local, or it cannot be told). */
export function networkFileSystemOf(path: string): string | null {
  try {
    return networkFileSystemName(statfsSync(dirname(resolve(path))).type);
  } catch {
    return null;
  }
}

const warned = new Set<string>();

/** Warn (once per file) that a database opened for writing is on a network file system. */
export function warnIfShared(path: string): void {
  const fileSystem = networkFileSystemOf(path);
  if (fileSystem === null || warned.has(resolve(path))) return;
  warned.add(resolve(path));
  log.warn(
    `database ${path} is on a network file system (${fileSystem}): SQLite needs every process that writes it on one machine, ` +
      "so runs on several nodes writing this one file at the same time can corrupt it. Give each node a database on a local disk " +
      "(MUSIQUE_DB=/local/disk/musique.db or --db) and merge them with musique import",
  );
}

/** Where the database path of a command came from, as the run header says it. */
export type DatabaseSource = "--db" | "MUSIQUE_DB" | "the per-user default";

/**
 * Which of --db, MUSIQUE_DB and the per-user default chose `path` (the options keep only the
 * path): MUSIQUE_DB when it names this file, the default when it is the default's path, else --db.
 */
export function databaseSource(path: string, env: Record<string, string | undefined> = process.env): DatabaseSource {
  const fromEnvironment = env.MUSIQUE_DB;
  if (fromEnvironment !== undefined && fromEnvironment !== "") return resolve(fromEnvironment) === resolve(path) ? "MUSIQUE_DB" : "--db";
  return resolve(path) === resolve(defaultDatabasePath(env)) ? "the per-user default" : "--db";
}

/** The run header's database line: `database PATH (SOURCE)`. */
export function describeDatabase(path: string, env: Record<string, string | undefined> = process.env): string {
  const source = databaseSource(path, env);
  return `database ${path} (${source === "the per-user default" ? "the per-user default; --db or MUSIQUE_DB to choose another" : source})`;
}

/** The database earlier versions used by default, when `path` is the per-user default and it is there. */
function previousDatabaseFor(path: string): string | null {
  if (resolve(path) === resolve(DEFAULTS.previousDb)) return null;
  if (resolve(path) !== resolve(defaultDatabasePath()) || !existsSync(DEFAULTS.previousDb)) return null;
  return DEFAULTS.previousDb;
}

/** The runs (uid, or null in a database from before uids; name) of a database, read without changing it; null when unreadable. */
function runsOf(database: Database): { uid: string | null; name: string }[] | null {
  try {
    const hasUid = database.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM pragma_table_info('runs') WHERE name = 'uid'").get()?.n === 1;
    return database.query<{ uid: string | null; name: string }, []>(`SELECT ${hasUid ? "uid" : "NULL"} AS uid, name FROM runs`).all();
  } catch {
    return null;
  }
}

function runsOfFile(path: string): { uid: string | null; name: string }[] | null {
  let database: Database | undefined;
  try {
    database = new Database(path, { readonly: true });
    database.run("PRAGMA query_only = ON");
    return runsOf(database);
  } catch {
    return null;
  } finally {
    database?.close();
  }
}

/**
 * When `store` is the per-user default and the database earlier versions used by default
 * (./outputs/musique.db) is in the working directory with runs `store` does not hold (by uid, or
 * by name for runs from before uids): how many, and how to reach them. Else null. So runs
 * recorded before the default moved stay one flag (or one import) away.
 */
function previousDatabaseNotice(store: Store): string | null {
  const previous = previousDatabaseFor(store.path);
  if (previous === null) return null;
  const theirs = runsOfFile(previous);
  if (theirs === null || theirs.length === 0) return null;
  const ours = runsOf(store.database) ?? [];
  const uids = new Set(ours.map((run) => run.uid));
  const names = new Set(ours.map((run) => run.name));
  const missing = theirs.filter((run) => (run.uid === null ? !names.has(run.name) : !uids.has(run.uid)));
  if (missing.length === 0) return null;
  const runs = missing.length === 1 ? `1 run (${missing[0]?.name})` : `${missing.length} runs`;
  return (
    `${previous}, the database earlier versions used, holds ${runs} not in ${store.path}: ` +
    `pass --db ${previous} to use it, or copy its runs here once with musique import ${previous}`
  );
}

const noticed = new Set<string>();

/** Log previousDatabaseNotice once per database and process. */
export function noticePreviousDatabase(store: Store): void {
  if (noticed.has(resolve(store.path))) return;
  const notice = previousDatabaseNotice(store);
  if (notice === null) return;
  noticed.add(resolve(store.path));
  log.info(notice);
}

/**
 * When `path` is the per-user default and the earlier default database in the working directory
 * holds a run named `name`: where it is and how to reach it. Else null (for "no run named" errors).
 */
export function previousDatabaseHolds(path: string, name: string): string | null {
  const previous = previousDatabaseFor(path);
  if (previous === null) return null;
  if (!(runsOfFile(previous) ?? []).some((run) => run.name === name)) return null;
  return `"${name}" is in ${previous}, the database earlier versions used: pass --db ${previous}, or copy its runs here with musique import ${previous}`;
}

/** When `path` (missing) is the per-user default and the earlier default database is here: how to reach its runs. Else null. */
export function previousDatabaseHint(path: string): string | null {
  const previous = previousDatabaseFor(path);
  if (previous === null) return null;
  return `${previous} holds runs from before the database moved to ${path}: pass --db ${previous}, or copy them over with musique import ${previous}`;
}
