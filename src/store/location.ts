/**
 * Where the results database lives (README "The results database"): a warning when it is on a
 * network file system (SQLite's WAL needs every process using the file on one machine, so
 * several nodes writing one shared file can corrupt it), and a pointer to the database of
 * earlier versions (./outputs/musique.db) when the per-user default is new.
 */
import { existsSync, statfsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DEFAULTS, defaultDatabasePath } from "../config/defaults.ts";
import { log } from "../log.ts";

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

/**
 * When `path` is the per-user default and the database earlier versions used by default
 * (./outputs/musique.db) is in the working directory: how to reach those runs. Else null.
 */
export function previousDatabaseHint(path: string): string | null {
  if (resolve(path) !== resolve(defaultDatabasePath()) || !existsSync(DEFAULTS.previousDb)) return null;
  return `${DEFAULTS.previousDb} holds runs from before the database moved to ${path}: pass --db ${DEFAULTS.previousDb}, or copy them over with musique import ${DEFAULTS.previousDb}`;
}
