/**
 * Managing runs from the command line (README "Managing runs"): `runs rm` (asks first, keeps
 * output folders unless --outputs), `runs rename` (moves the run's own folder), `runs tag` /
 * `untag` with `--tag` filters in `runs`, `report` and `export`, and where the database is by
 * default (MUSIQUE_DB, $XDG_DATA_HOME, the earlier ./outputs/musique.db).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { defaultDatabasePath } from "../../src/config/defaults.ts";
import { runListOf } from "../../src/store/view.ts";
import { createRun, openReadOnly, openStore, recordExampleResult, recordRunExamples, updateRunStatus } from "../../src/store/index.ts";
import { MARKER, ownerOf } from "../../src/run/output-folder.ts";
import { networkFileSystemName, networkFileSystemOf } from "../../src/store/location.ts";
import { cleanEnv, compiledBinary, MAIN, runCli } from "../helpers/cli.ts";
import { programResult, scoreOf, temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory();
afterAll(() => directory.remove());

let counter = 0;

/**
 * A fresh database with one small evaluate run per name, each with an output folder holding its
 * config.json as musique writes it; returns the database path and the outputs folder.
 */
function databaseWith(names: readonly string[], status: "completed" | "running" = "completed"): { database: string; outputs: string } {
  counter++;
  const database = directory.database(`manage-${counter}.db`);
  const outputs = join(directory.path, `outputs-${counter}`);
  const store = openStore(database);
  try {
    for (const name of names) {
      const config = { run_name: name, seed: 89 };
      const run = createRun(store, { name, kind: "evaluate", config, toolVersion: "test", outputDir: join(outputs, name) });
      mkdirSync(join(outputs, name), { recursive: true });
      writeFileSync(join(outputs, name, "config.json"), JSON.stringify(config, null, 2) + "\n");
      writeFileSync(join(outputs, name, MARKER), JSON.stringify(ownerOf(database, run)));
      recordRunExamples(store, run.id, [{ exampleId: "2hop__1_2", position: 0, role: "test", nHops: 2, shape: "2hop" }]);
      const result = programResult("Paris");
      recordExampleResult(store, run.id, { exampleId: "2hop__1_2", nHops: 2, goldAnswers: ["Paris"], result, score: scoreOf(result) });
      if (status === "completed") updateRunStatus(store, run.id, "completed");
    }
  } finally {
    store.close();
  }
  return { database, outputs };
}

