/**
 * Logs go to stderr (consola, with our one reporter: `[level] message`, the same in a terminal,
 * a pipe or a file; colour only when stderr is a terminal, NO_COLOR / FORCE_COLOR honoured:
 * src/text/stream.ts); stdout is reserved for machine-readable output (--json) and for the
 * tables a command prints as its result. consola's own reporters are not used: they choose
 * colour by whether *stdout* is a terminal (and always under CI), so colour codes reached log
 * files and pipes, and they printed differently under test. Credentials inside URLs
 * (`http://user:password@host`) are redacted from every line (src/errors.ts `redactCredentials`);
 * a reporter added later (the run.log tee) redacts its own text the same way. Retries are
 * reported through `retryLog` (src/http/retry-log.ts): aggregated per endpoint, not one per retry.
 */
import { createConsola, type ConsolaInstance, type ConsolaReporter, type LogObject } from "consola";
import { formatWithOptions } from "node:util";
import type { LogLevel } from "./config/defaults.ts";
import { redactCredentials } from "./errors.ts";
import { RetryLog } from "./http/retry-log.ts";
import { Progress, type ProgressOptions, type ProgressOutput } from "./text/progress.ts";
import { colourEnabled } from "./text/stream.ts";

const LEVELS: Record<LogLevel, number> = { silent: -999, error: 0, warn: 1, info: 3, debug: 4, trace: 5 };

/** The tag each consola log type is printed with, and its colour (SGR code) on a terminal. */
const TAGS: Record<string, { tag: string; colour: number }> = {
  fatal: { tag: "error", colour: 31 },
  error: { tag: "error", colour: 31 },
  fail: { tag: "error", colour: 31 },
  warn: { tag: "warn", colour: 33 },
  debug: { tag: "debug", colour: 90 },
  trace: { tag: "trace", colour: 90 },
};
const INFO = { tag: "info", colour: 36 };

/** One log line (or several, for a multi-line message): `[level] message`. */
export function formatLogLine(entry: Pick<LogObject, "type" | "args">, colour: boolean): string {
  const { tag, colour: code } = TAGS[entry.type] ?? INFO;
  const label = colour ? `\u001b[${code}m[${tag}]\u001b[39m` : `[${tag}]`;
  return `${label} ${formatWithOptions({ colors: colour }, ...entry.args)}\n`;
}

/** The progress line on the terminal, if one is showing: a log line goes above it. */
let progressLine: string | null = null;
const CLEAR_LINE = "\r\u001b[2K";

/** Writes log lines to stderr (above a progress line that redraws in place). */
const stderrReporter: ConsolaReporter = {
  log: (entry) => {
    const text = formatLogLine(entry, colourEnabled(process.stderr));
    process.stderr.write(progressLine === null ? text : `${CLEAR_LINE}${text}${progressLine}`);
  },
};

/** `reporter`, seeing every string argument with URL credentials redacted. */
function redacting(reporter: ConsolaReporter): ConsolaReporter {
  return {
    log: (entry, context) =>
      reporter.log({ ...entry, args: entry.args.map((arg: unknown) => (typeof arg === "string" ? redactCredentials(arg) : arg)) }, context),
  };
}

export const log: ConsolaInstance = createConsola({
  stdout: process.stderr,
  stderr: process.stderr,
  level: LEVELS.info,
  reporters: [redacting(stderrReporter)],
});

/** The process's retry warnings: one line per endpoint every few seconds, a summary at the end. */
export const retryLog = new RetryLog({ write: (line) => log.warn(line), detail: (line) => log.debug(line) });

export function setLogLevel(level: LogLevel): void {
  log.level = LEVELS[level];
}

/** True when stderr is a terminal, so progress lines may redraw in place. */
function stderrIsTerminal(): boolean {
  return Boolean(process.stderr.isTTY);
}

/** Where progress lines go: redrawn in place on a terminal; otherwise `[info]` log lines (run.log gets them too). */
export function progressOutput(terminal: boolean = stderrIsTerminal()): ProgressOutput {
  if (!terminal) return { redraws: false, show: (line) => log.info(line) };
  return {
    redraws: true,
    show: (line, final) => {
      if (log.level < LEVELS.info) return;
      process.stderr.write(`${CLEAR_LINE}${line}${final ? "\n" : ""}`);
      progressLine = final ? null : line;
    },
  };
}

/** A progress reporter (src/text/progress.ts) writing to stderr, unless `output` is given. */
export function startProgress(options: Omit<ProgressOptions, "output"> & { output?: ProgressOutput | undefined }): Progress {
  return new Progress({ ...options, output: options.output ?? progressOutput() });
}
