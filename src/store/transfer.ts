/**
 * Copying runs between databases (`musique export` / `musique import`, README "Managing runs"):
 * a run and every row that belongs to it (each table with a `run_id` column) go to another
 * musique database in the order they were recorded, with new row ids. A run is known by its uid,
 * so copying a run the target already holds changes nothing (or brings it up to date when the
 * source recorded more since); a different run with the same name is refused unless renamed.
 * The response cache (lm_cache) belongs to no run and is not copied. Nothing here touches the
 * source file: an older-schema source is read from a migrated temporary copy.
 */
import { Database, type SQLQueryBindings } from "bun:sqlite";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StoreError, UsageError } from "../errors.ts";
import { guarded, openReadOnly, openStore, schemaVersionOf, storeFailure, storeOf, type Store } from "./database.ts";
import { RUN_NAME_PATTERN } from "../config/fields.ts";
import { findRun, type RunRecord } from "./runs.ts";
import { SCHEMA_VERSION } from "./schema.ts";

/** A table whose rows belong to a run (it has a `run_id` column). */
export interface RunTable {
  name: string;
  /** Every column except the table's own row id (`id INTEGER PRIMARY KEY`), in table order. */
  columns: string[];
}

/** Tags are the target database's own: merged on copy, left out of the content digest. */
const TAGS_TABLE = "run_tags";
/** Which process runs a run here (run_locks): a fact about this database's machine, never copied. */
const LOCAL_TABLES: ReadonlySet<string> = new Set(["run_locks"]);

function quoted(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

/** Every table with a run_id column, by name; each may refer to no table but runs. */
function runTables(store: Store): RunTable[] {
  return allRunTables(store).filter((table) => !LOCAL_TABLES.has(table.name));
}

/** runTables and the tables that only mean something on this machine (locks): what belongs to a run. */
function allRunTables(store: Store): RunTable[] {
  return guarded(store, () => {
    const names = store.database
      .query<{ name: string }, []>(
        `SELECT m.name AS name FROM sqlite_master m
         WHERE m.type = 'table' AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'run_id')
         ORDER BY m.name`,
      )
      .all();
    return names.map(({ name }) => {
      const columns = store.database.query<{ name: string; type: string; pk: number }, [string]>("SELECT name, type, pk FROM pragma_table_info(?)").all(name);
      const keys = columns.filter((column) => column.pk > 0);
      const rowId = keys.length === 1 && keys[0]?.type.toUpperCase() === "INTEGER" ? keys[0].name : null;
      const references = store.database
        .query<{ target: string; source: string }, [string]>('SELECT "table" AS target, "from" AS source FROM pragma_foreign_key_list(?)')
        .all(name);
      const foreign = references.find((reference) => reference.target !== "runs" || reference.source !== "run_id");
      if (foreign) {
        // A new migration made rows refer to each other by id: copying would need to remap them too.
        throw new StoreError(`table ${name} refers to ${foreign.target} (${foreign.source}): musique cannot copy its runs`, {
          cause: "a bug in musique: every table that belongs to a run may refer to runs only",
        });
      }
      return { name, columns: columns.filter((column) => column.name !== rowId).map((column) => column.name) };
    });
  });
}

/** Rows per table (tags and locks included) of one run, for `runs rm`. */
export function rowCountsOf(store: Store, runId: number, tables: readonly RunTable[] = allRunTables(store)): Record<string, number> {
  return guarded(store, () =>
    Object.fromEntries(
      tables.map((table) => [
        table.name,
        store.database.query<{ n: number }, [number]>(`SELECT COUNT(*) AS n FROM ${quoted(table.name)} WHERE run_id = ?`).get(runId)?.n ?? 0,
      ]),
    ),
  );
}

interface TableDigest {
  rows: number;
  /** sha256 of the rows in recording order, without row ids, run ids and names. */
  sha256: string;
}

/** The columns of `runs` that say what a run is (everything but its id in this file and its name here). */
function runColumns(store: Store): string[] {
  return guarded(store, () =>
    store.database
      .query<{ name: string }, []>("SELECT name FROM pragma_table_info('runs')")
      .all()
      .map((column) => column.name)
      .filter((name) => name !== "id" && name !== "name"),
  );
}

function digestOf(rows: Iterable<Record<string, SQLQueryBindings>>, columns: readonly string[]): TableDigest {
  const hash = createHash("sha256");
  let count = 0;
  for (const row of rows) {
    hash.update(JSON.stringify(columns.map((column) => row[column] ?? null)) + "\n");
    count++;
  }
  return { rows: count, sha256: hash.digest("hex") };
}

/**
 * A run's content, table by table: the runs row (without id and name) and the rows of every run
 * table except tags (without row ids and run ids), in recording order. Equal digests mean the two
 * databases hold the same run.
 */
function runDigest(store: Store, runId: number, tables: readonly RunTable[] = runTables(store)): Record<string, TableDigest> {
  return guarded(store, () => {
    const columns = runColumns(store);
    const digests: Record<string, TableDigest> = {
      runs: digestOf(store.database.query<Record<string, SQLQueryBindings>, [number]>("SELECT * FROM runs WHERE id = ?").iterate(runId), columns),
    };
    for (const table of tables) {
      if (table.name === TAGS_TABLE) continue;
      const kept = table.columns.filter((column) => column !== "run_id");
      const rows = store.database
        .query<Record<string, SQLQueryBindings>, [number]>(`SELECT * FROM ${quoted(table.name)} WHERE run_id = ? ORDER BY rowid`)
        .iterate(runId);
      digests[table.name] = digestOf(rows, kept);
    }
    return digests;
  });
}

function sameDigests(a: Record<string, TableDigest>, b: Record<string, TableDigest>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => a[key]?.sha256 === b[key]?.sha256 && a[key]?.rows === b[key]?.rows);
}

