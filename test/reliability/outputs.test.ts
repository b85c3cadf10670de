/**
 * README "What happens when…", the rows about output folders: outputs/{run}/ belongs to one run of
 * one database (the same --run-name with another --db is refused, exit 2, the other run's files
 * untouched), default run names are unique even for runs started in the same second, and every
 * output file is written whole or not at all: a failed write exits 6 with one message and leaves
 * the previous file as it was (full disks are simulated with `ulimit -f`, as in bad-input).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { dspyResponder, startFakeOpenAI, type FakeOpenAI } from "../fakes/openai.ts";
import { runCli } from "../helpers/cli.ts";
import { trainArgs } from "../helpers/train.ts";
import { defaultRunName } from "../../src/run/config.ts";
import { DEV_FILE, evaluateArgs, queryAll, runWithFileLimit, startMusique, temporaryDirectory, waitFor } from "./helpers.ts";

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
    const args = (database: string) => evaluateArgs({ database, outputDir, baseUrl: lm.baseUrl, limit: 2 });
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

/** Temporary files of the atomic writer left in a folder. */
function temporaryFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: "utf8" }).filter((name) => name.includes(".tmp-"));
}

/** The documented message of a failed write, one error line, exit 6. */
function expectWriteFailure(result: { exitCode: number; stderr: string }, path: string, what: string): void {
  expect(result.exitCode).toBe(6);
  expect(result.stderr).toContain(`cannot write ${path}: ${what}`);
  expect(result.stderr).not.toContain("this is a bug");
  expect(result.stderr.match(/^\[error\]|ERROR /gm)?.length ?? 0).toBe(1);
}

describe("a failed write exits 6 and never leaves a cut or replaced file", () => {
  const retrieve = (output: string) => ["retrieve", "--datasets", DEV_FILE, "--retriever", "lexical", "--output", output];

  test("retrieve --output naming a directory → exit 6 'it is a directory (EISDIR)', nothing written", async () => {
    const folder = join(directory, "rankings-dir");
    mkdirSync(folder, { recursive: true });
    const result = await runCli(retrieve(folder));
    expectWriteFailure(result, folder, "it is a directory (EISDIR)");
    expect(readdirSync(folder)).toEqual([]);
    expect(temporaryFiles(directory)).toEqual([]);
  }, 30_000);

  test("retrieve --output on a full disk (ulimit -f) → exit 6, no file cut mid-record, no temporary file", async () => {
    const folder = join(directory, "rankings-full");
    mkdirSync(folder, { recursive: true });
    const path = join(folder, "rankings.jsonl");
    const result = await runWithFileLimit(8, retrieve(path));
    expectWriteFailure(result, path, "no space left (EFBIG)");
    expect(result.stderr).toContain("the disk is full or a file-size limit (ulimit -f) was reached");
    expect(readdirSync(folder)).toEqual([]);
  }, 30_000);

  test("report --html on a full disk → exit 6; the good report already there is kept byte for byte", async () => {
    const database = join(directory, "report.db");
    expect((await runCli(evaluateArgs({ database, outputDir: join(directory, "report-out"), run: "reported", baseUrl: lm.baseUrl, limit: 40 }))).exitCode).toBe(
      0,
    );
    const folder = join(directory, "report-html");
    const html = join(folder, "report.html");
    expect((await runCli(["report", "reported", "--db", database, "--html", html])).exitCode).toBe(0);
    const good = readFileSync(html);
    // The limit leaves room for SQLite's 32 KiB shared-memory file of the read-only connection, not for the page.
    expect(statSync(html).size).toBeGreaterThan(48 * 1024);
    const result = await runWithFileLimit(48, ["report", "reported", "--db", database, "--html", html]);
    expectWriteFailure(result, html, "no space left (EFBIG)");
    expect(readFileSync(html).equals(good)).toBe(true);
    expect(temporaryFiles(folder)).toEqual([]);
  }, 30_000);

  test("compare --html naming a directory → exit 6 'it is a directory (EISDIR)', nothing written", async () => {
    const database = join(directory, "compare.db");
    for (const run of ["left", "right"]) {
      expect((await runCli(evaluateArgs({ database, outputDir: join(directory, "compare-out"), run, baseUrl: lm.baseUrl, limit: 3 }))).exitCode).toBe(0);
    }
    const folder = join(directory, "compare-dir");
    mkdirSync(folder, { recursive: true });
    const result = await runCli(["compare", "left", "right", "--db", database, "--html", folder]);
    expectWriteFailure(result, folder, "it is a directory (EISDIR)");
    expect(readdirSync(folder)).toEqual([]);
  }, 30_000);

  test("train --dry-run killed mid-run, then --resume: groups.jsonl only ever holds whole lines, and ends with every group once", async () => {
    const answer = dspyResponder();
    const slow = await startFakeOpenAI({
      responder: async (request) => {
        await Bun.sleep(5);
        return answer(request);
      },
    });
    try {
      const database = join(directory, "dry.db");
      const outputDir = join(directory, "dry-out");
      const groupsFile = join(outputDir, "dry", "groups.jsonl");
      const args = trainArgs({
        arborUrl: slow.baseUrl,
        database,
        outputDir,
        run: "dry",
        extra: ["--dry-run", "--base-url", slow.baseUrl, "--dry-run-steps", "4", "--num-train-steps", "4"],
      });
      const child = startMusique(args);
      const completed = () => {
        try {
          return queryAll<{ n: number }>(database, "SELECT COUNT(*) AS n FROM training_steps WHERE status = 'completed'")[0]?.n ?? 0;
        } catch {
          return 0; // the database or its schema is being created
        }
      };
      await Promise.race([waitFor(() => completed() >= 2, "two dry-run steps"), child.done]);
      child.process.kill("SIGKILL");
      await child.done;
      const lines = (path: string) =>
        readFileSync(path, "utf8")
          .split("\n")
          .filter((line) => line !== "");
      const before = lines(groupsFile);
      expect(readFileSync(groupsFile, "utf8").endsWith("\n")).toBe(true);
      for (const line of before) expect(() => JSON.parse(line)).not.toThrow();

      const resumed = await runCli(["train", "--resume", "dry", "--db", database, "--base-url", slow.baseUrl]);
      expect(resumed.exitCode).toBe(0);
      const after = lines(groupsFile);
      const recorded = queryAll<{ n: number }>(database, "SELECT COUNT(*) AS n FROM groups")[0]?.n;
      expect(after.length).toBe(recorded ?? -1);
      expect(after.slice(0, before.length)).toEqual(before); // nothing written before the kill was lost
      const steps = after.map((line) => (JSON.parse(line) as { step: number }).step);
      expect(new Set(steps)).toEqual(new Set([1, 2, 3, 4]));
    } finally {
      await slow.stop();
    }
  }, 60_000);
});
