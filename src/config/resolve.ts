/**
 * From raw command-line words and the environment to validated, typed options:
 *   parseCommandLine: words → { key: string | boolean | string[] } (node:util parseArgs does the
 *                     tokenizing; this adds did-you-mean, "needs a value" and the positional rules)
 *   resolveOptions:   flags + env + defaults → schema output (one message per bad value)
 * Precedence: flag > environment variable > default.
 */
import { parseArgs } from "node:util";
import * as v from "valibot";
import { UsageError, didYouMean } from "../errors.ts";
import { flagsOf, type CommandSchema, type FlagDefinition } from "./flags.ts";

type RawValue = string | boolean | string[];
export type RawOptions = Record<string, RawValue>;

const HELP_WORDS = new Set(["--help", "-h"]);

/** Whether the words ask for help (before any `--`). */
export function wantsHelp(words: readonly string[]): boolean {
  const end = words.indexOf("--");
  return (end < 0 ? words : words.slice(0, end)).some((word) => HELP_WORDS.has(word));
}

/**
 * A word that starts with "-" but is an argument: "-", a negative number, or a word whose name
 * (before any "=") holds whitespace, as SQL starting with a comment does ("-- note\nSELECT …").
 */
function isArgument(word: string): boolean {
  if (word === "-" || /^-\d/.test(word)) return true;
  if (!word.startsWith("-") || word === "--") return false;
  const eq = word.indexOf("=");
  return /\s/.test(eq >= 0 ? word.slice(0, eq) : word);
}

/** What parseArgs sees instead of a word it must not read as a flag. */
const ARGUMENT_PLACEHOLDER = "\u0000argument";

/**
 * Words → options. `--` ends the options: every word after it is an argument, even one that
 * starts with "-" (`musique query -- "-1 AS x"`). A value flag takes the next word even when it
 * starts with "-" (`--temperature -1`), unless that word is itself a flag (`--model --json`).
 */
export function parseCommandLine(words: readonly string[], schema: CommandSchema): RawOptions {
  const flags = flagsOf(schema);
  const byName = new Map<string, { flag: FlagDefinition; negated: boolean }>();
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {};
  for (const flag of flags) {
    if (flag.kind === "positional" || flag.kind === "positionals") continue;
    for (const name of [flag.name, ...flag.aliases]) {
      byName.set(name, { flag, negated: false });
      if (flag.kind === "boolean") byName.set(`no-${name}`, { flag, negated: true });
      options[name] = { type: flag.kind === "boolean" ? "boolean" : "string", multiple: flag.kind === "list" };
    }
  }
  const terminator = words.indexOf("--");
  const { tokens } = parseArgs({
    // Words parseArgs must not read as flags go in as a placeholder and are restored by index.
    args: words.map((word, index) => ((terminator < 0 || index < terminator) && isArgument(word) ? ARGUMENT_PLACEHOLDER : word)),
    options,
    strict: false,
    allowPositionals: true,
    allowNegative: true,
    tokens: true,
  });

  const out: RawOptions = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") {
      positionals.push(words[token.index] ?? token.value);
      continue;
    }
    if (token.kind !== "option") continue;
    const target = byName.get(token.rawName.replace(/^--?/, "").replace(/=.*$/, ""));
    if (!target) {
      const name = token.rawName.replace(/^--?/, "");
      const suggestion = didYouMean(name, [...byName.keys()]);
      throw new UsageError(`unknown flag ${token.rawName.startsWith("--") ? "--" : "-"}${name}`, {
        fix: suggestion ? `did you mean --${suggestion}?` : "run with --help to list the flags",
      });
    }
    const { flag, negated } = target;
    if (flag.kind === "boolean") {
      if (negated && token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`, { fix: `write ${token.rawName} alone` });
      out[flag.key] = token.value ?? !negated;
      continue;
    }
    const value = token.inlineValue ? token.value : words[token.index + 1];
    if (value === undefined || (!token.inlineValue && value.startsWith("--") && value.length > 2)) {
      throw new UsageError(`--${flag.name} needs a value`, { fix: `give it one, e.g. --${flag.name} ${flag.valueHint ?? "VALUE"}` });
    }
    if (flag.kind === "list") {
      const previous = out[flag.key];
      out[flag.key] = Array.isArray(previous) ? [...previous, value] : [value];
    } else out[flag.key] = value;
  }
  if (positionals.length > 0) assignPositionals(out, positionals, flags);
  return out;
}

function assignPositionals(out: RawOptions, positionals: readonly string[], flags: readonly FlagDefinition[]): void {
  const positional = flags.find((flag) => flag.kind === "positional" || flag.kind === "positionals");
  if (!positional) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`, { fix: "this command takes flags only; run with --help" });
  }
  if (positional.kind === "positionals") out[positional.key] = [...positionals];
  else if (positionals.length > 1) {
    throw new UsageError(`too many arguments: ${positionals.map((word) => JSON.stringify(word)).join(" ")}`, {
      fix: "quote an argument that contains spaces",
    });
  } else out[positional.key] = positionals[0] ?? "";
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return value.map((item) => String(item)).join(",");
  return String(value);
}

export function resolveOptions<S extends CommandSchema>(schema: S, raw: RawOptions, env: Record<string, string | undefined> = process.env): v.InferOutput<S> {
  const flags = new Map(flagsOf(schema).map((flag) => [flag.key, flag]));
  const merged: Record<string, unknown> = {};
  const fromEnv = new Map<string, string>();
  for (const [key, flag] of flags) {
    if (raw[key] !== undefined) {
      merged[key] = raw[key];
      continue;
    }
    const envValue = flag.env ? env[flag.env] : undefined;
    if (flag.env && envValue !== undefined && envValue !== "") {
      merged[key] = envValue;
      fromEnv.set(key, flag.env);
    }
  }
  const result = v.safeParse(schema, merged, { abortPipeEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  const key = String(issue.path?.[0]?.key ?? "");
  const flag = flags.get(key);
  const isPositional = flag?.kind === "positional" || flag?.kind === "positionals";
  const value = merged[key];
  const where = fromEnv.has(key) ? `${fromEnv.get(key)}=${describeValue(value)}` : isPositional ? `<${flag?.name}>` : `--${flag?.name ?? key}`;
  if (value === undefined) {
    throw new UsageError(`missing ${isPositional ? "argument" : "flag"} ${where}`, {
      fix: flag ? `give ${flag.description}` : "run with --help",
    });
  }
  const shown = fromEnv.has(key) || isPositional ? where : `${where} ${describeValue(value)}`;
  throw new UsageError(`${shown}: ${issue.message}`, { fix: "run with --help to see what is allowed" });
}
