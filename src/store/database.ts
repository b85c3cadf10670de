/**
 * Opening the results database: one SQLite file in WAL mode with a busy timeout and foreign keys,
 * migrated to the current schema. Every SQLite failure becomes a StoreError that names the file.
 * Nothing here ever deletes or truncates a database file, and a file that is not ours (another
 * program's SQLite file, a newer musique's, a device such as /dev/null) is refused before a
 * single byte is written to it or beside it (docs/store.md).
 */
import { Database } from "bun:sqlite";
import { closeSync, mkdirSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import { StoreError } from "../errors.ts";
import { noticePreviousDatabase, previousDatabaseHint, warnIfShared } from "./location.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "./schema.ts";

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** An open results database. Disposable: `using store = openStore(path)` closes it at the end of the block. */
export interface Store extends Disposable {
  /** The path as given. */
  readonly path: string;
  readonly database: Database;
  readonly readonly: boolean;
  close(): void;
}

/** A Store over an open connection; `close` (and disposal) closes it, then runs `after` (once). */
export function storeOf(path: string, database: Database, readonly: boolean, after?: () => void): Store {
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    database.close();
    after?.();
  };
  return { path, database, readonly, close, [Symbol.dispose]: close };
}

export interface OpenOptions {
  readonly?: boolean;
  /** How long a write waits for another process's lock before failing (default 5 s). */
  busyTimeoutMs?: number;
  /** Create the file when it is missing (default true); false: a missing file is reported. */
  create?: boolean;
  /**
   * Log where the database is when that matters (network file system, runs in the earlier
   * default database): default true for openStore, false for openReadOnly.
   */
  notices?: boolean;
}

interface SqliteFailure {
  code: string;
  message: string;
}

/** The `code` an error carries (SQLite's SQLITE_…, Node's E…), if any. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

function sqliteFailure(error: unknown): SqliteFailure | null {
  const code = errorCode(error);
  return error instanceof Error && code !== undefined && code.startsWith("SQLITE_") ? { code, message: error.message } : null;
}

const WRITE_IO_ERRORS = new Set(["SQLITE_IOERR_WRITE", "SQLITE_IOERR_FSYNC", "SQLITE_IOERR_DIR_FSYNC", "SQLITE_IOERR_TRUNCATE", "SQLITE_IOERR_SHMSIZE"]);

/** A file-system error (mkdir of the database's folder): ENOTDIR, EACCES, EROFS, ENOSPC… */
function fileSystemFailure(path: string, error: unknown, doing: string): StoreError | null {
  const code = errorCode(error);
  if (!(error instanceof Error) || code === undefined || !/^E[A-Z]+$/.test(code)) return null;
  const full = code === "ENOSPC" || code === "EFBIG" || code === "EDQUOT";
  return new StoreError(`cannot ${doing} database ${path} (${error.message})`, {
    cause: full ? "the disk is full or a size limit was reached" : "its folder cannot be created or written",
    fix: full ? "free some disk space, or pass --db with a file on another disk" : "pass --db with a path in a writable folder",
    error,
  });
}

/** Map an SQLite error to a StoreError naming the file; other errors pass through unchanged. */
export function storeFailure(path: string, error: unknown, doing = "use"): unknown {
  if (error instanceof StoreError) return error;
  const failure = sqliteFailure(error);
  if (!failure) return fileSystemFailure(path, error, doing) ?? error;
  const code = failure.code;
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new StoreError(`database ${path} is locked: another process holds it`, {
      cause: "another musique (or an SQLite tool) is writing to it, or holds a transaction open",
      fix: "wait for the other process to finish, or pass --db with a different file",
      error,
    });
  }
  if (code.startsWith("SQLITE_READONLY")) {
    return new StoreError(`database ${path} is read-only`, {
      cause: failure.message,
      fix: "check the file's permissions, or pass --db with a writable file",
      error,
    });
  }
  if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT")) {
    return new StoreError(`${path} is not a musique database (${failure.message})`, {
      fix: "pass --db with a different file; musique never overwrites an existing file",
      error,
    });
  }
  if (code.startsWith("SQLITE_FULL")) {
    return new StoreError(`could not write ${path}: the disk is full`, { fix: "free some disk space", error });
  }
  if (WRITE_IO_ERRORS.has(code)) {
    // EFBIG (ulimit -f) and many full-disk cases surface as a write I/O error, not SQLITE_FULL.
    return new StoreError(`cannot ${doing} database ${path}: writing it failed (${failure.message}, ${code})`, {
      cause: "the disk is full, a file-size limit (ulimit -f) was reached, or the file system failed",
      fix: "free disk space or raise the limit, or pass --db with a file on another disk; resume the run afterwards",
      error,
    });
  }
  if (code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_PERM") || code.startsWith("SQLITE_IOERR")) {
    return new StoreError(`cannot ${doing} database ${path} (${failure.message})`, {
      fix: "check that the directory exists and is writable, or pass --db",
      error,
    });
  }
  return new StoreError(`database ${path}: ${failure.message}`, { cause: code, error });
}

