/**
 * bun run build       → dist/musique for this machine
 * bun run build:all   → also the release artefacts dist/musique-linux-x64 and
 *                       dist/musique-linux-arm64 (for GPU nodes) and dist/SHA256SUMS over them
 * bun scripts/build.ts --target bun-linux-x64 --outdir DIR   → one release artefact into DIR
 * Each binary gets its SHA-256 beside it (<name>.sha256, sha256sum's format: check a copy with
 * `sha256sum -c musique-linux-x64.sha256`); SHA256SUMS lists the release artefacts of one build
 * (`sha256sum -c SHA256SUMS`). The binary embeds the git commit it was built from
 * (musique --version). Bun runs itself (process.execPath), so no `bun` on PATH is needed.
 */
import { $ } from "bun";
import { basename, join } from "node:path";
import { writeChecksum, writeChecksumList } from "./checksums.ts";

/** The cross-compilation targets of a release, by artefact name. */
export const RELEASE_TARGETS = { "musique-linux-x64": "bun-linux-x64", "musique-linux-arm64": "bun-linux-arm64" } as const;

export interface BuildTarget {
  outfile: string;
  /** Bun's --target; none = this machine. */
  target?: string;
}

/** The word after `flag`, if the flag is there. */
function valueOf(words: readonly string[], flag: string): string | undefined {
  const index = words.indexOf(flag);
  return index < 0 ? undefined : words[index + 1];
}

/** What to build for the command line's words (--all, --target T, --outdir D). */
export function buildTargets(words: readonly string[]): BuildTarget[] {
  const outdir = valueOf(words, "--outdir") ?? "dist";
  const asked = valueOf(words, "--target");
  const release = Object.entries(RELEASE_TARGETS).map(([name, target]) => ({ outfile: join(outdir, name), target }));
  if (asked !== undefined) {
    const chosen = release.filter((entry) => entry.target === asked);
    if (chosen.length === 0) throw new Error(`unknown --target ${asked}: one of ${Object.values(RELEASE_TARGETS).join(", ")}`);
    return chosen;
  }
  const host = { outfile: join(outdir, "musique") };
  return words.includes("--all") ? [host, ...release] : [host];
}

/** The build label: the commit, "-dirty" when the tree has changes. */
async function buildLabel(): Promise<string> {
  const commit = (await $`git rev-parse --short HEAD`.quiet().nothrow()).stdout.toString().trim() || "unknown";
  const dirty = (await $`git status --porcelain`.quiet().nothrow()).stdout.toString().trim() !== "";
  return dirty ? `${commit}-dirty` : commit;
}

/** Compile one binary and write its checksum beside it; returns the checksum line. */
export async function buildBinary({ outfile, target }: BuildTarget, build: string): Promise<string> {
  const args = [
    "build",
    "--compile",
    "--minify-syntax",
    "--define",
    `BUILD_COMMIT=${JSON.stringify(build)}`,
    "src/cli/main.ts",
    // a worker thread is its own entry point in a compiled binary
    "src/store/writer-worker.ts",
    "src/worker/entry.ts",
    "--outfile",
    outfile,
  ];
  if (target) args.splice(2, 0, `--target=${target}`);
  const result = Bun.spawnSync([process.execPath, ...args], { stdout: "inherit", stderr: "inherit" });
  if (result.exitCode !== 0) throw new Error(`build failed for ${outfile}${target ? ` (${target})` : ""}`);
  return writeChecksum(outfile);
}

if (import.meta.main) {
  const fail = (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  };
  const build = await buildLabel();
  const released: string[] = [];
  let targets: BuildTarget[] = [];
  try {
    targets = buildTargets(process.argv.slice(2));
  } catch (error) {
    fail(error);
  }
  for (const entry of targets) {
    const checksum = await buildBinary(entry, build).catch(fail);
    if (entry.target) released.push(entry.outfile);
    console.error(`built ${entry.outfile} (commit ${build}), sha256 ${checksum.split(" ")[0]} in ${basename(entry.outfile)}.sha256`);
  }
  if (released.length > 0) {
    const list = await writeChecksumList(released);
    console.error(`release checksums in ${list}`);
  }
}
