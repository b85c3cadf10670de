/**
 * `musique schema`: the results database's tables, views and conventions, and example queries
 * (docs/store.md, embedded in the binary, without its section on the source code), laid out for
 * a terminal; `--sql` prints the CREATE statements of the current schema instead.
 */
import storeDoc from "../../docs/store.md" with { type: "text" };
import { SchemaSchema } from "../config/schemas.ts";
import { schemaStatements } from "../store/index.ts";
import { streamWidth } from "../text/stream.ts";
import { hangingIndent } from "../text/wrap.ts";
import { musiqueCommand, printJson } from "./_command.ts";

function cells(line: string): string[] {
  return line
    .replace(/^\s*\|/, "")
    .replace(/\|\s*$/, "")
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, "|"));
}

/**
 * Markdown for a terminal of `width` columns: the "## Code" section dropped (it is about the
 * source), and each table row as its first cell followed by "header: cell" lines, wrapped.
 */
function schemaText(markdown: string, width: number): string {
  const out: string[] = [];
  let header: string[] | null = null;
  let skipping = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("## ")) skipping = line.trim() === "## Code";
    if (skipping) continue;
    if (!line.trimStart().startsWith("|")) {
      header = null;
      out.push(line);
      continue;
    }
    const row = cells(line);
    if (header === null) {
      header = row;
      continue;
    }
    if (row.every((cell) => /^:?-+:?$/.test(cell))) continue;
    out.push(row[0] ?? "");
    row.slice(1).forEach((cell, index) => {
      out.push(...hangingIndent(`${header?.[index + 1] ?? ""}:`, cell, 14, width, 4));
    });
  }
  return (
    out
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      .trimEnd() + "\n"
  );
}

export default musiqueCommand({
  name: "schema",
  description: "Describe the results database: tables, views, conventions and example queries (--sql: the CREATE statements)",
  schema: SchemaSchema,
  run: (options) => {
    if (options.sql || options.json) {
      const schema = schemaStatements();
      if (options.json) printJson({ schema_version: schema.version, statements: schema.statements });
      else process.stdout.write(`-- musique results database, schema version ${schema.version}\n${schema.statements.join("\n\n")}\n`);
      return;
    }
    process.stdout.write(schemaText(storeDoc, streamWidth(process.stdout)));
  },
});