/** Run `work`, turning SQLite failures into StoreErrors. */
export function guarded<T>(store: Pick<Store, "path">, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw storeFailure(store.path, error);
  }
}

function schemaVersion(database: Database): number {
  return database.query<{ version: number }, []>("SELECT user_version AS version FROM pragma_user_version").get()?.version ?? 0;
}

/** The schema version of an open database (`PRAGMA user_version`). */
export function schemaVersionOf(store: Store): number {
  return guarded(store, () => schemaVersion(store.database));
}

function checkNotNewer(path: string, version: number): void {
  if (version > SCHEMA_VERSION) {
    throw new StoreError(`database ${path} was written by a newer musique (schema ${version} > ${SCHEMA_VERSION}): upgrade musique`, {
      fix: "install the newer musique, or pass --db with another file",
    });
  }
}

/**
 * Bring the file to the current schema in one write transaction. Foreign keys are off while the
 * migrations run (a migration may rebuild a table that others reference: dropping the old copy
 * must not cascade), and checked before the transaction commits; renames leave views alone
 * (legacy_alter_table) so that a table can be rebuilt under a view that reads it.
 */
function migrate(path: string, database: Database): void {
  const version = schemaVersion(database);
  checkNotNewer(path, version);
  if (version === SCHEMA_VERSION) return;
  database.run("PRAGMA foreign_keys = OFF");
  database.run("PRAGMA legacy_alter_table = ON");
  try {
    database
      .transaction(() => {
        // Re-read inside the write transaction: another process may have migrated meanwhile.
        const current = schemaVersion(database);
        checkNotNewer(path, current);
        for (let index = current; index < MIGRATIONS.length; index++) {
          database.run(MIGRATIONS[index] ?? "");
          database.run(`PRAGMA user_version = ${index + 1}`);
        }
        const broken = database.query("PRAGMA foreign_key_check").all();
        if (broken.length > 0)
          throw new StoreError(`database ${path}: the migration left ${broken.length} rows without their run`, { cause: JSON.stringify(broken.slice(0, 3)) });
      })
      .immediate();
  } finally {
    database.run("PRAGMA legacy_alter_table = OFF");
  }
}

function describeKind(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isFIFO()) return "a named pipe";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

/** --db must name a regular file (or nothing yet): /dev/null, a folder or a pipe is refused untouched. */
function checkRegularFile(path: string): Stats | undefined {
  let stats: Stats | undefined;
  try {
    stats = statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    throw storeFailure(path, error, "open");
  }
  if (stats && !stats.isFile()) {
    throw new StoreError(`--db ${path} is ${describeKind(stats)}, not a database file`, {
      cause: "the database must be a regular file (SQLite keeps a journal beside it)",
      fix: "pass --db with a file path, e.g. ./outputs/musique.db (a missing file is created)",
    });
  }
  return stats;
}

function notMusique(path: string, why: string): StoreError {
  return new StoreError(`${path} is not a musique database (${why})`, {
    fix: "pass --db with the file musique evaluate or train wrote, or a new file; musique never changes a file it did not create",
  });
}

const SQLITE_MAGIC = "SQLite format 3\0";

