/**
 * Logs go to stderr (consola); stdout is reserved for machine-readable output (--json) and
 * for the tables a command prints as its result.
 */
import { createConsola, type ConsolaInstance } from "consola";
import type { LogLevel } from "./config/defaults.ts";

const LEVELS: Record<LogLevel, number> = { silent: -999, error: 0, warn: 1, info: 3, debug: 4, trace: 5 };

export const log: ConsolaInstance = createConsola({
  stdout: process.stderr,
  stderr: process.stderr,
  level: LEVELS.info,
  formatOptions: { date: false },
});

export function setLogLevel(level: LogLevel): void {
  log.level = LEVELS[level];
}

/** True when stderr is a terminal, so progress lines may redraw in place. */
export function stderrIsTerminal(): boolean {
  return Boolean(process.stderr.isTTY);
}