/**
 * A source database to copy from, at this musique's schema: the file itself (read-only), or,
 * when an older musique wrote it, a migrated temporary copy (the file is never changed).
 */
export function openForCopy(path: string): Store {
  const store = openReadOnly(path);
  if (schemaVersionOf(store) === SCHEMA_VERSION) return store;
  store.close();
  const directory = mkdtempSync(join(tmpdir(), "musique-copy-"));
  const copy = join(directory, "source.db");
  let snapshot: Database | undefined;
  try {
    // A read-only connection may write a consistent copy elsewhere (WAL content included).
    snapshot = new Database(path, { readonly: true, strict: true });
    snapshot.query<never, [string]>("VACUUM INTO ?").run(copy);
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw storeFailure(path, error, "read");
  } finally {
    snapshot?.close();
  }
  const migrated = openStore(copy, { notices: false });
  return storeOf(path, migrated.database, true, () => rmSync(directory, { recursive: true, force: true }));
}

export interface CopyNames {
  /** Source run name → its name in the target (`--rename old=new`). */
  rename: ReadonlyMap<string, string>;
  /** Put before the name of every run `rename` does not name (`--prefix node3-`). */
  prefix: string;
}

type CopyAction = "copied" | "unchanged" | "updated";

export interface CopiedRun {
  /** The run's name in the source. */
  source: string;
  /** Its name in the target. */
  name: string;
  action: CopyAction;
  /** Rows per table written to the target (0 everywhere when unchanged). */
  rows: Record<string, number>;
}

interface CopyContext {
  source: Store;
  target: Store;
  tables: RunTable[];
  runColumns: string[];
}

function copyRows(context: CopyContext, sourceRunId: number, targetRunId: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const table of context.tables) {
    const names = table.columns.map(quoted).join(", ");
    const placeholders = table.columns.map(() => "?").join(", ");
    const verb = table.name === TAGS_TABLE ? "INSERT OR IGNORE" : "INSERT";
    const insert = context.target.database.query<never, SQLQueryBindings[]>(`${verb} INTO ${quoted(table.name)} (${names}) VALUES (${placeholders})`);
    const rows = context.source.database
      .query<Record<string, SQLQueryBindings>, [number]>(`SELECT ${names} FROM ${quoted(table.name)} WHERE run_id = ? ORDER BY rowid`)
      .iterate(sourceRunId);
    let count = 0;
    for (const row of rows) {
      insert.run(...table.columns.map((column) => (column === "run_id" ? targetRunId : (row[column] ?? null))));
      count++;
    }
    counts[table.name] = count;
  }
  return counts;
}

