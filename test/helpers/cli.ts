/**
 * Run musique as a user would: `bun src/cli/main.ts …` (or the compiled binary when
 * MUSIQUE_BIN is set), in a child process, with an explicit environment.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
export const MAIN = join(ROOT, "src", "cli", "main.ts");

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Use this executable instead of `bun src/cli/main.ts`. */
  binary?: string;
  stdin?: string;
  timeoutMs?: number;
}

/**
 * XDG_DATA_HOME of every child: a command run without --db records into this test process's own
 * folder ($XDG_DATA_HOME/musique/musique.db), never into the user's database.
 */
const DATA_HOME = mkdtempSync(join(tmpdir(), "musique-data-home-"));
process.on("exit", () => rmSync(DATA_HOME, { recursive: true, force: true }));

/** Environment without the caller's service variables, so tests never reach a real service. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^(OPENAI_|RERANK_|TEI_|HF_|ARBOR_|MUSIQUE_)/.test(key)) continue;
    env[key] = value;
  }
  env.NO_COLOR = "1";
  env.XDG_DATA_HOME = DATA_HOME;
  env.HF_HUB_OFFLINE = "1"; // a test that wants the (fake) Hub sets HF_ENDPOINT and clears this
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** The compiled binary when the test run asked for it (`bun run test` sets MUSIQUE_BIN). */
export function compiledBinary(): string | undefined {
  const path = process.env.MUSIQUE_BIN;
  return path ? resolve(ROOT, path) : undefined;
}

export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const command = options.binary ?? compiledBinary();
  const cmd = command ? [command, ...args] : [process.execPath, MAIN, ...args];
  const child = Bun.spawn(cmd, {
    cwd: options.cwd ?? ROOT,
    env: cleanEnv(options.env),
    stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { exitCode, stdout, stderr };
}

/**
 * Start musique (the compiled binary when MUSIQUE_BIN is set) as a long-running child process,
 * e.g. `musique view`; the caller stops it (kill, then await `exited`).
 */
export function spawnCli(args: string[], options: Pick<CliOptions, "env" | "cwd" | "binary"> = {}): Bun.Subprocess<"ignore", "pipe", "pipe"> {
  const command = options.binary ?? compiledBinary();
  const cmd = command ? [command, ...args] : [process.execPath, MAIN, ...args];
  return Bun.spawn(cmd, { cwd: options.cwd ?? ROOT, env: cleanEnv(options.env), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
}
