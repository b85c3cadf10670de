/**
 * Prints the README flags table from the command schemas (src/config/schemas.ts) and the flag
 * metadata (src/config/flags.ts): `bun run scripts/flags-table.ts`. A test checks README is current.
 */
import * as schemas from "../src/config/schemas.ts";
import { FLAGS, kebab } from "../src/config/flags.ts";

type Entry = { type?: string; default?: unknown };

const commands: Record<string, { entries: Record<string, unknown> }> = {
  data: schemas.DataSchema,
  retrieve: schemas.RetrieveSchema,
  ask: schemas.AskSchema,
  evaluate: schemas.EvaluateSchema,
  train: schemas.TrainSchema,
  score: schemas.ScoreSchema,
  query: schemas.QuerySchema,
  runs: schemas.RunsSchema,
  report: schemas.ReportSchema,
  compare: schemas.CompareSchema,
  serve: schemas.ServeSchema,
};

export function flagsTable(): string {
  const rows = new Map<string, { commands: string[]; defaults: Map<string, string[]> }>();
  for (const [command, schema] of Object.entries(commands)) {
    for (const [key, entry] of Object.entries(schema.entries)) {
      const info = FLAGS[key];
      if (!info || info.kind === "positional" || info.kind === "positionals") continue;
      const row = rows.get(key) ?? { commands: [], defaults: new Map<string, string[]>() };
      row.commands.push(command);
      const value = (entry as Entry).type === "optional" ? (entry as Entry).default : undefined;
      const shown = value === undefined || value === false ? "" : String(value);
      row.defaults.set(shown, [...(row.defaults.get(shown) ?? []), command]);
      rows.set(key, row);
    }
  }
  const lines = ["| flag | default | env | commands | what |", "| --- | --- | --- | --- | --- |"];
  for (const [key, row] of rows) {
    const info = FLAGS[key];
    if (!info) continue;
    const defaults =
      row.defaults.size === 1
        ? [...row.defaults.keys()][0] ?? ""
        : [...row.defaults.entries()].map(([value, names]) => `${value === "" ? "—" : value} (${names.join(", ")})`).join("; ");
    const all = row.commands.length === Object.keys(commands).length;
    lines.push(
      `| \`--${kebab(key)}\` | ${defaults ? `\`${defaults}\`` : ""} | ${info.env ? `\`${info.env}\`` : ""} | ${all ? "all" : row.commands.join(", ")} | ${info.description.replace(/\|/g, "\\|")} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) process.stdout.write(flagsTable() + "\n");
