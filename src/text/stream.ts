/**
 * What a text stream can show: its width (for --help and tables) and whether it takes ANSI
 * colour. Colour only on a terminal, unless FORCE_COLOR asks for it; NO_COLOR turns it off
 * (https://no-color.org). As in Node.js, FORCE_COLOR wins over NO_COLOR, and FORCE_COLOR=0 or
 * FORCE_COLOR=false means no colour.
 */

export interface TextStream {
  isTTY?: boolean;
  columns?: number;
}

export type Environment = Record<string, string | undefined>;

/** Width used when the stream is not a terminal and COLUMNS is not set. */
const DEFAULT_WIDTH = 100;

/** COLUMNS when set, else the terminal's width, else 100. */
export function streamWidth(stream: TextStream = process.stdout, env: Environment = process.env): number {
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  if (stream.isTTY && stream.columns !== undefined && stream.columns > 0) return stream.columns;
  return DEFAULT_WIDTH;
}

/** Whether ANSI colour codes may be written to `stream`. */
export function colourEnabled(stream: TextStream = process.stderr, env: Environment = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force.toLowerCase() !== "false";
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return Boolean(stream.isTTY);
}
