/**
 * `musique query "SELECT …" [--format table|csv|json]`: one read-only SQL statement against the
 * results database (docs/store.md lists the tables and views). Writes are refused (exit 6). The
 * statement runs on a worker thread and its rows are written as they come (src/worker/), so
 * Ctrl-C stops even a statement that never ends (exit 130) and no result is held in memory.
 */
import { QuerySchema } from "../config/schemas.ts";
import { runTask } from "../worker/run.ts";
import { musiqueCommand } from "./_command.ts";

export default musiqueCommand({
  name: "query",
  description: "Run a read-only SQL query on the results database (Ctrl-C stops it)",
  schema: QuerySchema,
  run: async (options, context) => {
    const format = options.json ? "json" : options.format;
    await runTask("query", { path: options.db, sql: options.sql, format, crlf: options.crlf, maxWidth: options.maxWidth }, { signal: context.signal });
  },
});
