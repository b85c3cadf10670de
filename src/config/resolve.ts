/**
 * From raw command-line words and the environment to validated, typed options:
 *   parseCommandLine: words → { key: string | boolean | string[] } (rejects unknown flags)
 *   resolveOptions:   flags + env + defaults → schema output (one message per bad value)
 * Precedence: flag > environment variable > default.
 */
import * as v from "valibot";
import { UsageError, didYouMean } from "../errors.ts";
import { camel, flagInfo, kebab } from "./flags.ts";

export type RawValue = string | boolean | string[];
export type RawOptions = Record<string, RawValue>;
type AnyObjectSchema = v.ObjectSchema<v.ObjectEntries, v.ErrorMessage<v.ObjectIssue> | undefined>;

export interface CommandLineSpec {
  /** Schema keys this command accepts. */
  keys: readonly string[];
  /** The key that receives positional words, and whether it takes several. */
  positional?: { key: string; many: boolean; joinWith?: string };
}

const HELP_WORDS = new Set(["--help", "-h", "--version", "-v"]);

export function commandLineSpec(schema: AnyObjectSchema): CommandLineSpec {
  const keys = Object.keys(schema.entries);
  const positionalKey = keys.find((key) => {
    const kind = flagInfo(key).kind;
    return kind === "positional" || kind === "positionals";
  });
  if (positionalKey === undefined) return { keys };
  return { keys, positional: { key: positionalKey, many: flagInfo(positionalKey).kind === "positionals" } };
}

/**
 * A word that starts with "-" but cannot be a flag: its name (before any "=") holds whitespace,
 * as SQL starting with a comment does ("-- note\nSELECT …"). Such a word is an argument.
 */
function notAFlag(word: string): boolean {
  const eq = word.indexOf("=");
  return /\s/.test(eq >= 0 ? word.slice(0, eq) : word);
}

/**
 * Words → options. `--` ends the options: every word after it is an argument, even one that
 * starts with "-" (`musique query -- "-1 AS x"`).
 */
export function parseCommandLine(words: readonly string[], spec: CommandLineSpec): RawOptions {
  const byFlag = new Map<string, { key: string; value?: boolean }>();
  for (const key of spec.keys) {
    const info = flagInfo(key);
    if (info.kind === "positional" || info.kind === "positionals") continue;
    byFlag.set(kebab(key), { key });
    if (info.alias) byFlag.set(info.alias, { key });
    for (const [spelling, value] of Object.entries(info.spellings ?? {})) byFlag.set(spelling, { key, value });
    if (info.kind === "boolean") byFlag.set("no-" + kebab(key), { key, value: false });
  }
  const out: RawOptions = {};
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? "";
    if (onlyPositionals || !word.startsWith("-") || word === "-" || /^-\d/.test(word) || notAFlag(word)) {
      positionals.push(word);
      continue;
    }
    if (word === "--") {
      onlyPositionals = true;
      continue;
    }
    if (HELP_WORDS.has(word)) continue;
    const body = word.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    const target = byFlag.get(name) ?? byFlag.get(kebab(camel(name)));
    if (!target) {
      const suggestion = didYouMean(name, [...byFlag.keys()]);
      throw new UsageError(`unknown flag --${name}`, {
        fix: suggestion ? `did you mean --${suggestion}?` : "run with --help to list the flags",
      });
    }
    const info = flagInfo(target.key);
    if (info.kind === "boolean") {
      if (target.value !== undefined) out[target.key] = inline === undefined ? target.value : inline;
      else out[target.key] = inline ?? true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = words[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) {
        throw new UsageError(`--${kebab(target.key)} needs a value`, {
          fix: `give it one, e.g. --${kebab(target.key)} ${info.valueHint ?? "VALUE"}`,
        });
      }
      value = next;
      i++;
    }
    if (info.kind === "list") {
      const previous = out[target.key];
      out[target.key] = Array.isArray(previous) ? [...previous, value] : [value];
    } else {
      out[target.key] = value;
    }
  }
  if (positionals.length > 0) {
    const positional = spec.positional;
    if (!positional) {
      throw new UsageError(`unexpected argument "${positionals[0]}"`, {
        fix: "this command takes flags only; run with --help",
      });
    }
    if (positional.many) out[positional.key] = positionals;
    else if (positionals.length > 1) {
      throw new UsageError(`too many arguments: ${positionals.map((p) => JSON.stringify(p)).join(" ")}`, {
        fix: "quote an argument that contains spaces",
      });
    } else out[positional.key] = positionals[0] ?? "";
  }
  return out;
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return value.map((item) => String(item)).join(",");
  return String(value);
}

export function resolveOptions<S extends AnyObjectSchema>(
  schema: S,
  raw: RawOptions,
  env: Record<string, string | undefined> = process.env,
): v.InferOutput<S> {
  const merged: Record<string, unknown> = {};
  const fromEnv = new Map<string, string>();
  for (const key of Object.keys(schema.entries)) {
    if (raw[key] !== undefined) {
      merged[key] = raw[key];
      continue;
    }
    const envName = flagInfo(key).env;
    const envValue = envName ? env[envName] : undefined;
    if (envName && envValue !== undefined && envValue !== "") {
      merged[key] = envValue;
      fromEnv.set(key, envName);
    }
  }
  const result = v.safeParse(schema, merged, { abortPipeEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  const key = String(issue.path?.[0]?.key ?? "");
  const info = key ? flagInfo(key) : undefined;
  const isPositional = info?.kind === "positional" || info?.kind === "positionals";
  const value = merged[key];
  const where = fromEnv.has(key)
    ? `${fromEnv.get(key)}=${describeValue(value)}`
    : isPositional
      ? `<${kebab(key)}>`
      : `--${kebab(key)}`;
  if (value === undefined) {
    throw new UsageError(`missing ${isPositional ? "argument" : "flag"} ${where}`, {
      fix: info ? `give ${info.description}` : "run with --help",
    });
  }
  const shown = fromEnv.has(key) || isPositional ? where : `${where} ${describeValue(value)}`;
  throw new UsageError(`${shown}: ${issue.message}`, { fix: "run with --help to see what is allowed" });
}
