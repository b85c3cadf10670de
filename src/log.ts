/**
 * Logs go to stderr (consola); stdout is reserved for machine-readable output (--json) and
 * for the tables a command prints as its result. Credentials inside URLs
 * (`http://user:password@host`) are redacted from every line (src/errors.ts `redactCredentials`);
 * a reporter added later (the run.log tee) redacts its own text the same way. Retries are
 * reported through `retryLog` (src/http/retry-log.ts): aggregated per endpoint, not one per retry.
 */
import { createConsola, type ConsolaInstance, type ConsolaReporter } from "consola";
import type { LogLevel } from "./config/defaults.ts";
import { redactCredentials } from "./errors.ts";
import { RetryLog } from "./http/retry-log.ts";

const LEVELS: Record<LogLevel, number> = { silent: -999, error: 0, warn: 1, info: 3, debug: 4, trace: 5 };

export const log: ConsolaInstance = createConsola({
  stdout: process.stderr,
  stderr: process.stderr,
  level: LEVELS.info,
  formatOptions: { date: false },
});

/** `reporter`, seeing every string argument with URL credentials redacted. */
export function redacting(reporter: ConsolaReporter): ConsolaReporter {
  return {
    log: (entry, context) =>
      reporter.log({ ...entry, args: entry.args.map((arg: unknown) => (typeof arg === "string" ? redactCredentials(arg) : arg)) }, context),
  };
}

log.setReporters(log.options.reporters.map(redacting));

/** The process's retry warnings: one line per endpoint every few seconds, a summary at the end. */
export const retryLog = new RetryLog({ write: (line) => log.warn(line), detail: (line) => log.debug(line) });

export function setLogLevel(level: LogLevel): void {
  log.level = LEVELS[level];
}

/** True when stderr is a terminal, so progress lines may redraw in place. */
export function stderrIsTerminal(): boolean {
  return Boolean(process.stderr.isTTY);
}
