/**
 * Release artefacts (issue 18 item 5): `bun run build` / `build:all` write each binary's SHA-256
 * beside it in sha256sum's format, and build:all a SHA256SUMS over the release artefacts. One
 * release target (this machine's) is built here for real and checked with `sha256sum -c`; the
 * other is cross-compiled only by `bun run build:all` (it downloads that platform's Bun).
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RELEASE_TARGETS, buildTargets } from "../../scripts/build.ts";
import { writeChecksum } from "../../scripts/checksums.ts";
import { ROOT, compiledBinary } from "../helpers/cli.ts";

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

describe("release checksums (bun run build / build:all)", () => {
  test("writeChecksum writes <file>.sha256 in sha256sum's format: the SHA-256, two spaces, the file's name", async () => {
    const folder = mkdtempSync(join(tmpdir(), "musique-sum-"));
    try {
      const path = join(folder, "musique-linux-x64");
      writeFileSync(path, Buffer.alloc(3 * 1024 * 1024, 7));
      await writeChecksum(path);
      expect(readFileSync(`${path}.sha256`, "utf8")).toBe(`${sha256(path)}  musique-linux-x64\n`);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test("build:all builds this machine's binary and the linux-x64 and linux-arm64 release artefacts into dist", () => {
    expect(buildTargets(["--all"])).toEqual([
      { outfile: "dist/musique" },
      { outfile: "dist/musique-linux-x64", target: "bun-linux-x64" },
      { outfile: "dist/musique-linux-arm64", target: "bun-linux-arm64" },
    ]);
    expect(buildTargets([])).toEqual([{ outfile: "dist/musique" }]);
  });

  const host = process.arch === "arm64" ? "bun-linux-arm64" : "bun-linux-x64";
  const name = Object.entries(RELEASE_TARGETS).find(([, target]) => target === host)?.[0] ?? "";
  test(`the ${host} release artefact, built for real: its .sha256 and SHA256SUMS pass sha256sum -c, and it runs`, async () => {
    const folder = mkdtempSync(join(tmpdir(), "musique-release-"));
    try {
      const build = Bun.spawnSync([process.execPath, "scripts/build.ts", "--target", host, "--outdir", folder], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
      expect(build.exitCode).toBe(0);
      expect(readdirSync(folder).sort()).toEqual(["SHA256SUMS", name, `${name}.sha256`]);
      const line = `${sha256(join(folder, name))}  ${name}\n`;
      expect(readFileSync(join(folder, `${name}.sha256`), "utf8")).toBe(line);
      expect(readFileSync(join(folder, "SHA256SUMS"), "utf8")).toBe(line);
      const sha256sum = Bun.which("sha256sum");
      if (sha256sum === null) console.log("sha256sum is not installed: the checksum lines were checked against node:crypto only");
      else {
        const check = Bun.spawnSync([sha256sum, "-c", "SHA256SUMS", `${name}.sha256`], { cwd: folder, stdout: "pipe", stderr: "pipe" });
        expect(check.stdout.toString()).toBe(`${name}: OK\n${name}: OK\n`);
        expect(check.exitCode).toBe(0);
      }
      const version = Bun.spawnSync([join(folder, name), "--version"], { stdout: "pipe" });
      expect(version.stdout.toString()).toMatch(/^musique \d+\.\d+\.\d+ \(bun /);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 120_000);

  const binary = compiledBinary();
  test.skipIf(binary === undefined)("the built binary has its checksum beside it, and it matches", () => {
    const path = binary ?? "";
    expect(readFileSync(`${path}.sha256`, "utf8")).toBe(`${sha256(path)}  musique\n`);
  });
});
