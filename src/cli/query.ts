/**
 * `musique query "SELECT …" [--format table|csv|json]`: one read-only SQL statement against the
 * results database (docs/store.md lists the tables and views). Writes are refused (exit 6).
 */
import { QuerySchema } from "../config/schemas.ts";
import { formatCsv, formatTable, openReadOnly, rowsAsObjects, runReadOnlyQuery } from "../store/index.ts";
import { musiqueCommand, printJson } from "./_command.ts";

export default musiqueCommand({
  name: "query",
  description: "Run a read-only SQL query on the results database",
  schema: QuerySchema,
  run: (options) => {
    const store = openReadOnly(options.db);
    try {
      const result = runReadOnlyQuery(store, options.sql);
      if (options.json || options.format === "json") printJson(rowsAsObjects(result));
      else if (options.format === "csv") process.stdout.write(formatCsv(result));
      else process.stdout.write(formatTable(result));
    } finally {
      store.close();
    }
  },
});
