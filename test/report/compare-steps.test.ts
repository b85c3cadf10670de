/**
 * `musique compare` with validations of a training run (RUN@STEP, RUN@best), per-example flips,
 * service failures left out, warnings about what was evaluated, and --html.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Comparison } from "../../src/report/compare.ts";
import { startFakeOpenAI } from "../fakes/openai.ts";
import { runCli } from "../helpers/cli.ts";
import { LIMIT, copyRun, evaluateDatabase, trainDatabase, writeTrainingRun } from "./fixtures.ts";

let database: string;
let directory: string;
let trained: { database: string; run: string };

async function compareJson(db: string, sides: string[]): Promise<{ comparison: Comparison; stderr: string }> {
  const result = await runCli(["compare", ...sides, "--db", db, "--json"]);
  if (result.exitCode !== 0) throw new Error(`compare ${sides.join(" ")} failed (${result.exitCode}):\n${result.stderr}`);
  return { comparison: JSON.parse(result.stdout) as Comparison, stderr: result.stderr };
}

beforeAll(async () => {
  const fixture = await evaluateDatabase();
  directory = fixture.directory;
  database = join(directory, "compare-steps.db");
  copyFileSync(fixture.database, database);
  writeTrainingRun(database, "t", false);
  // b-outage: run b with two predictions turned into service failures (not results).
  copyRun(database, "b", "b-outage");
  const db = new Database(database);
  db.run(`UPDATE predictions SET status = 'lm_error', answer = NULL, em = 0, f1 = 0 WHERE id IN (
    SELECT id FROM predictions WHERE run_id = (SELECT id FROM runs WHERE name = 'b-outage') ORDER BY id LIMIT 2)`);
  db.close();
  const built = await trainDatabase();
  trained = { database: join(built.directory, "compare-trained.db"), run: built.run };
  copyFileSync(built.database, trained.database);
  // An evaluation of the same 6 dev examples the training run validated on, at evaluate's temperature.
  const fake = await startFakeOpenAI({});
  try {
    const result = await runCli([
      "evaluate",
      "--datasets",
      "test/fixtures/musique_ans_dev_sample150.jsonl",
      "--test-size",
      "6",
      "--retriever",
      "lexical",
      "--base-url",
      fake.baseUrl,
      "--db",
      trained.database,
      "--output-dir",
      join(built.directory, "outputs"),
      "--run-name",
      "base",
    ]);
    if (result.exitCode !== 0) throw new Error(`evaluate base failed:\n${result.stderr}`);
  } finally {
    await fake.stop();
  }
}, 180_000);

describe("musique compare RUN@STEP", () => {
  test("t@0 vs t@best compares the validation before training with the best one: the 2-hop example is fixed", async () => {
    const { comparison } = await compareJson(database, ["t@0", "t@best"]);
    expect(comparison.runs.map((run) => [run.label, run.step])).toEqual([
      ["t@0", 0],
      ["t@best", 2],
    ]);
    expect(comparison.paired).toBe(2);
    expect(comparison.flips).toEqual([
      {
        run: "t@best",
        against: "t@0",
        overall: { fixed: 1, broken: 0, bothRight: 0, bothWrong: 1 },
        byHops: {
          "2": { fixed: ["2hop__1_2"], broken: [], bothRight: [], bothWrong: [] },
          "3": { fixed: [], broken: [], bothRight: [], bothWrong: ["3hop1__4_5_6"] },
        },
      },
    ]);
    expect(comparison.overall.metrics.find((metric) => metric.metric === "em")?.runs[1]?.difference?.mean).toBe(0.5);
    expect(comparison.warnings).toEqual([]);
  });

  test("RUN@0 RUN@best works on a run of the real musique train, even when the best validation is the first", async () => {
    const { comparison } = await compareJson(trained.database, [`${trained.run}@0`, `${trained.run}@best`]);
    expect(comparison.runs.map((run) => run.label)).toEqual([`${trained.run}@0`, `${trained.run}@best`]);
    expect(comparison.paired).toBe(6);
    const counts = comparison.flips[0]?.overall;
    expect((counts?.fixed ?? 0) + (counts?.broken ?? 0) + (counts?.bothRight ?? 0) + (counts?.bothWrong ?? 0)).toBe(6);
  });

  test("a step without a validation, a step of an evaluate run, and an unknown form are usage errors that list what exists", async () => {
    const missing = await runCli(["compare", "t@1", "t@2", "--db", database]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('run "t" has no validation after 1 steps');
    expect(missing.stderr).toContain("validations with predictions after steps: 0, 2");
    const evaluate = await runCli(["compare", "a@0", "b", "--db", database]);
    expect(evaluate.exitCode).toBe(2);
    expect(evaluate.stderr).toContain('run "a" is a evaluate run');
    const odd = await runCli(["compare", "t@last", "t@0", "--db", database]);
    expect(odd.exitCode).toBe(2);
    expect(odd.stderr).toContain('"t@last" is not a run spec');
  });

  test("an evaluation vs a training run's validation warns about what was evaluated (temperature), not about the training set", async () => {
    const { comparison, stderr } = await compareJson(trained.database, ["base", `${trained.run}@0`]);
    expect(comparison.paired).toBe(6);
    expect(comparison.runs.map((run) => run.dataset)).toEqual([
      "test/fixtures/musique_ans_dev_sample150.jsonl",
      "test/fixtures/musique_ans_dev_sample150.jsonl",
    ]);
    expect(comparison.warnings.map((warning) => warning.kind)).toEqual(["temperature"]);
    expect(stderr).toContain(`runs differ in sampling temperature: base=0.5, ${trained.run}@0=0.7`);
  });
});

describe("musique compare flips and service failures", () => {
  test("every answer wrong vs every answer right: every paired example is fixed, per hop count as in the CI blocks", async () => {
    const { comparison } = await compareJson(database, ["wrong", "right"]);
    const flips = comparison.flips[0];
    expect(flips?.overall).toEqual({ fixed: LIMIT, broken: 0, bothRight: 0, bothWrong: 0 });
    for (const [hops, lists] of Object.entries(flips?.byHops ?? {})) expect(lists.fixed.length).toBe(comparison.byHops[hops]?.n ?? -1);
    const reverse = await compareJson(database, ["right", "wrong"]);
    expect(reverse.comparison.flips[0]?.overall).toEqual({ fixed: 0, broken: LIMIT, bothRight: 0, bothWrong: 0 });
  });

  test("with three sides, each later side gets its own flips against the first; the lists partition the paired examples", async () => {
    const { comparison } = await compareJson(database, ["a", "b", "right"]);
    expect(comparison.flips.map((entry) => [entry.run, entry.against])).toEqual([
      ["b", "a"],
      ["right", "a"],
    ]);
    for (const entry of comparison.flips) {
      const ids = Object.values(entry.byHops).flatMap((lists) => [...lists.fixed, ...lists.broken, ...lists.bothRight, ...lists.bothWrong]);
      expect(new Set(ids).size).toBe(comparison.paired);
    }
  });

  test("predictions that failed on a service are not results: left out of the pairing and counted", async () => {
    const { comparison } = await compareJson(database, ["b", "b-outage"]);
    expect(comparison.paired).toBe(LIMIT - 2);
    expect(comparison.runs[1]?.serviceFailures).toBe(2);
    expect(comparison.dropped).toEqual([
      { run: "b", count: 2 },
      { run: "b-outage", count: 0 },
    ]);
    expect(comparison.warnings.map((warning) => warning.kind)).toEqual(["sample"]);
  });
});

describe("musique compare --html", () => {
  test("writes one self-contained page with the CI table, fixed/broken lists per hop count and side-by-side trajectories", async () => {
    const path = join(directory, "compare-out", "t.html");
    const result = await runCli(["compare", "t@0", "t@best", "--db", database, "--html", path]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`html: ${path}`);
    const html = readFileSync(path, "utf8");
    expect(html).toContain("t@best − t@0 [95% CI]");
    expect(html).toContain('<span class="count" data-kind="fixed" data-hops="2">1</span>');
    expect(html).toContain('<details class="flip" data-kind="fixed" data-hops="2" data-id="2hop__1_2">');
    expect(html).toContain('<tr class="hop-row" data-hop="2"><th>hop 2</th>');
    expect(html).toContain('<span class="supporting">supporting</span>');
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(readdirSync(join(directory, "compare-out"))).toEqual(["t.html"]);
  });

  test("an unwritable --html path fails with exit code 6 and leaves no file", async () => {
    const blocker = join(directory, "compare-blocker");
    await Bun.write(blocker, "a file, not a folder");
    const result = await runCli(["compare", "t@0", "t@best", "--db", database, "--html", join(blocker, "x.html")]);
    expect(result.exitCode).toBe(6);
    expect(result.stderr).toContain("cannot write");
    expect(existsSync(join(blocker, "x.html"))).toBe(false);
  });
});