function count(database: string, sql: string): number {
  const db = new Database(database, { readonly: true });
  try {
    return (db.query(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const rowsOf = (database: string, run: string) =>
  ["predictions", "module_calls", "run_examples", "run_tags"].map((table) =>
    count(database, `SELECT COUNT(*) AS n FROM ${table} WHERE run_id IN (SELECT id FROM runs WHERE name = '${run}')`),
  );

describe("musique runs rm", () => {
  test("without --yes and without a terminal nothing is deleted (exit 2, says to pass --yes)", async () => {
    const { database } = databaseWith(["keep-me"]);
    const result = await runCli(["runs", "rm", "keep-me", "--db", database]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("not done without confirmation");
    expect(result.stderr).toContain("pass --yes to confirm");
    expect(count(database, "SELECT COUNT(*) AS n FROM runs")).toBe(1);
  });

  test("--yes deletes the run and every row of it, other runs stay; the output folder is kept and said so", async () => {
    const { database, outputs } = databaseWith(["gone", "stays"]);
    expect(rowsOf(database, "gone")).toEqual([1, 5, 1, 0]);
    const result = await runCli(["runs", "rm", "gone", "--yes", "--db", database]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`deleted gone (5 module_calls, 1 predictions, 1 run_examples); kept ${join(outputs, "gone")} (--outputs not given)`);
    expect(count(database, "SELECT COUNT(*) AS n FROM runs WHERE name = 'gone'")).toBe(0);
    expect(count(database, "SELECT COUNT(*) AS n FROM predictions")).toBe(1);
    expect(count(database, "SELECT COUNT(*) AS n FROM module_calls")).toBe(5);
    expect(rowsOf(database, "stays")).toEqual([1, 5, 1, 0]);
    expect(existsSync(join(outputs, "gone", "config.json"))).toBe(true);
  });

  test("--outputs deletes the run's own folder but never one that belongs to another run", async () => {
    const { database, outputs } = databaseWith(["mine", "legacy", "other-database", "impostor"]);
    // Written before folders had a marker: its config.json is the run's.
    rmSync(join(outputs, "legacy", MARKER));
    // The same run name with another --db took this folder.
    writeFileSync(join(outputs, "other-database", MARKER), JSON.stringify({ database: "/elsewhere.db", run: "other-database", run_id: 1, started_at: "x" }));
    rmSync(join(outputs, "impostor", MARKER));
    writeFileSync(join(outputs, "impostor", "config.json"), JSON.stringify({ run_name: "someone-else" }));
    const result = await runCli(["runs", "rm", "mine", "legacy", "other-database", "impostor", "--yes", "--outputs", "--db", database, "--json"]);
    expect(result.exitCode).toBe(0);
    const document = JSON.parse(result.stdout) as { removed: { name: string; folder: { action: string; reason?: string } }[] };
    expect(document.removed).toMatchObject([
      { name: "mine", folder: { action: "deleted" } },
      { name: "legacy", folder: { action: "deleted" } },
      { name: "other-database", folder: { action: "kept", reason: 'it belongs to run "other-database" of database /elsewhere.db' } },
      { name: "impostor", folder: { action: "kept", reason: "its config.json is another run's" } },
    ]);
    expect(existsSync(join(outputs, "mine"))).toBe(false);
    expect(existsSync(join(outputs, "legacy"))).toBe(false);
    expect(existsSync(join(outputs, "other-database"))).toBe(true);
    expect(existsSync(join(outputs, "impostor"))).toBe(true);
    expect(count(database, "SELECT COUNT(*) AS n FROM runs")).toBe(0);
  });

  test("a run a live musique process is running is refused; one whose process died is deleted", async () => {
    const { database } = databaseWith(["busy", "crashed"], "running");
    const db = new Database(database);
    const lock = db.query("INSERT INTO run_locks (run_id, pid, host, acquired_at, heartbeat_at) SELECT id, ?, ?, ?, ? FROM runs WHERE name = ?");
    const stamp = new Date().toISOString();
    lock.run(process.pid, hostname(), stamp, stamp, "busy");
    lock.run(2 ** 22 + 12345, hostname(), stamp, stamp, "crashed"); // above Linux's pid_max: no such process
    db.close();
    const refused = await runCli(["runs", "rm", "busy", "--yes", "--db", database]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(`run "busy" is being run by a musique process (pid ${process.pid} on ${hostname()})`);
    expect((await runCli(["runs", "rename", "busy", "other", "--db", database])).exitCode).toBe(2);
    expect((await runCli(["runs", "rm", "crashed", "--yes", "--db", database])).exitCode).toBe(0);
    expect(count(database, "SELECT COUNT(*) AS n FROM runs")).toBe(1);
    expect(count(database, "SELECT COUNT(*) AS n FROM run_locks")).toBe(1);
  });

  test("an unknown run name is a usage error with a did-you-mean, and nothing is deleted", async () => {
    const { database } = databaseWith(["baseline"]);
    const result = await runCli(["runs", "rm", "baselin", "--yes", "--db", database]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('no run named "baselin"');
    expect(result.stderr).toContain('did you mean "baseline"?');
    expect(count(database, "SELECT COUNT(*) AS n FROM runs")).toBe(1);
  });

  const script = Bun.which("script");
  if (!script) console.warn("SKIP musique runs rm at a terminal: no `script` command (util-linux) to give it one");
  test.skipIf(!script)("at a terminal it asks: y deletes, anything else keeps", async () => {
    const { database } = databaseWith(["asked-yes", "asked-no"]);
    const command = [...(compiledBinary() ? [compiledBinary() ?? ""] : [process.execPath, MAIN])];
    const atTerminal = async (run: string, answer: string) => {
      const line = [...command, "runs", "rm", run, "--db", database].map((word) => `'${word}'`).join(" ");
      const child = Bun.spawn([script ?? "script", "-qec", line, "/dev/null"], { stdin: new Blob([answer]), stdout: "pipe", stderr: "pipe", env: cleanEnv() });
      const output = await new Response(child.stdout).text();
      expect(await child.exited).toBe(0);
      return output;
    };
    expect(await atTerminal("asked-yes", "y\n")).toContain(`delete 1 run from ${database}? [y/N]`);
    expect(await atTerminal("asked-no", "n\n")).toContain("nothing deleted");
    expect(count(database, "SELECT COUNT(*) AS n FROM runs WHERE name = 'asked-yes'")).toBe(0);
    expect(count(database, "SELECT COUNT(*) AS n FROM runs WHERE name = 'asked-no'")).toBe(1);
  });
});

describe("musique runs rename", () => {
  test("renames the run, moves its own folder outputs/OLD to outputs/NEW and updates config.json there", async () => {
    const { database, outputs } = databaseWith(["old-name"]);
    const result = await runCli(["runs", "rename", "old-name", "new-name", "--db", database]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`renamed old-name to new-name; moved the output folder to ${join(outputs, "new-name")}`);
    expect(existsSync(join(outputs, "old-name"))).toBe(false);
    expect(JSON.parse(readFileSync(join(outputs, "new-name", "config.json"), "utf8"))).toEqual({ run_name: "new-name", seed: 89 });
    expect(JSON.parse(readFileSync(join(outputs, "new-name", MARKER), "utf8"))).toMatchObject({ run: "new-name" });
    const db = new Database(database, { readonly: true });
    const row = db.query("SELECT name, output_dir AS outputDir, config_json AS config FROM runs").get();
    db.close();
    expect(row).toEqual({ name: "new-name", outputDir: join(outputs, "new-name"), config: '{"run_name":"new-name","seed":89}' });
    expect(rowsOf(database, "new-name")).toEqual([1, 5, 1, 0]);
  });

  test("a run recorded before config keys were snake_case (runName) is renamed in its configuration too", async () => {
    const { database } = databaseWith(["legacy-name"]);
    const db = new Database(database);
    db.run(`UPDATE runs SET config_json = '{"runName":"legacy-name","seed":89}'`);
    db.close();
    expect((await runCli(["runs", "rename", "legacy-name", "renamed", "--db", database])).exitCode).toBe(0);
    const check = new Database(database, { readonly: true });
    const row = check.query("SELECT config_json AS config FROM runs").get();
    check.close();
    expect(row).toEqual({ config: '{"runName":"renamed","seed":89}' });
  });

  test("a folder in the way is left alone: the run is renamed, its folder stays where it is", async () => {
    const { database, outputs } = databaseWith(["first"]);
    mkdirSync(join(outputs, "second"));
    const result = await runCli(["runs", "rename", "first", "second", "--db", database]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`kept ${join(outputs, "first")} (${join(outputs, "second")} already exists)`);
    expect(existsSync(join(outputs, "first", "config.json"))).toBe(true);
  });

  test("a taken or invalid new name is refused and nothing moves", async () => {
    const { database, outputs } = databaseWith(["one", "two"]);
    const taken = await runCli(["runs", "rename", "one", "two", "--db", database]);
    expect(taken.exitCode).toBe(2);
    expect(taken.stderr).toContain('a run named "two" already exists');
    const invalid = await runCli(["runs", "rename", "one", "has space", "--db", database]);
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toContain('"has space" is not a valid run name');
    expect(existsSync(join(outputs, "one"))).toBe(true);
  });
});

describe("tags", () => {
  test("runs tag / untag change the tags; runs --tag lists the runs carrying every given tag", async () => {
    const { database } = databaseWith(["r1", "r2", "r3"]);
    expect((await runCli(["runs", "tag", "r1", "r2", "--tag", "baseline", "--db", database])).stdout).toContain("tagged r1, r2: baseline (2 changes)");
    expect((await runCli(["runs", "tag", "r2", "--tag", "paper,final", "--db", database])).exitCode).toBe(0);
    const names = async (...tags: string[]) => {
      const result = await runCli(["runs", "--json", "--db", database, ...tags.flatMap((tag) => ["--tag", tag])]);
      return (JSON.parse(result.stdout) as { name: string; tags: string[] }[]).map((run) => `${run.name}:${run.tags.join("+")}`);
    };
    expect(await names("baseline")).toEqual(["r2:baseline+final+paper", "r1:baseline"]);
    expect(await names("baseline", "paper")).toEqual(["r2:baseline+final+paper"]);
    expect((await runCli(["runs", "untag", "r2", "--tag", "baseline", "--db", database])).stdout).toContain("(1 change)");
    expect(await names("baseline")).toEqual(["r1:baseline"]);
    const table = await runCli(["runs", "--tag", "paper", "--db", database]);
    expect(table.stdout).toMatch(/^r2\s.*\sfinal,paper$/m);
  });

  test("the view dashboard's runs list carries the tags (GET /api/runs reads them)", async () => {
    const { database } = databaseWith(["v1", "v2"]);
    await runCli(["runs", "tag", "v2", "--tag", "shown,here", "--db", database]);
    const store = openReadOnly(database);
    try {
      expect(runListOf(store).map((run) => [run.name, run.tags])).toEqual([
        ["v2", ["here", "shown"]],
        ["v1", []],
      ]);
    } finally {
      store.close();
    }
  });

  test("a tag with a space is refused; runs tag without --tag says what is missing", async () => {
    const { database } = databaseWith(["r"]);
    expect((await runCli(["runs", "tag", "r", "--tag", "two words", "--db", database])).stderr).toContain('tag "two words" is not allowed');
    const missing = await runCli(["runs", "tag", "r", "--db", database]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("--tag");
  });

  test("report --tag reports every run carrying the tag (--json: a list)", async () => {
    const { database } = databaseWith(["p1", "p2", "p3"]);
    await runCli(["runs", "tag", "p1", "p3", "--tag", "paper", "--db", database]);
    const result = await runCli(["report", "--tag", "paper", "--db", database, "--json"]);
    expect(result.exitCode).toBe(0);
    expect((JSON.parse(result.stdout) as { run: { name: string } }[]).map((report) => report.run.name)).toEqual(["p1", "p3"]);
    const html = await runCli(["report", "--tag", "paper", "--html", join(directory.path, "two.html"), "--db", database]);
    expect(html.exitCode).toBe(2);
    expect(html.stderr).toContain("--html writes one run's page");
  });

  test("an unknown runs action is a usage error with a did-you-mean", async () => {
    const result = await runCli(["runs", "remove", "x", "--db", directory.database("none.db")]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('unknown runs action "remove"');
  });
});

describe("where the database is", () => {
  test("without --db or MUSIQUE_DB runs go to $XDG_DATA_HOME/musique/musique.db, whatever the working directory", async () => {
    const source = databaseWith(["portable"]).database;
    const home = join(directory.path, "xdg");
    for (const cwd of [directory.path, join(directory.path, "outputs-1")]) {
      const result = await runCli(["import", source], { cwd, env: { XDG_DATA_HOME: home } });
      expect(result.exitCode).toBe(0);
    }
    expect(existsSync(join(home, "musique", "musique.db"))).toBe(true);
    const listed = await runCli(["runs", "--json"], { env: { XDG_DATA_HOME: home } });
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((run) => run.name)).toEqual(["portable"]);
    // MUSIQUE_DB wins over the default, --db over MUSIQUE_DB.
    const chosen = directory.database("chosen.db");
    expect((await runCli(["import", source], { env: { XDG_DATA_HOME: home, MUSIQUE_DB: chosen } })).exitCode).toBe(0);
    expect(existsSync(chosen)).toBe(true);
  });

  test("the default follows XDG: $XDG_DATA_HOME when absolute, else ~/.local/share", () => {
    expect(defaultDatabasePath({ XDG_DATA_HOME: "/data", HOME: "/home/u" })).toBe("/data/musique/musique.db");
    expect(defaultDatabasePath({ XDG_DATA_HOME: "relative", HOME: "/home/u" })).toBe("/home/u/.local/share/musique/musique.db");
    expect(defaultDatabasePath({ HOME: "/home/u" })).toBe("/home/u/.local/share/musique/musique.db");
  });

  test("runs from before (./outputs/musique.db in the working directory) are pointed to when the default has none", async () => {
    const cwd = join(directory.path, "old-project");
    mkdirSync(join(cwd, "outputs"), { recursive: true });
    databaseWith(["before"]);
    const previous = join(cwd, "outputs", "musique.db");
    writeFileSync(previous, readFileSync(directory.database(`manage-${counter}.db`)));
    const result = await runCli(["runs"], { cwd, env: { XDG_DATA_HOME: join(directory.path, "empty-xdg") } });
    expect(result.exitCode).toBe(6);
    expect(result.stderr).toContain("./outputs/musique.db holds runs from before the database moved to");
    expect(result.stderr).toContain("musique import ./outputs/musique.db");
  });

  test("a network file system is recognised by its statfs type; a local folder is not one", () => {
    expect(networkFileSystemName(0x6969)).toBe("NFS");
    expect(networkFileSystemName(0x0bd00bd0)).toBe("Lustre");
    expect(networkFileSystemName(-28095166)).toBe("SMB2"); // 0xFE534D42 as a signed 32-bit number
    expect(networkFileSystemName(0xef53)).toBeNull(); // ext4
    expect(networkFileSystemOf(directory.database("local.db"))).toBeNull();
  });
});
