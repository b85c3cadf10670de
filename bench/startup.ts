/**
 * Suite "startup": `musique --help` as a user starts it, compiled (dist/musique, rebuilt with
 * `bun run build` when missing or older than src/) and from source (`bun src/cli/main.ts`), median of 20 each.
 */
import { join } from "node:path";
import { BINARY, ensureBinary } from "./binary.ts";
import { figuresFor, progress, repeat, type Figure } from "./measure.ts";

const ROOT = join(import.meta.dir, "..");
const RUNS = 20;

async function timeCommand(command: string[]): Promise<number> {
  const started = performance.now();
  const child = Bun.spawn(command, { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, NO_COLOR: "1" } });
  const [stdout, , exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  const ms = performance.now() - started;
  if (exitCode !== 0 || stdout.trim() === "") throw new Error(`${command.join(" ")} exited ${exitCode} without help text`);
  return ms;
}

export async function runStartupSuite(): Promise<Figure[]> {
  const figure = figuresFor("startup");
  const built = await ensureBinary("startup");
  progress(`startup: dist/musique --help and bun src/cli/main.ts --help, ${RUNS} each`);
  const compiled = await repeat(RUNS, () => timeCommand([BINARY, "--help"]), 2);
  const source = await repeat(RUNS, () => timeCommand([process.execPath, join(ROOT, "src", "cli", "main.ts"), "--help"]), 2);
  return [
    figure({ name: "dist/musique --help (compiled)", unit: "ms", value: compiled, decimals: 1, note: `${built}; ${RUNS} runs after 2 untimed` }),
    figure({ name: "bun src/cli/main.ts --help (source)", unit: "ms", value: source, decimals: 1, note: `${RUNS} runs after 2 untimed` }),
  ];
}
