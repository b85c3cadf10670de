import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { flagsTable } from "../../scripts/flags-table.ts";
import { parseCommandLine, resolveOptions } from "../../src/config/resolve.ts";
import { TrainSchema } from "../../src/config/schemas.ts";
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

  test("the first screen goes from install (no root) to a first evaluation on an OpenAI-compatible server, then runs/report/view and compare", () => {
    const first = readme.split("\n").slice(0, 60).join("\n");
    expect(first).toContain("npm install --global --prefix ~/.local bun@1.4.5");
    expect(first).toMatch(/vLLM, Ollama or a hosted API/);
    expect(first).toMatch(/musique evaluate --base-url http:\/\/localhost:8000\/v1/);
    for (const command of ["musique runs", "musique report RUN", "musique view", "musique compare RUN_A RUN_B"]) expect(first).toContain(command);
  });

  test("the ordinary user's install needs no root: no sudo, and npm installs globally only under --prefix ~/.local", () => {
    const block = /## From install to a first evaluation\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    expect(block).toContain("bun run build");
    expect(block).not.toContain("sudo");
    for (const line of block.split("\n").filter((text) => /npm install\b.*(-g|--global)\b/.test(text))) expect(line).toContain("--prefix ~/.local");
  });

  test("documents every exit code the code defines", async () => {
    const { ExitCode } = await import("../../src/errors.ts");
    for (const code of Object.values(ExitCode)) expect(readme).toContain(`| ${code} |`);
  });

  test("the command line for the reference script's last configuration sets exactly its differences from the defaults", () => {
    const block = /<!-- REFERENCE-CONFIGURATION -->\n```sh\n(.*)\n```/.exec(readme)?.[1] ?? "";
    const words = block.split(" ").filter((word) => word !== "");
    expect(words.slice(0, 2)).toEqual(["musique", "train"]);
    const options = resolveOptions(TrainSchema, parseCommandLine(words.slice(2), TrainSchema), {});
    expect(options).toMatchObject({
      numHops: "gold",
      reward: "v2",
      numExamplesPerStep: 2,
      maxGradNorm: 0.01,
      evalDatasets: "bdsaglam/musique-mini,answerable,validation",
      datasets: "bdsaglam/musique,answerable,train",
      retriever: "hybrid",
      temperature: 0.7,
      numRolloutsPerStep: 8,
      numTrainSteps: 500,
    });
  });
});
