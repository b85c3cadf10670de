/**
 * Suite "startup": `musique --help` as a user starts it, compiled (dist/musique, built with
 * `bun run build` when missing) and from source (`bun src/cli/main.ts`), median of 20 each.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { figuresFor, progress, repeat, type Figure } from "./measure.ts";

const ROOT = join(import.meta.dir, "..");
const BINARY = join(ROOT, "dist", "musique");
const RUNS = 20;

async function timeCommand(command: string[]): Promise<number> {
  const started = performance.now();
  const child = Bun.spawn(command, { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, NO_COLOR: "1" } });
  const [stdout, , exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  const ms = performance.now() - started;
  if (exitCode !== 0 || stdout.trim() === "") throw new Error(`${command.join(" ")} exited ${exitCode} without help text`);
  return ms;
}

async function ensureBinary(): Promise<string> {
  if (existsSync(BINARY)) return `existing dist/musique (built ${statSync(BINARY).mtime.toISOString()})`;
  progress("startup: dist/musique missing; running bun run build");
  const build = Bun.spawn([process.execPath, "run", "build"], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  if ((await build.exited) !== 0 || !existsSync(BINARY)) throw new Error("bun run build failed; cannot time dist/musique");
  return "dist/musique built by this run";
}

export async function runStartupSuite(): Promise<Figure[]> {
  const figure = figuresFor("startup");
  const built = await ensureBinary();
  progress(`startup: dist/musique --help and bun src/cli/main.ts --help, ${RUNS} each`);
  const compiled = await repeat(RUNS, () => timeCommand([BINARY, "--help"]), 2);
  const source = await repeat(RUNS, () => timeCommand([process.execPath, join(ROOT, "src", "cli", "main.ts"), "--help"]), 2);
  return [
    figure({ name: "dist/musique --help (compiled)", unit: "ms", value: compiled, decimals: 1, note: `${built}; ${RUNS} runs after 2 untimed` }),
    figure({ name: "bun src/cli/main.ts --help (source)", unit: "ms", value: source, decimals: 1, note: `${RUNS} runs after 2 untimed` }),
  ];
}
