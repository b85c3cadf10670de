/**
 * A flag is defined in one place: its entry in a command's schema (src/config/schemas.ts). The
 * entry carries the value check and default (valibot), the help text (valibot `description`) and
 * what the command line and --help need besides (valibot `metadata`: help group, value hint,
 * environment variable, other spellings). `flag()` builds such an entry; `commandSchema()` takes
 * only such entries, so a flag without its description does not type-check. The flag's name is
 * the kebab-case form of the key (`noiseRate` → `--noise-rate`).
 */
import * as v from "valibot";

/** Help sections, in the order --help prints them. */
export const FLAG_GROUPS = {
  arguments: "Arguments",
  runs: "Runs and tags",
  data: "Data",
  retrieval: "Retrieval",
  model: "Model (an OpenAI-compatible server)",
  program: "Program",
  training: "Training (GRPO on Arbor)",
  service: "Service",
  output: "Run and output",
  general: "General",
} as const;
export type FlagGroup = keyof typeof FLAG_GROUPS;

/**
 * value: one value (`--x v` or `--x=v`); list: repeatable (`--x a --x b`); boolean: `--x`,
 * `--no-x`, `--x=false`; positional(s): words that are not flags.
 */
type FlagKind = "value" | "list" | "boolean" | "positional" | "positionals";

export type FlagMetadata = {
  group: FlagGroup;
  /** Default "value". */
  kind?: FlagKind;
  /** Shown as `--flag <hint>` in --help and in "needs a value" messages. */
  valueHint?: string;
  /** Environment variable that supplies the value when the flag is absent. */
  env?: string;
  /** Other names of the flag (without dashes); a boolean's names each have a `--no-` form too. */
  aliases?: readonly string[];
  /** The default --help shows when it is computed at run time (e.g. from --port). */
  shownDefault?: string;
};

/** A schema entry that is a flag: a schema piped through its description and metadata. */
type FlagSchema = v.GenericSchema<unknown, unknown> & {
  readonly pipe: readonly [unknown, v.DescriptionAction<unknown, string>, v.MetadataAction<unknown, FlagMetadata>];
};

export type FlagEntries = Record<string, FlagSchema>;
export type CommandSchema = v.ObjectSchema<FlagEntries, undefined>;

/** One flag: its value schema (with its default), what --help says, and its metadata. */
export function flag<const S extends v.GenericSchema<unknown, unknown>>(schema: S, description: string, metadata: FlagMetadata) {
  return v.pipe(schema, v.description<v.InferOutput<S>, string>(description), v.metadata<v.InferOutput<S>, FlagMetadata>(metadata));
}

/** A command's schema: every key is a flag (or its positional argument). */
export function commandSchema<const E extends FlagEntries>(entries: E): v.ObjectSchema<E, undefined> {
  return v.object(entries);
}

export interface FlagDefinition {
  key: string;
  /** `--name` without the dashes. */
  name: string;
  description: string;
  kind: FlagKind;
  group: FlagGroup;
  valueHint?: string;
  env?: string;
  aliases: readonly string[];
  /** The default as --help shows it; undefined when there is none. */
  shownDefault?: string;
  /** Whether leaving it out is an error (a required argument). */
  required: boolean;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

function shown(value: unknown): string | undefined {
  if (value === undefined || value === false) return undefined;
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map(String).join(",");
  return String(value);
}

/** The flag of one schema entry. */
function flagOf(key: string, entry: FlagSchema): FlagDefinition {
  const [, description, metadata] = entry.pipe;
  const info = metadata.metadata;
  const optional = (entry as { type?: string }).type === "optional";
  const fallback = optional ? (entry as { default?: unknown }).default : undefined;
  return {
    key,
    name: kebab(key),
    description: description.description,
    kind: info.kind ?? "value",
    group: info.group,
    valueHint: info.valueHint,
    env: info.env,
    aliases: info.aliases ?? [],
    shownDefault: info.shownDefault ?? shown(fallback),
    required: !optional,
  };
}

/** Every flag of a command, in schema order. */
export function flagsOf(schema: CommandSchema): FlagDefinition[] {
  return Object.entries(schema.entries).map(([key, entry]) => flagOf(key, entry));
}
