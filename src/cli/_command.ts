/**
 * The thin shell every command shares: --help from the command's schema (src/cli/_help.ts), flag
 * parsing and validation in one place (src/config/resolve.ts), stop signals (Ctrl-C, SIGTERM,
 * SIGHUP: src/cli/_signals.ts), and one mapping from errors to messages and exit codes.
 */
import type * as v from "valibot";
import { DEFAULTS } from "../config/defaults.ts";
import type { CommandSchema } from "../config/flags.ts";
import { parseCommandLine, resolveOptions, wantsHelp } from "../config/resolve.ts";
import { ExitCode, InterruptedError, isMusiqueError } from "../errors.ts";
import { log, retryLog, setLogLevel } from "../log.ts";
import { streamWidth } from "../text/stream.ts";
import { printErrorDocument, wantsJson } from "./_error-document.ts";
import { commandHelp } from "./_help.ts";
import { installSignalHandlers, signalExitCode, stopSignal } from "./_signals.ts";

interface CommandContext {
  /** Aborted on the first Ctrl-C, SIGTERM or SIGHUP: stop starting work, finish bookkeeping, exit (src/cli/_signals.ts). */
  signal: AbortSignal;
}

export interface MusiqueCommand<S extends CommandSchema> {
  name: string;
  description: string;
  /** Every flag of the command, with its help (src/config/schemas.ts). */
  schema: S;
  run: (options: v.InferOutput<S>, context: CommandContext) => Promise<number | void> | number | void;
}

/** A command as src/cli/main.ts runs it. */
export interface CommandDefinition {
  name: string;
  description: string;
  help: (width: number) => string;
  /** Runs the command with the words after its name; sets process.exitCode (exits when it is not 0). */
  main: (words: readonly string[]) => Promise<void>;
  /** Its actions, each with its own --help (`musique runs rm`, …). */
  actions?: Readonly<Record<string, CommandDefinition>>;
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

export function musiqueCommand<S extends CommandSchema>(command: MusiqueCommand<S>): CommandDefinition {
  const help = (width: number) => commandHelp(command.name, command.description, command.schema, width);
  return {
    name: command.name,
    description: command.description,
    help,
    main: async (words) => {
      if (wantsHelp(words)) {
        process.stdout.write(help(streamWidth(process.stdout)));
        return;
      }
      let code: number;
      try {
        const options = resolveOptions(command.schema, parseCommandLine(words, command.schema));
        const level = (options as { logLevel?: (typeof DEFAULTS)["logLevel"] }).logLevel;
        if (level) setLogLevel(level);
        installSignalHandlers();
        const result = await command.run(options, { signal: stopSignal });
        retryLog.finish(); // the retry summary of commands without a run session (data, retrieve, ask)
        code = typeof result === "number" ? result : ExitCode.ok;
      } catch (error) {
        retryLog.finish();
        code = reportError(error);
        // Stopped by a signal: exit with that signal's code (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
        if (error instanceof InterruptedError) code = signalExitCode() ?? code;
        if (wantsJson(words)) printErrorDocument(error, code);
      }
      process.exitCode = code;
      if (code !== ExitCode.ok) {
        // Let stderr flush, then leave with the documented code even if handles stay open.
        await Bun.sleep(0);
        process.exit(code);
      }
    },
  };
}

/** Write one JSON document to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}
