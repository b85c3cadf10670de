/**
 * The thin shell every command shares: citty metadata for --help built from the command's
 * schema, flag parsing and validation in one place, stop signals (Ctrl-C, SIGTERM, SIGHUP:
 * src/cli/_signals.ts), and one mapping from errors to messages and exit codes.
 */
import { defineCommand, type ArgDef, type CommandDef } from "citty";
import type * as v from "valibot";
import { DEFAULTS } from "../config/defaults.ts";
import { flagInfo, kebab } from "../config/flags.ts";
import { commandLineSpec, parseCommandLine, resolveOptions } from "../config/resolve.ts";
import { ExitCode, InterruptedError, isMusiqueError } from "../errors.ts";
import { log, setLogLevel } from "../log.ts";
import { printErrorDocument, wantsJson } from "./_error-document.ts";
import { installSignalHandlers, signalExitCode, stopSignal } from "./_signals.ts";

type AnyObjectSchema = v.ObjectSchema<v.ObjectEntries, v.ErrorMessage<v.ObjectIssue> | undefined>;

export interface CommandContext {
  /** Aborted on the first Ctrl-C, SIGTERM or SIGHUP: stop starting work, finish bookkeeping, exit (src/cli/_signals.ts). */
  signal: AbortSignal;
}

export interface MusiqueCommand<S extends AnyObjectSchema> {
  name: string;
  description: string;
  schema: S;
  /** Default values shown in --help for keys whose default is computed (e.g. from --port). */
  helpDefaults?: Record<string, string>;
  /** Descriptions that differ from src/config/flags.ts for this command (e.g. serve's --port). */
  helpText?: Record<string, string>;
  run: (options: v.InferOutput<S>, context: CommandContext) => Promise<number | void> | number | void;
}

function defaultOf(schema: AnyObjectSchema, key: string): unknown {
  const entry = schema.entries[key] as { type?: string; default?: unknown } | undefined;
  if (entry?.type === "optional") return entry.default;
  return undefined;
}

function helpArgs(
  schema: AnyObjectSchema,
  helpDefaults: Record<string, string> = {},
  helpText: Record<string, string> = {},
): Record<string, ArgDef> {
  const args: Record<string, ArgDef> = {};
  for (const key of Object.keys(schema.entries)) {
    const info = flagInfo(key);
    const fallback = helpDefaults[key] ?? defaultOf(schema, key);
    const suffix = fallback === undefined || fallback === false ? "" : ` (default: ${String(fallback)})`;
    const env = info.env ? ` [env ${info.env}]` : "";
    const description = (helpText[key] ?? info.description) + suffix + env;
    if (info.kind === "positional" || info.kind === "positionals") {
      // Not `required` for citty (it would exit 1 itself); resolveOptions refuses a missing one (exit 2).
      const required = defaultOf(schema, key) === undefined ? " (required)" : "";
      args[kebab(key)] = { type: "positional", description: description + required, required: false };
    } else if (info.kind === "boolean") {
      args[kebab(key)] = { type: "boolean", description };
    } else {
      args[kebab(key)] = { type: "string", description, valueHint: info.valueHint };
    }
  }
  return args;
}

export function reportError(error: unknown): number {
  if (isMusiqueError(error)) {
    log.error(error.describe());
    if (error.cause !== undefined) log.debug(error.cause);
    return error.exitCode;
  }
  log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  log.error("this is a bug in musique; please report it with the command you ran");
  return ExitCode.internal;
}

export function musiqueCommand<S extends AnyObjectSchema>(command: MusiqueCommand<S>): CommandDef {
  return defineCommand({
    meta: { name: command.name, description: command.description },
    args: helpArgs(command.schema, command.helpDefaults, command.helpText),
    run: async ({ rawArgs }) => {
      let code: number;
      try {
        const raw = parseCommandLine(rawArgs, commandLineSpec(command.schema));
        const options = resolveOptions(command.schema, raw);
        const level = (options as { logLevel?: (typeof DEFAULTS)["logLevel"] }).logLevel;
        if (level) setLogLevel(level);
        installSignalHandlers();
        const result = await command.run(options, { signal: stopSignal });
        code = typeof result === "number" ? result : ExitCode.ok;
      } catch (error) {
        code = reportError(error);
        // Stopped by a signal: exit with that signal's code (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
        if (error instanceof InterruptedError) code = signalExitCode() ?? code;
        if (wantsJson(rawArgs)) printErrorDocument(error, code);
      }
      process.exitCode = code;
      if (code !== ExitCode.ok) {
        // Let stderr flush, then leave with the documented code even if handles stay open.
        await Bun.sleep(0);
        process.exit(code);
      }
    },
  });
}

/** Write one JSON document to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}