function sourceRunRow(context: CopyContext, runId: number): SQLQueryBindings[] {
  const row = context.source.database
    .query<Record<string, SQLQueryBindings>, [number]>(`SELECT ${context.runColumns.map(quoted).join(", ")} FROM runs WHERE id = ?`)
    .get(runId);
  if (row === null) throw new StoreError(`database ${context.source.path}: run ${runId} vanished while it was being copied`);
  return context.runColumns.map((column) => row[column] ?? null);
}

function insertRun(context: CopyContext, run: RunRecord, name: string): number {
  const columns = ["name", ...context.runColumns];
  const inserted = context.target.database
    .query<{ id: number }, SQLQueryBindings[]>(
      `INSERT INTO runs (${columns.map(quoted).join(", ")}) VALUES (${columns.map(() => "?").join(", ")}) RETURNING id`,
    )
    .get(name, ...sourceRunRow(context, run.id));
  if (inserted === null) throw new StoreError(`database ${context.target.path}: the copy of run "${run.name}" was not stored`);
  return inserted.id;
}

/** The target's copy of a run brought up to date: its name and tags stay, everything else is the source's. */
function updateRun(context: CopyContext, run: RunRecord, targetRunId: number): void {
  const assignments = context.runColumns.map((column) => `${quoted(column)} = ?`).join(", ");
  context.target.database.query<never, SQLQueryBindings[]>(`UPDATE runs SET ${assignments} WHERE id = ?`).run(...sourceRunRow(context, run.id), targetRunId);
  for (const table of context.tables) {
    if (table.name === TAGS_TABLE) continue;
    context.target.database.query<never, [number]>(`DELETE FROM ${quoted(table.name)} WHERE run_id = ?`).run(targetRunId);
  }
}

function clash(run: RunRecord, name: string, target: Store, renamed: boolean): UsageError {
  return new UsageError(`${target.path} already has a different run named "${name}" (${renamed ? `the new name of "${run.name}"` : "the same name"})`, {
    cause: "runs made on different machines or databases can share a name; musique never merges two runs into one",
    fix: `give it another name: --rename ${run.name}=NEW_NAME, or --prefix NODE- for every copied run`,
  });
}

/** The name a source run gets in the target, checked (a taken name is a clash). */
function targetName(run: RunRecord, names: CopyNames, target: Store): string {
  const renamed = names.rename.get(run.name);
  const name = renamed ?? `${names.prefix}${run.name}`;
  if (!RUN_NAME_PATTERN.test(name)) {
    throw new UsageError(`"${name}" is not a valid run name`, { fix: "letters, digits, '.', '_' or '-' (at most 128), starting with a letter or digit" });
  }
  if (findRun(target, name)) throw clash(run, name, target, name !== run.name);
  return name;
}

/**
 * Copy `runs` of `source` into `target`. Call inside one transaction of the target
 * (inTransaction), so a refused name leaves the target as it was.
 */
export function copyRuns(source: Store, target: Store, runs: readonly RunRecord[], names: CopyNames): CopiedRun[] {
  const context: CopyContext = { source, target, tables: runTables(source), runColumns: runColumns(source) };
  const targetTables = new Set(runTables(target).map((table) => table.name));
  const missing = context.tables.find((table) => !targetTables.has(table.name));
  if (missing) throw new StoreError(`${target.path} has no table ${missing.name}`, { fix: "open it with this musique once (it migrates), then copy again" });
  return runs.map((run) => {
    const existing =
      run.uid === "" ? null : target.database.query<{ id: number; name: string }, [string]>("SELECT id, name FROM runs WHERE uid = ?").get(run.uid);
    if (existing) {
      const unchanged = sameDigests(runDigest(source, run.id, context.tables), runDigest(target, existing.id, context.tables));
      if (unchanged) return { source: run.name, name: existing.name, action: "unchanged", rows: {} };
      updateRun(context, run, existing.id);
      return { source: run.name, name: existing.name, action: "updated", rows: copyRows(context, run.id, existing.id) };
    }
    const name = targetName(run, names, target);
    const id = insertRun(context, run, name);
    return { source: run.name, name, action: "copied", rows: { runs: 1, ...copyRows(context, run.id, id) } };
  });
}
