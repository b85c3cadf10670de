/**
 * --help text, built from the command's schema (src/config/flags.ts): flags grouped (data,
 * retrieval, model, program, training, output, general), each with its value hint, default and
 * environment variable, wrapped to the terminal width (COLUMNS, else the terminal's, else 100).
 * Plain text: no colour codes, so it reads the same in a terminal, a pipe or a file.
 */
import { FLAG_GROUPS, flagsOf, type CommandSchema, type FlagDefinition, type FlagGroup } from "../config/flags.ts";
import { hangingIndent, wrapText } from "../text/wrap.ts";

/** Widest flag column before the description moves to its own line. */
const TERM_COLUMN = 26;

/** The flags that take N examples: the first N after the seeded shuffle. */
const SIZE_FLAGS = new Set(["limit", "testSize", "trainSize", "devSize"]);
const SLICE_NOTE =
  "so the same --seed gives the same N. A slice in the spec (validation[:100]) takes rows in file order before the shuffle: " +
  "use it only to read less of a large split.";

/** Under the data heading of a command that can take N examples: how, with the flags it has. */
function sizeNote(keys: ReadonlySet<string>): string {
  if (keys.has("limit")) {
    const reference = keys.has("testSize") ? "; --test-size is the reference script's name for the same thing" : "";
    return `Taking N examples: --limit N (recommended${reference}) uses the first N after the seeded shuffle, ${SLICE_NOTE}`;
  }
  const named = [keys.has("trainSize") ? "--train-size N (training)" : "", keys.has("devSize") ? "--dev-size N (validation)" : ""].filter(Boolean);
  return `Taking N examples: ${named.join(" and ")} use${named.length === 1 ? "s" : ""} the first N after the seeded shuffle, ${SLICE_NOTE}`;
}

function term(flag: FlagDefinition): string {
  if (flag.kind === "positional") return flag.required ? `<${flag.name}>` : `[${flag.name}]`;
  if (flag.kind === "positionals") return `${flag.required ? `<${flag.name}>` : `[${flag.name}]`}…`;
  const names = [flag.name, ...flag.aliases].map((name) => `--${name}`).join(", ");
  if (flag.kind === "boolean") return flag.shownDefault === "true" ? `--[no-]${flag.name}` : names;
  return `${names} <${flag.valueHint ?? "value"}>`;
}

function text(flag: FlagDefinition): string {
  const notes: string[] = [];
  if (flag.kind === "boolean") {
    if (flag.shownDefault === "true") notes.push("on by default");
  } else if (flag.shownDefault !== undefined) notes.push(`default: ${flag.shownDefault}`);
  if (flag.env) notes.push(`env ${flag.env}`);
  if (flag.required && (flag.kind === "positional" || flag.kind === "positionals")) notes.push("required");
  if (flag.kind === "list") notes.push("repeatable");
  return notes.length > 0 ? `${flag.description} (${notes.join("; ")})` : flag.description;
}

function usageLine(name: string, flags: readonly FlagDefinition[]): string {
  const positionals = flags.filter((flag) => flag.kind === "positional" || flag.kind === "positionals").map(term);
  return ["Usage: musique", name, ...positionals, "[flags]"].join(" ");
}

/** The --help of one command. */
export function commandHelp(name: string, description: string, schema: CommandSchema, width: number): string {
  const flags = flagsOf(schema);
  const out: string[] = [...wrapText(`musique ${name}: ${description}`, width), "", usageLine(name, flags)];
  for (const group of Object.keys(FLAG_GROUPS) as FlagGroup[]) {
    const members = flags.filter((flag) => flag.group === group);
    if (members.length === 0) continue;
    out.push("", `${FLAG_GROUPS[group]}:`);
    const sizes = new Set(members.filter((flag) => SIZE_FLAGS.has(flag.key)).map((flag) => flag.key));
    if (group === "data" && sizes.size > 0) {
      out.push(...wrapText(sizeNote(sizes), width - 2).map((line) => `  ${line}`));
    }
    for (const flag of members) out.push(...hangingIndent(term(flag), text(flag), TERM_COLUMN, width));
  }
  out.push("", ...wrapText("Flags win over environment variables, which win over defaults. -- ends the flags.", width));
  return out.join("\n") + "\n";
}

export interface CommandSummary {
  name: string;
  description: string;
}

/** The top-level --help: what musique is and its commands. */
export function mainHelp(version: string, commands: readonly CommandSummary[], width: number): string {
  const nameWidth = Math.max(...commands.map((command) => command.name.length));
  const out = [
    ...wrapText(`musique ${version}: evaluate and train a multi-hop question-answering program on MuSiQue (DSPy ChatAdapter prompts, GRPO via Arbor)`, width),
    "",
    "Usage: musique <command> [flags]   (musique <command> --help lists its flags)",
    "",
    "Commands:",
  ];
  // A command's first paragraph; its --help has the rest.
  for (const command of commands) out.push(...hangingIndent(command.name, command.description.split("\n")[0] ?? "", nameWidth, width));
  out.push(
    "",
    ...wrapText(
      "A first evaluation: musique evaluate --base-url http://localhost:8000/v1 --model MODEL --retriever lexical --limit 50, " +
        "then musique runs and musique report RUN. On a GPU node, musique init writes the files that start the services.",
      width,
    ),
  );
  return out.join("\n") + "\n";
}
