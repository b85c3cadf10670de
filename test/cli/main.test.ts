import { describe, expect, test } from "bun:test";
import { mkdtempSync, copyFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compiledBinary, runCli } from "../helpers/cli.ts";

describe("musique (top level)", () => {
  test("--version prints version, Bun version and build commit", async () => {
    const result = await runCli(["--version"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^musique \d+\.\d+\.\d+ \(bun 1\.4\.\d+, commit [\w-]+\)\n$/);
  });

  test("--help lists the commands", async () => {
    const result = await runCli(["--help"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout + result.stderr).toContain("Usage: musique <command>");
  });

  test("an unknown command exits 2 with a suggestion", async () => {
    const result = await runCli(["evaluat"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('unknown command "evaluat"');
  });
});

describe("compiled binary", () => {
  const binary = compiledBinary();
  test.skipIf(binary === undefined)("runs from an empty directory with no node_modules beside it", async () => {
    const directory = mkdtempSync(join(tmpdir(), "musique-bin-"));
    const copy = join(directory, "musique");
    copyFileSync(binary ?? "", copy);
    const result = await runCli(["--version"], { binary: copy, cwd: directory });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("musique ");
    expect(readdirSync(directory)).toEqual(["musique"]);
  });
});