/**
 * Before anything is written to an existing, non-empty file: it must be an SQLite file with the
 * musique schema (or no schema at all), not from a newer musique. Read without writing a byte
 * (the header, then a read-only connection), so a refused file is left exactly as it was.
 * Returns whether a file was there.
 */
function checkExisting(path: string): boolean {
  const stats = checkRegularFile(path);
  if (!stats) return false;
  if (stats.size === 0) return true;
  let header: string;
  try {
    const handle = openSync(path, "r");
    try {
      const bytes = Buffer.alloc(16);
      readSync(handle, bytes, 0, 16, 0);
      header = bytes.toString("latin1");
    } finally {
      closeSync(handle);
    }
  } catch (error) {
    throw storeFailure(path, error, "open");
  }
  if (header !== SQLITE_MAGIC) throw notMusique(path, "it is not an SQLite file");
  let probe: Database | undefined;
  try {
    probe = new Database(path, { readonly: true, strict: true });
    probe.run(`PRAGMA busy_timeout = ${DEFAULT_BUSY_TIMEOUT_MS}`);
    const version = schemaVersion(probe);
    checkNotNewer(path, version);
    const tables = probe
      .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((row) => row.name);
    if (version === 0 && tables.length > 0) throw notMusique(path, `it holds other tables: ${tables.slice(0, 5).join(", ")}`);
    if (version > 0 && !tables.includes("runs")) throw notMusique(path, "it has a schema version but no musique tables");
  } catch (error) {
    throw storeFailure(path, error, "open");
  } finally {
    probe?.close();
  }
  return true;
}

/**
 * Open (creating it and its directory if needed) and migrate the database at `path`. An existing
 * file that is not a musique database, or is from a newer musique, is refused before anything is
 * written to it (not even the journal mode).
 */
export function openStore(path: string, options: OpenOptions = {}): Store {
  if (options.readonly) return openReadOnly(path, options);
  const busyTimeout = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  let database: Database | undefined;
  try {
    if (options.create === false && !checkRegularFile(path)) throw missingDatabase(path);
    mkdirSync(dirname(resolve(path)), { recursive: true });
    checkExisting(path);
    if (options.notices !== false) warnIfShared(path);
    database = new Database(path, { create: true, readwrite: true, strict: true });
    database.run(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeout))}`);
    database.run("PRAGMA journal_mode = WAL");
    database.run("PRAGMA synchronous = NORMAL");
    migrate(path, database);
    database.run("PRAGMA foreign_keys = ON");
  } catch (error) {
    database?.close();
    throw storeFailure(path, error, "open");
  }
  const store = storeOf(path, database, false);
  if (options.notices !== false) noticePreviousDatabase(store);
  return store;
}

function missingDatabase(path: string): StoreError {
  return new StoreError(`no database at ${path}`, {
    cause: "no run has been recorded there yet, or --db / MUSIQUE_DB points elsewhere",
    fix: previousDatabaseHint(path) ?? "run musique evaluate (or train) first, or pass --db with the file that holds your runs",
  });
}

/**
 * Open an existing database for reading only (never creates it). The connection is opened
 * read-only and with `PRAGMA query_only`, so no statement can change the file.
 */
export function openReadOnly(path: string, options: Pick<OpenOptions, "busyTimeoutMs" | "notices"> = {}): Store {
  if (!checkRegularFile(path)) throw missingDatabase(path);
  let database: Database | undefined;
  try {
    database = new Database(path, { readonly: true, strict: true });
    database.run(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
    database.run("PRAGMA query_only = ON");
    const version = schemaVersion(database);
    checkNotNewer(path, version);
    if (version === 0) {
      throw new StoreError(`${path} is not a musique database (it has no musique schema)`, {
        fix: "pass --db with the file musique evaluate or train wrote",
      });
    }
  } catch (error) {
    database?.close();
    throw storeFailure(path, error, "open");
  }
  const store = storeOf(path, database, true);
  if (options.notices === true) noticePreviousDatabase(store);
  return store;
}

/** Run `work` in one write transaction (BEGIN IMMEDIATE), mapping SQLite failures. */
export function inTransaction<T>(store: Store, work: () => T): T {
  return guarded(store, () => store.database.transaction(work).immediate());
}

export function now(): string {
  return new Date().toISOString();
}
