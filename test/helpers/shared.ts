/**
 * The developers' shared folder (`../shared` beside the project: Arbor's real server code, the
 * DSPy reference transcripts). Users' clones do not have it: tests that need it skip with one line
 * saying why. `MUSIQUE_SHARED_DIR` points elsewhere; CI (`.ci/run`) requires it to be present.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ROOT } from "./cli.ts";

export const SHARED_DIR = resolve(process.env.MUSIQUE_SHARED_DIR ?? join(ROOT, "..", "shared"));

/** The path of `relative` inside the shared folder, or null when it is not there. */
export function sharedPath(relative: string): string | null {
  const path = join(SHARED_DIR, relative);
  return existsSync(path) ? path : null;
}

/** One line for the test log when a shared resource is missing. */
export function skipReason(relative: string): string {
  return `skipped: ${join(SHARED_DIR, relative)} is not here (developers' shared folder; users' clones do not have it)`;
}
