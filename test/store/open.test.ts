import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ExitCode, StoreError } from "../../src/errors.ts";
import { SCHEMA_VERSION, createRun, openReadOnly, openStore } from "../../src/store/index.ts";
import { temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory();
afterAll(() => directory.remove());

function catchError(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

const RUN = { name: "evaluate-1", kind: "evaluate" as const, config: { seed: 1 }, toolVersion: "test" };

describe("openStore", () => {
  test("creates the file and its parent directory and migrates an empty database to the current schema", () => {
    const path = join(directory.path, "nested", "deeper", "musique.db");
    const store = openStore(path);
    expect(existsSync(path)).toBe(true);
    const version = store.database.query("PRAGMA user_version").get() as { user_version: number };
    expect(version.user_version).toBe(SCHEMA_VERSION);
    const names = (store.database.query("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name").all() as { name: string }[]).map(
      (row) => row.name,
    );
    expect(names).toEqual([
      "arbor_jobs",
      "checkpoints",
      "concurrency_limits",
      "failed_calls",
      "groups",
      "hop_summary",
      "lm_cache",
      "module_calls",
      "predictions",
      "rollouts",
      "run_examples",
      "run_locks",
      "run_summary",
      "run_tags",
      "runs",
      "trainer_log_reads",
      "trainer_logs",
      "training_steps",
      "validations",
    ]);
    store.close();
  });

  test("uses WAL journaling, foreign keys and a busy timeout", () => {
    const store = openStore(directory.database("wal.db"));
    expect(store.database.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(store.database.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });
    expect(store.database.query("PRAGMA busy_timeout").get()).toEqual({ timeout: 5000 });
    store.close();
  });

  test("reopening a current database keeps its rows (migrations run once)", () => {
    const path = directory.database("reopen.db");
    const first = openStore(path);
    createRun(first, RUN);
    first.close();
    const second = openStore(path);
    expect(second.database.query("SELECT COUNT(*) AS n FROM runs").get()).toEqual({ n: 1 });
    second.close();
  });

  test("a database from a newer musique is refused with exit code 6", () => {
    const path = directory.database("newer.db");
    openStore(path).close();
    const raw = new Database(path);
    raw.run(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    for (const open of [() => openStore(path), () => openReadOnly(path)]) {
      const error = catchError(open) as StoreError;
      expect(error).toBeInstanceOf(StoreError);
      expect(error.exitCode).toBe(ExitCode.store);
      expect(error.message).toBe(`database ${path} was written by a newer musique (schema ${SCHEMA_VERSION + 5} > ${SCHEMA_VERSION}): upgrade musique`);
    }
  });

  test("a newer-schema file is refused before its journal mode is changed: byte for byte untouched", () => {
    const path = directory.database("newer-rollback.db");
    const raw = new Database(path);
    raw.run("CREATE TABLE runs (id INTEGER PRIMARY KEY)");
    raw.run(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    const before = readFileSync(path);
    const error = catchError(() => openStore(path)) as StoreError;
    expect(error.message).toContain("was written by a newer musique");
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  test("another program's SQLite database is refused before anything is written: byte for byte untouched", () => {
    const path = directory.database("other-program.db");
    const raw = new Database(path);
    raw.run("CREATE TABLE notes (text TEXT)");
    raw.run("INSERT INTO notes VALUES ('keep me')");
    raw.close();
    const before = readFileSync(path);
    const error = catchError(() => openStore(path)) as StoreError;
    expect(error).toBeInstanceOf(StoreError);
    expect(error.message).toBe(`${path} is not a musique database (it holds other tables: notes)`);
    expect(readFileSync(path).equals(before)).toBe(true);
    for (const suffix of ["-journal", "-wal", "-shm"]) expect(existsSync(path + suffix)).toBe(false);
  });

  test("an empty SQLite file (no tables) becomes a musique database", () => {
    const path = directory.database("empty-sqlite.db");
    const raw = new Database(path);
    raw.run("PRAGMA page_size = 4096");
    raw.run("VACUUM");
    raw.close();
    const store = openStore(path);
    expect((store.database.query("PRAGMA user_version").get() as { user_version: number }).user_version).toBe(SCHEMA_VERSION);
    store.close();
  });

  test("a folder or a device given as the database is refused (no journal beside it)", () => {
    for (const [path, kind] of [
      [directory.path, "a directory"],
      ["/dev/null", "a character device"],
    ] as const) {
      for (const open of [() => openStore(path), () => openReadOnly(path)]) {
        const error = catchError(open) as StoreError;
        expect(error).toBeInstanceOf(StoreError);
        expect(error.message).toBe(`--db ${path} is ${kind}, not a database file`);
      }
    }
    expect(existsSync("/dev/null-journal")).toBe(false);
  });

  test("a file that is not a database is refused and left untouched", () => {
    const path = directory.database("notes.txt");
    writeFileSync(path, "my precious notes, not a database\n".repeat(200));
    const error = catchError(() => openStore(path)) as StoreError;
    expect(error).toBeInstanceOf(StoreError);
    expect(error.message).toContain(`${path} is not a musique database`);
    expect(readFileSync(path, "utf8")).toBe("my precious notes, not a database\n".repeat(200));
  });

  test("a database locked by another connection gives a clear error naming the file", () => {
    const path = directory.database("locked.db");
    openStore(path).close();
    const holder = new Database(path);
    holder.run("PRAGMA journal_mode = WAL");
    holder.run("BEGIN EXCLUSIVE");
    holder.run("INSERT INTO lm_cache (key, model, response_json, created_at) VALUES ('k', 'm', '{}', 'now')");
    try {
      const store = openStore(path, { busyTimeoutMs: 50 });
      const error = catchError(() => createRun(store, RUN)) as StoreError;
      expect(error).toBeInstanceOf(StoreError);
      expect(error.exitCode).toBe(ExitCode.store);
      expect(error.message).toBe(`database ${path} is locked: another process holds it`);
      store.close();
    } finally {
      holder.run("ROLLBACK");
      holder.close();
    }
  });

  test("migrating a new database while another connection holds the lock fails clearly", () => {
    const path = directory.database("locked-empty.db");
    const holder = new Database(path);
    holder.run("PRAGMA journal_mode = WAL");
    holder.run("BEGIN EXCLUSIVE");
    holder.run("CREATE TABLE other (x)");
    try {
      const error = catchError(() => openStore(path, { busyTimeoutMs: 50 })) as StoreError;
      expect(error).toBeInstanceOf(StoreError);
      expect(error.message).toBe(`database ${path} is locked: another process holds it`);
    } finally {
      holder.run("ROLLBACK");
      holder.close();
    }
  });
});

describe("openReadOnly", () => {
  test("a missing file is an error and no file is created", () => {
    const path = directory.database("missing.db");
    const error = catchError(() => openReadOnly(path)) as StoreError;
    expect(error).toBeInstanceOf(StoreError);
    expect(error.message).toBe(`no database at ${path}`);
    expect(existsSync(path)).toBe(false);
  });

  test("an SQLite file without the musique schema is refused", () => {
    const path = directory.database("foreign.db");
    const other = new Database(path);
    other.run("CREATE TABLE notes (text)");
    other.close();
    const error = catchError(() => openReadOnly(path)) as StoreError;
    expect(error).toBeInstanceOf(StoreError);
    expect(error.message).toBe(`${path} is not a musique database (it has no musique schema)`);
  });

  test("reads a database written in WAL mode after the writer closed", () => {
    const path = directory.database("readable.db");
    const store = openStore(path);
    createRun(store, RUN);
    store.close();
    const reader = openReadOnly(path);
    expect(reader.database.query("SELECT name FROM runs").all()).toEqual([{ name: "evaluate-1" }]);
    reader.close();
  });
});
