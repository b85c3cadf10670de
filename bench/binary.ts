/**
 * dist/musique for the suites that run the compiled binary (startup, query): rebuilt with
 * `bun run build` when it is missing or older than any file of src/ or package.json, so a suite
 * never times (or fails on) a binary of an earlier commit.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { Glob } from "bun";
import { progress } from "./measure.ts";

const ROOT = join(import.meta.dir, "..");
export const BINARY = join(ROOT, "dist", "musique");

function newestSourceMs(): number {
  let newest = statSync(join(ROOT, "package.json")).mtimeMs;
  for (const file of new Glob("src/**/*").scanSync({ cwd: ROOT })) newest = Math.max(newest, statSync(join(ROOT, file)).mtimeMs);
  return newest;
}

/** Build dist/musique unless it is newer than every source file; says which it was. */
export async function ensureBinary(suite: string): Promise<string> {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= newestSourceMs()) return `existing dist/musique (built ${statSync(BINARY).mtime.toISOString()})`;
  progress(`${suite}: dist/musique missing or older than src/; running bun run build`);
  const build = Bun.spawn([process.execPath, "run", "build"], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  if ((await build.exited) !== 0 || !existsSync(BINARY)) throw new Error("bun run build failed; cannot run dist/musique");
  return "dist/musique built by this run";
}
