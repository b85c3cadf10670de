/**
 * The developers' shared folder (`../shared` beside the project: Arbor's real server code, the
 * DSPy reference transcripts). Users' clones do not have it: tests that need it skip with one line
 * saying why. `MUSIQUE_SHARED_DIR` points elsewhere. CI (`.ci/run`) sets `MUSIQUE_REQUIRE_SHARED=1`,
 * which turns a missing folder into a failure instead of a skip.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ROOT } from "./cli.ts";

const SHARED_DIR = resolve(process.env.MUSIQUE_SHARED_DIR ?? join(ROOT, "..", "shared"));

/** One line for the test log when a shared resource is missing. */
function skipReason(relative: string): string {
  return `skipped: ${join(SHARED_DIR, relative)} is not here (developers' shared folder; users' clones do not have it)`;
}

/**
 * The path of `relative` inside the shared folder, or null (after printing the skip line) when it
 * is not there. Throws instead when MUSIQUE_REQUIRE_SHARED=1 (CI), so the suite cannot pass by
 * skipping the real-system tests.
 */
export function sharedPath(relative: string): string | null {
  const path = join(SHARED_DIR, relative);
  if (existsSync(path)) return path;
  if (process.env.MUSIQUE_REQUIRE_SHARED === "1") {
    throw new Error(`MUSIQUE_REQUIRE_SHARED=1 but ${path} is missing: the real-system tests cannot run`);
  }
  console.warn(skipReason(relative));
  return null;
}
