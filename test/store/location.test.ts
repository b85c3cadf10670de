/**
 * Which database a command uses (README "The results database", "Where it is"): evaluate and
 * train say in their first log line which file they write and what chose it (--db, MUSIQUE_DB or
 * the per-user default), and the database earlier versions used (./outputs/musique.db in the
 * working directory) stays usable: commands on the per-user default say how many of its runs are
 * not there, a run name found only there is answered with the --db to pass, and one import
 * brings them over (after which nothing more is said).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRun, openStore, recordExampleResult, updateRunStatus } from "../../src/store/index.ts";
import { databaseSource } from "../../src/store/location.ts";
import { startFakeOpenAI, type FakeOpenAI } from "../fakes/openai.ts";
import { runCli } from "../helpers/cli.ts";
import { trainArgs } from "../helpers/train.ts";
import { evaluateArgs } from "../reliability/helpers.ts";
import { programResult, scoreOf, temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory();
let lm: FakeOpenAI;
beforeAll(async () => {
  lm = await startFakeOpenAI({});
});
afterAll(async () => {
  await lm.stop();
  directory.remove();
});

/** The arguments without `--db FILE`. */
function withoutDb(args: readonly string[]): string[] {
  const at = args.indexOf("--db");
  return at < 0 ? [...args] : [...args.slice(0, at), ...args.slice(at + 2)];
}

/** A database holding one small completed evaluate run per name. */
function databaseWith(path: string, names: readonly string[]): void {
  const store = openStore(path, { notices: false });
  try {
    for (const name of names) {
      const run = createRun(store, { name, kind: "evaluate", config: { run_name: name }, toolVersion: "test" });
      const result = programResult("Paris");
      recordExampleResult(store, run.id, { exampleId: "2hop__1_2", nHops: 2, goldAnswers: ["Paris"], result, score: scoreOf(result) });
      updateRunStatus(store, run.id, "completed");
    }
  } finally {
    store.close();
  }
}

describe("the run header names the database and what chose it", () => {
  test("evaluate without --db or MUSIQUE_DB: the per-user default, on stderr and in run.log", async () => {
    const home = join(directory.path, "xdg-header");
    const outputDir = join(directory.path, "out-default");
    const args = withoutDb(evaluateArgs({ database: "", outputDir, run: "by-default", baseUrl: lm.baseUrl, limit: 1 }));
    const result = await runCli(args, { env: { XDG_DATA_HOME: home } });
    expect(result.exitCode).toBe(0);
    const line = `database ${join(home, "musique", "musique.db")} (the per-user default; --db or MUSIQUE_DB to choose another)`;
    expect(result.stderr).toContain(line);
    expect(readFileSync(join(outputDir, "by-default", "run.log"), "utf8")).toContain(line);
  }, 60_000);

  test("evaluate with MUSIQUE_DB says MUSIQUE_DB; --db says --db, also when MUSIQUE_DB names another file", async () => {
    const fromEnvironment = directory.database("from-env.db");
    const outputDir = join(directory.path, "out-chosen");
    const viaEnvironment = await runCli(withoutDb(evaluateArgs({ database: "", outputDir, run: "via-env", baseUrl: lm.baseUrl, limit: 1 })), {
      env: { MUSIQUE_DB: fromEnvironment },
    });
    expect(viaEnvironment.exitCode).toBe(0);
    expect(viaEnvironment.stderr).toContain(`database ${fromEnvironment} (MUSIQUE_DB)`);
    const flagged = directory.database("from-flag.db");
    const viaFlag = await runCli(evaluateArgs({ database: flagged, outputDir, run: "via-flag", baseUrl: lm.baseUrl, limit: 1 }), {
      env: { MUSIQUE_DB: fromEnvironment },
    });
    expect(viaFlag.exitCode).toBe(0);
    expect(viaFlag.stderr).toContain(`database ${flagged} (--db)`);
  }, 60_000);

  test("train (a dry run) says it too, in train.log", async () => {
    const database = directory.database("train.db");
    const outputDir = join(directory.path, "out-train");
    const args = trainArgs({
      arborUrl: "http://127.0.0.1:9",
      database,
      outputDir,
      run: "dry",
      extra: ["--dry-run", "--base-url", lm.baseUrl, "--dry-run-steps", "1"],
    });
    const result = await runCli(withoutDb(args), { env: { MUSIQUE_DB: database } });
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(outputDir, "dry", "train.log"), "utf8")).toContain(`database ${database} (MUSIQUE_DB)`);
  }, 60_000);

  test("what chose a path: MUSIQUE_DB when it names the file, the default when it is the default's path, else --db", () => {
    const env = { HOME: "/home/u" };
    expect(databaseSource("/home/u/.local/share/musique/musique.db", env)).toBe("the per-user default");
    expect(databaseSource("/tmp/a.db", env)).toBe("--db");
    expect(databaseSource("/tmp/a.db", { ...env, MUSIQUE_DB: "/tmp/a.db" })).toBe("MUSIQUE_DB");
    expect(databaseSource("/tmp/b.db", { ...env, MUSIQUE_DB: "/tmp/a.db" })).toBe("--db");
    expect(databaseSource("/data/musique/musique.db", { ...env, XDG_DATA_HOME: "/data" })).toBe("the per-user default");
  });
});

describe("the database earlier versions used (./outputs/musique.db) stays usable", () => {
  const project = join(directory.path, "old-project");
  const home = join(directory.path, "xdg-old");
  const env = { XDG_DATA_HOME: home };
  beforeAll(() => {
    mkdirSync(join(project, "outputs"), { recursive: true });
    databaseWith(join(project, "outputs", "musique.db"), ["before-a", "before-b"]);
    databaseWith(join(home, "musique", "musique.db"), ["after"]);
  });

  test("runs on the per-user default says how many runs only the old file holds and how to reach them", async () => {
    const result = await runCli(["runs"], { cwd: project, env });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("after");
    expect(result.stdout).not.toContain("before-a");
    expect(result.stderr).toContain(
      `./outputs/musique.db, the database earlier versions used, holds 2 runs not in ${join(home, "musique", "musique.db")}: ` +
        "pass --db ./outputs/musique.db to use it, or copy its runs here once with musique import ./outputs/musique.db",
    );
  });

  test("a run found only in the old file is answered with where it is and the --db to pass (exit 2)", async () => {
    const result = await runCli(["report", "before-a"], { cwd: project, env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`no run named "before-a" in ${join(home, "musique", "musique.db")}`);
    expect(result.stderr).toContain('"before-a" is in ./outputs/musique.db, the database earlier versions used: pass --db ./outputs/musique.db');
    const passed = await runCli(["report", "before-a", "--db", "./outputs/musique.db"], { cwd: project, env });
    expect(passed.exitCode).toBe(0);
    expect(passed.stderr).not.toContain("earlier versions used");
  });

  test("after one import of the old file nothing more is said, and its runs are reported from the default", async () => {
    const copied = await runCli(["import", "./outputs/musique.db"], { cwd: project, env });
    expect(copied.exitCode).toBe(0);
    expect(copied.stdout).toContain("2 copied");
    const listed = await runCli(["runs"], { cwd: project, env });
    expect(listed.stdout).toContain("before-a");
    expect(listed.stderr).not.toContain("earlier versions used");
    expect((await runCli(["report", "before-b"], { cwd: project, env })).exitCode).toBe(0);
  });
});
