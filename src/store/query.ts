/**
 * `musique query`: one read-only SQL statement against the results database. Three guards: the
 * connection is opened read-only with PRAGMA query_only (openReadOnly), the statement must be a
 * single statement, and SQLite must report it as a read-only statement that returns rows
 * (sqlite3_stmt_readonly, exposed by bun as Statement.readonly); ATTACH/DETACH are refused too.
 * streamReadOnlyQuery hands the formatted output on as rows arrive (format.ts), never the whole result.
 */
import type { Statement } from "bun:sqlite";
import { StoreError, UsageError } from "../errors.ts";
import type { QueryFormat } from "../config/defaults.ts";
import { errorCode, storeFailure, type Store } from "./database.ts";
import { rowFormatter, type OutputOptions } from "./format.ts";

export type QueryValue = string | number | bigint | boolean | null | Uint8Array;

export interface QueryResult {
  columns: string[];
  rows: QueryValue[][];
}

/**
 * Split SQL text into statements on top-level semicolons (outside quotes, brackets and
 * comments); empty statements are dropped.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let index = 0;
  const closing: Record<string, string> = { "'": "'", '"': '"', "`": "`", "[": "]" };
  while (index < sql.length) {
    const character = sql[index] ?? "";
    const close = closing[character];
    if (close !== undefined) {
      const end = sql.indexOf(close, index + 1);
      index = end < 0 ? sql.length : end + 1;
    } else if (character === "-" && sql[index + 1] === "-") {
      const end = sql.indexOf("\n", index);
      index = end < 0 ? sql.length : end + 1;
    } else if (character === "/" && sql[index + 1] === "*") {
      const end = sql.indexOf("*/", index + 2);
      index = end < 0 ? sql.length : end + 2;
    } else if (character === ";") {
      statements.push(sql.slice(start, index));
      index += 1;
      start = index;
    } else {
      index += 1;
    }
  }
  statements.push(sql.slice(start));
  return statements.filter((statement) => !isBlank(statement));
}

function isBlank(statement: string): boolean {
  return (
    statement
      .replace(/--[^\n]*(\n|$)/g, "")
      .replace(/\/\*[\s\S]*?(\*\/|$)/g, "")
      .trim() === ""
  );
}

const sqliteCode = errorCode;

function readOnlyRefusal(reason: string): StoreError {
  return new StoreError(`musique query is read-only: ${reason}`, {
    fix: "use SELECT (or WITH … SELECT, or a PRAGMA that only reads); runs are changed by musique's commands",
  });
}

/** The SQL text's one statement, prepared and checked to be a read-only query (else throws). */
/** A statement of any query: each row an object of its columns. */
type QueryStatement = Statement<Record<string, QueryValue>, []>;

function prepareReadOnly(store: Store, sql: string): QueryStatement {
  const statements = splitStatements(sql);
  if (statements.length === 0) throw new UsageError("the SQL statement is empty", { fix: 'e.g. musique query "SELECT * FROM run_summary"' });
  if (statements.length > 1) {
    throw new UsageError(`musique query runs one statement at a time (got ${statements.length})`, {
      fix: "run each statement with its own musique query",
    });
  }
  const text = statements[0] ?? "";
  if (/^\s*(ATTACH|DETACH)\b/i.test(text.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*/, ""))) {
    throw readOnlyRefusal("ATTACH and DETACH are not allowed");
  }
  let statement: QueryStatement;
  try {
    statement = store.database.prepare<Record<string, QueryValue>, []>(text);
  } catch (error) {
    const code = sqliteCode(error);
    if (code !== undefined && code !== "SQLITE_ERROR") throw storeFailure(store.path, error);
    throw new UsageError(`SQL error: ${error instanceof Error ? error.message : String(error)}`, {
      fix: "check the statement; `musique schema` lists the tables and views",
    });
  }
  try {
    if (!statement.readonly) throw readOnlyRefusal("the statement would change the database");
    if (!statement.reader) throw readOnlyRefusal("the statement returns no rows (only queries are allowed)");
  } catch (error) {
    statement.finalize();
    throw error;
  }
  return statement;
}

/** A failure while the statement runs, as the StoreError the user sees. */
function runFailure(store: Store, error: unknown): unknown {
  if (error instanceof StoreError) return error;
  if (sqliteCode(error)?.startsWith("SQLITE_READONLY")) return readOnlyRefusal("the statement tried to write");
  return storeFailure(store.path, error);
}

export function runReadOnlyQuery(store: Store, sql: string): QueryResult {
  const statement = prepareReadOnly(store, sql);
  try {
    const rows: QueryValue[][] = statement.values();
    return { columns: statement.columnNames, rows };
  } catch (error) {
    throw runFailure(store, error);
  } finally {
    statement.finalize();
  }
}

/** Text handed on once this much has gathered (and at the end). */
const CHUNK_CHARACTERS = 64 * 1024;

/**
 * Run one read-only query and hand its output on in chunks as rows arrive (`emit` may wait, e.g.
 * until stdout drains), so no result is held whole: the same checks as runReadOnlyQuery, integers
 * as exact bigints. Returns the number of rows. A result with a repeated column name is read whole
 * (bun:sqlite streams rows only as objects, which keep one column per name).
 */
export async function streamReadOnlyQuery(
  store: Store,
  sql: string,
  format: QueryFormat,
  emit: (text: string) => Promise<void>,
  options: OutputOptions = {},
): Promise<number> {
  const statement = prepareReadOnly(store, sql);
  try {
    statement.safeIntegers(true);
    const columns = statement.columnNames;
    const { begin, formatter } = rowFormatter(format, columns, options);
    let pending = begin;
    let count = 0;
    for (const values of rowValues(statement, columns)) {
      count++;
      pending += formatter.row(values);
      if (pending.length >= CHUNK_CHARACTERS) {
        await emit(pending);
        pending = "";
      }
    }
    await emit(pending + formatter.end());
    return count;
  } catch (error) {
    throw runFailure(store, error);
  } finally {
    statement.finalize();
  }
}

function* rowValues(statement: QueryStatement, columns: readonly string[]): Generator<QueryValue[]> {
  if (new Set(columns).size < columns.length) {
    yield* statement.values();
    return;
  }
  for (const row of statement.iterate()) {
    yield columns.map((column) => row[column] ?? null);
  }
}
