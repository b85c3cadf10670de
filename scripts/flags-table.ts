/**
 * Prints the README flags table from the command schemas (src/config/schemas.ts, each flag with
 * its help: src/config/flags.ts): `bun run scripts/flags-table.ts`. A test checks README is current.
 */
import { flagsOf, type CommandSchema, type FlagDefinition } from "../src/config/flags.ts";
import * as schemas from "../src/config/schemas.ts";

const commands: Record<string, CommandSchema> = {
  init: schemas.InitSchema,
  data: schemas.DataSchema,
  retrieve: schemas.RetrieveSchema,
  ask: schemas.AskSchema,
  evaluate: schemas.EvaluateSchema,
  train: schemas.TrainSchema,
  score: schemas.ScoreSchema,
  query: schemas.QuerySchema,
  runs: schemas.RunsSchema,
  "runs rm": schemas.RunsRemoveSchema,
  "runs rename": schemas.RunsRenameSchema,
  "runs tag/untag": schemas.RunsTagSchema,
  export: schemas.ExportSchema,
  import: schemas.ImportSchema,
  report: schemas.ReportSchema,
  compare: schemas.CompareSchema,
  serve: schemas.ServeSchema,
  view: schemas.ViewSchema,
  schema: schemas.SchemaSchema,
};

export function flagsTable(): string {
  const rows = new Map<string, { flag: FlagDefinition; commands: string[]; defaults: Map<string, string[]> }>();
  for (const [command, schema] of Object.entries(commands)) {
    for (const flag of flagsOf(schema)) {
      if (flag.kind === "positional" || flag.kind === "positionals") continue;
      // One row per flag and meaning: --limit of runs is not --limit of evaluate.
      const id = `${flag.key}\u0000${flag.description}`;
      const row = rows.get(id) ?? { flag, commands: [], defaults: new Map<string, string[]>() };
      row.commands.push(command);
      const shown = flag.shownDefault ?? "";
      row.defaults.set(shown, [...(row.defaults.get(shown) ?? []), command]);
      rows.set(id, row);
    }
  }
  const lines = ["| flag | default | env | commands | what |", "| --- | --- | --- | --- | --- |"];
  for (const { flag, commands: names, defaults: byDefault } of rows.values()) {
    const defaults =
      byDefault.size === 1
        ? ([...byDefault.keys()][0] ?? "")
        : [...byDefault.entries()].map(([value, users]) => `${value === "" ? "—" : value} (${users.join(", ")})`).join("; ");
    const all = names.length === Object.keys(commands).length;
    const name = [flag.name, ...flag.aliases].map((spelling) => `\`--${spelling}\``).join(", ");
    lines.push(
      `| ${name} | ${defaults ? `\`${defaults}\`` : ""} | ${flag.env ? `\`${flag.env}\`` : ""} | ${all ? "all" : names.join(", ")} | ${flag.description.replace(/\|/g, "\\|")} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) process.stdout.write(flagsTable() + "\n");
