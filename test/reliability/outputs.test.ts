/**
 * README "What happens when…", the rows about output folders: outputs/{run}/ belongs to one run of
 * one database (the same --run-name with another --db is refused, exit 2, the other run's files
 * untouched), and default run names are unique even for runs started in the same second.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startFakeOpenAI, type FakeOpenAI } from "../fakes/openai.ts";
import { runCli } from "../helpers/cli.ts";
import { defaultRunName } from "../../src/run/config.ts";
import { DEV_FILE, evaluateArgs, queryAll, temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory("outputs");
let lm: FakeOpenAI;
beforeAll(async () => {
  lm = await startFakeOpenAI({});
});
afterAll(async () => {
  await lm.stop();
  rmSync(directory, { recursive: true, force: true });
});

/** Every file of a folder with its bytes. */
function snapshot(folder: string): Map<string, string> {
  return new Map(readdirSync(folder).map((name) => [name, readFileSync(join(folder, name), "latin1")]));
}

describe("an output folder belongs to one run of one database", () => {
  test("the same --run-name with another --db → exit 2 naming the other run and the fix; its outputs and log untouched, no run created", async () => {
    const outputDir = join(directory, "shared-out");
    const first = await runCli(evaluateArgs({ database: join(directory, "a.db"), outputDir, run: "same-name", baseUrl: lm.baseUrl, limit: 2 }));
    expect(first.exitCode).toBe(0);
    const folder = join(outputDir, "same-name");
    const before = snapshot(folder);

    const other = join(directory, "b.db");
    const second = await runCli(evaluateArgs({ database: other, outputDir, run: "same-name", baseUrl: lm.baseUrl, limit: 2 }));
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toContain(`output folder ${folder} belongs to run "same-name" of database ${join(directory, "a.db")}`);
    expect(second.stderr).toContain("pass --output-dir with another folder or choose another --run-name");
    expect(second.stderr.match(/^\[error\]|ERROR /gm)?.length ?? 0).toBe(1); // one message, not a cascade
    expect(snapshot(folder)).toEqual(before);
    expect(queryAll(other, "SELECT name FROM runs")).toEqual([]);
  }, 30_000);

  test("a folder that already holds files of an unknown run is refused (exit 2), and the files are kept", async () => {
    const outputDir = join(directory, "foreign-out");
    const first = await runCli(evaluateArgs({ database: join(directory, "c.db"), outputDir, run: "kept", baseUrl: lm.baseUrl, limit: 1 }));
    expect(first.exitCode).toBe(0);
    rmSync(join(outputDir, "kept", ".musique-run.json"));
    const before = snapshot(join(outputDir, "kept"));
    const second = await runCli(evaluateArgs({ database: join(directory, "d.db"), outputDir, run: "kept", baseUrl: lm.baseUrl, limit: 1 }));
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toContain("belongs to files of an unknown run");
    expect(snapshot(join(outputDir, "kept"))).toEqual(before);
  }, 30_000);

  test("--resume of the run that owns the folder writes into it as before", async () => {
    const outputDir = join(directory, "resume-out");
    const database = join(directory, "e.db");
    expect((await runCli(evaluateArgs({ database, outputDir, run: "mine", baseUrl: lm.baseUrl, limit: 2 }))).exitCode).toBe(0);
    const resumed = await runCli(["evaluate", "--resume", "mine", "--db", database, "--base-url", lm.baseUrl]);
    expect(resumed.exitCode).toBe(0);
    expect(readFileSync(join(outputDir, "mine", "run.log"), "utf8")).toContain("run mine: 2 examples (2 already done)");
  }, 30_000);
});

describe("default run names", () => {
  test("two names made in the same second differ (time to the second plus 6 random hex digits)", () => {
    const now = new Date("2026-11-25T01:30:45.123Z");
    const names = new Set(Array.from({ length: 1000 }, () => defaultRunName("evaluate", now)));
    expect(names.size).toBe(1000);
    for (const name of names) expect(name).toMatch(/^evaluate-20261125-013045-[0-9a-f]{6}$/);
  });

  test("two evaluations started together without --run-name, into one output folder: two runs, two folders, two logs", async () => {
    const outputDir = join(directory, "together");
    const args = (database: string) =>
      ["evaluate", "--datasets", DEV_FILE, "--retriever", "lexical", "--base-url", lm.baseUrl, "--limit", "2", "--db", database, "--output-dir", outputDir];
    const results = await Promise.all([runCli(args(join(directory, "f.db"))), runCli(args(join(directory, "g.db")))]);
    for (const result of results) expect(result.exitCode).toBe(0);
    const folders = readdirSync(outputDir).sort();
    expect(folders).toHaveLength(2);
    for (const folder of folders) {
      expect(folder).toMatch(/^evaluate-\d{8}-\d{6}-[0-9a-f]{6}$/);
      const log = readFileSync(join(outputDir, folder, "run.log"), "utf8");
      expect(log.match(/run evaluate-\S+: /g)).toEqual([`run ${folder}: `]); // one run per log
      expect(existsSync(join(outputDir, folder, "scores.json"))).toBe(true);
    }
  }, 30_000);
});
