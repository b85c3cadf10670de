import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { flagsTable } from "../../scripts/flags-table.ts";
import { ROOT } from "../helpers/cli.ts";

const readme = await Bun.file(join(ROOT, "README.md")).text();

describe("README", () => {
  test("the flags table is generated from the schemas (run `bun scripts/readme-flags.ts` after changing a flag)", () => {
    const match = /<!-- FLAGS -->\n([\s\S]*)\n<!-- \/FLAGS -->/.exec(readme);
    expect(match?.[1]).toBe(flagsTable());
  });

  test("holds the two fresh-machine commands that .ci/run relies on", async () => {
    const ci = await Bun.file(join(ROOT, ".ci", "run")).text();
    const testCommand = /README_TEST_COMMAND='([^']+)'/.exec(ci)?.[1];
    expect(testCommand).toBeDefined();
    expect(readme).toContain(testCommand ?? "?");
    expect(readme).toContain("bun run musique retrieve --datasets sample --retriever lexical");
  });

  test("documents every exit code the code defines", async () => {
    const { ExitCode } = await import("../../src/errors.ts");
    for (const code of Object.values(ExitCode)) expect(readme).toContain(`| ${code} |`);
  });
});
