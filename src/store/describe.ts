/**
 * The database's tables and views as SQL: every migration applied to an empty in-memory
 * database, then the CREATE statements SQLite keeps (`musique schema --sql`).
 */
import { Database } from "bun:sqlite";
import { MIGRATIONS, SCHEMA_VERSION } from "./schema.ts";

/** The CREATE statements of the current schema: tables and their indices first, then views. */
export function schemaStatements(): { version: number; statements: string[] } {
  const database = new Database(":memory:");
  try {
    for (const migration of MIGRATIONS) database.exec(migration);
    const rows = database
      .query<{ sql: string }, []>("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type = 'view', rowid")
      .all();
    return { version: SCHEMA_VERSION, statements: rows.map((row) => `${row.sql};`) };
  } finally {
    database.close();
  }
}
