/**
 * bun run build       → dist/musique for this machine
 * bun run build:all   → also dist/musique-linux-x64 and dist/musique-linux-arm64 (for GPU nodes)
 * Each binary gets its SHA-256 beside it (dist/<name>.sha256, sha256sum's format: check a copy
 * with `sha256sum -c musique-linux-x64.sha256`). The binary embeds the git commit it was built
 * from (musique --version). Bun runs itself (process.execPath), so no `bun` on PATH is needed.
 */
import { $ } from "bun";
import { writeChecksum } from "./checksums.ts";

const all = process.argv.includes("--all");
const commit = (await $`git rev-parse --short HEAD`.quiet().nothrow()).stdout.toString().trim() || "unknown";
const dirty = (await $`git status --porcelain`.quiet().nothrow()).stdout.toString().trim() !== "";
const build = dirty ? `${commit}-dirty` : commit;

const targets: Array<{ outfile: string; target?: string }> = [{ outfile: "dist/musique" }];
if (all) {
  targets.push({ outfile: "dist/musique-linux-x64", target: "bun-linux-x64" });
  targets.push({ outfile: "dist/musique-linux-arm64", target: "bun-linux-arm64" });
}

for (const { outfile, target } of targets) {
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
  if (result.exitCode !== 0) {
    console.error(`build failed for ${outfile}${target ? ` (${target})` : ""}`);
    process.exit(result.exitCode ?? 1);
  }
  const checksum = await writeChecksum(outfile);
  console.error(`built ${outfile} (commit ${build}), sha256 ${checksum.split(" ")[0]} in ${outfile}.sha256`);
}
