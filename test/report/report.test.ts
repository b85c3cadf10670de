import { beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunReport } from "../../src/report/data.ts";
import { runCli } from "../helpers/cli.ts";
import { HOSTILE_ANSWER, LIMIT, evaluateDatabase, trainDatabase, writeTrainingRun, type EvaluateDatabase } from "./fixtures.ts";

let fixture: EvaluateDatabase;
let trainingDatabase: string;

beforeAll(async () => {
  fixture = await evaluateDatabase();
  trainingDatabase = join(fixture.directory, "training.db");
  copyFileSync(fixture.database, trainingDatabase);
  writeTrainingRun(trainingDatabase, "t-metrics", true);
  writeTrainingRun(trainingDatabase, "t-plain", false);
}, 120_000);

async function reportJson(run: string, database = fixture.database): Promise<RunReport> {
  const result = await runCli(["report", run, "--db", database, "--json"]);
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.stdout) as RunReport;
}

function scalar(database: string, sql: string, ...parameters: string[]): number {
  const db = new Database(database, { readonly: true });
  try {
    return (db.query(sql).get(...parameters) as { value: number }).value;
  } finally {
    db.close();
  }
}

describe("musique report on runs recorded by musique evaluate", () => {
  test("report --json scores are identical to the run's scores.json (overall, per hop, per shape)", async () => {
    for (const run of ["a", "b", "right", "c"]) {
      const report = await reportJson(run);
      const { run: _name, ...scores } = JSON.parse(readFileSync(join(fixture.outputs, run, "scores.json"), "utf8")) as Record<string, unknown>;
      expect(report.scores as unknown).toEqual(scores);
    }
  });

  test("run b has some right answers, a format failure and the retried calls counted as Σ(attempts − 1)", async () => {
    const report = await reportJson("b");
    expect(report.scores?.overall.answer_em).toBeGreaterThan(0);
    expect(report.scores?.overall.answer_em).toBeLessThan(1);
    expect(report.failures.retries).toBe(2);
    expect(report.failures.parseFailures).toBe(1);
    expect(report.failures.formatFailureExamples).toBe(1);
    expect(report.scores?.overall.format_failures).toBe(1);
  });

  test("usage equals the module_calls table and the configuration is the stored one", async () => {
    const report = await reportJson("a");
    const runId = "(SELECT id FROM runs WHERE name = ?)";
    expect(report.usage.calls).toBe(scalar(fixture.database, `SELECT COUNT(*) AS value FROM module_calls WHERE run_id = ${runId}`, "a"));
    expect(report.usage.promptTokens).toBe(scalar(fixture.database, `SELECT SUM(prompt_tokens) AS value FROM module_calls WHERE run_id = ${runId}`, "a"));
    expect(report.usage.totalTokens).toBe(report.usage.promptTokens + report.usage.completionTokens);
    expect(report.run).toMatchObject({ name: "a", kind: "evaluate", status: "completed", dataset: "sample", retriever: "lexical" });
    expect(report.run.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(report.config).toMatchObject({ limit: LIMIT, topN: 2, runName: "a" });
    expect(report.examples).toBe(LIMIT);
    expect(report.predicted).toBe(LIMIT);
  });

  test("recall after the last hop equals the run's mean recall; recall never falls from hop to hop", async () => {
    const report = await reportJson("a");
    const curve = report.recallAtHop.overall;
    expect(report.recallAtHop.hops).toEqual([1, 2]);
    expect(curve[curve.length - 1]).toBeCloseTo(report.scores?.overall.recall ?? -1, 4);
    for (let index = 1; index < curve.length; index++) expect(curve[index] ?? 0).toBeGreaterThanOrEqual(curve[index - 1] ?? 0);
  });

  test("the terminal summary shows status, the scores table, usage and failures", async () => {
    const result = await runCli(["report", "b", "--db", fixture.database]);
    expect(result.exitCode).toBe(0);
    for (const text of [
      "run b (evaluate): completed",
      "duration",
      "overall",
      "by hop count",
      "2 hops",
      "recall after hop",
      "LM usage:",
      "2 retries",
      "1 parse failures",
    ]) {
      expect(result.stdout).toContain(text);
    }
    expect(result.stdout).not.toMatch(/^2hop\s/m); // the only 2-hop shape would repeat the "2 hops" row
    expect(result.stdout).toContain("reward (v1) = hop weight × (0.8 × (0.6·EM + 0.3·F1) + 0.2·recall), from 0 to 1.84");
  });

  test("an unknown run is a usage error naming the database and how to list runs", async () => {
    const result = await runCli(["report", "nope", "--db", fixture.database]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('no run named "nope"');
    expect(result.stderr).toContain("musique runs");
  });

  test("--html writes one self-contained page: no external resources, charts and examples inline, values escaped", async () => {
    const path = join(fixture.directory, "b.html");
    const result = await runCli(["report", "b", "--db", fixture.database, "--html", path]);
    expect(result.exitCode).toBe(0);
    const html = readFileSync(path, "utf8");
    // Booleans, so a failure does not print the whole page.
    expect(/<(script|link|img)[^>]+(src|href)=/i.test(html)).toBe(false);
    expect(/<link|@import|url\(|<iframe|<object/i.test(html)).toBe(false);
    expect(html.includes('class="chart bar-chart"')).toBe(true);
    expect(html.includes("Retrieval recall after each hop")).toBe(true);
    expect(html.match(/<tbody class="example"/g)?.length).toBe(LIMIT);
    expect(html.includes(HOSTILE_ANSWER)).toBe(false);
    expect(html.includes("&lt;img src=x onerror=&quot;console.error(&#39;not escaped&#39;)&quot;&gt; &amp; &quot;quoted&quot;")).toBe(true);
    expect(html.includes("<h2>Training</h2>")).toBe(false);
  });
});

describe("musique report on training runs (rows written through src/store/training.ts)", () => {
  test("--json has the reward curve per step with its min–max band, validations, the best step and KL / loss", async () => {
    const report = await reportJson("t-metrics", trainingDatabase);
    const training = report.training;
    expect(training?.steps).toBe(4);
    expect(training?.rewardCurve.map((point) => point.step)).toEqual([1, 2, 3, 4]);
    for (const point of training?.rewardCurve ?? []) {
      expect(point.rollouts).toBe(8);
      expect(point.low).toBeLessThanOrEqual(point.mean);
      expect(point.high).toBeGreaterThanOrEqual(point.mean);
    }
    expect(training?.rewardBand).toContain("min–max");
    expect(training?.validations.map((row) => row.step)).toEqual([0, 2]);
    expect(training?.best?.step).toBe(2);
    expect(Object.keys(training?.trainerMetrics ?? {}).sort()).toEqual(["kl", "loss"]);
    expect(report.step).toBe(2);
    expect(report.predicted).toBe(2);
    expect(report.scores?.overall.n).toBe(2);
  });

  test("the page draws the reward band, the validation lines and a chart per trainer metric", async () => {
    const path = join(fixture.directory, "t-metrics.html");
    expect((await runCli(["report", "t-metrics", "--db", trainingDatabase, "--html", path])).exitCode).toBe(0);
    const html = readFileSync(path, "utf8");
    expect(html.includes("<h2>Training</h2>")).toBe(true);
    expect(html.includes("Reward per training step")).toBe(true);
    expect(/<path d="M [^"]+ Z"[^>]*class="series-band"/.test(html)).toBe(true);
    expect(html.includes("Validation over steps")).toBe(true);
    expect(html.includes("Trainer loss per step")).toBe(true);
    expect(html.includes("Trainer kl per step")).toBe(true);
  });

  test("without trainer metrics the page and the summary say why", async () => {
    const path = join(fixture.directory, "t-plain.html");
    const result = await runCli(["report", "t-plain", "--db", trainingDatabase, "--html", path]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("trainer loss / KL / grad norm / learning rate: not recorded: no Arbor job was started, so nothing was trained");
    expect(readFileSync(path, "utf8").includes("Trainer loss / KL / grad norm / learning rate: not recorded: no Arbor job was started")).toBe(true);
  });
});

describe("musique report on a run recorded by musique train against the fake Arbor", () => {
  test("scores equal the run's scores.json; the reward curve matches training_steps; the trainer's metrics not recorded, saying why", async () => {
    const trained = await trainDatabase();
    const report = await reportJson(trained.run, trained.database);
    const written = JSON.parse(readFileSync(join(trained.outputs, trained.run, "scores.json"), "utf8")) as Record<string, unknown> & { step: number };
    expect(report.step).toBe(written.step);
    expect(report.scores as unknown).toEqual({ overall: written.overall, by_hops: written.by_hops, by_shape: written.by_shape });
    const training = report.training;
    expect(training?.completedSteps).toBe(3);
    const db = new Database(trained.database, { readonly: true });
    const steps = db.query("SELECT step, mean_reward FROM training_steps ORDER BY step").all() as Array<{ step: number; mean_reward: number }>;
    db.close();
    expect(training?.rewardCurve.map((point) => point.step)).toEqual(steps.map((row) => row.step));
    training?.rewardCurve.forEach((point, index) => {
      expect(point.mean).toBeCloseTo(steps[index]?.mean_reward ?? Number.NaN, 9);
      expect(point.rollouts).toBe(2 * 8);
    });
    expect(training?.validations.length).toBeGreaterThan(0);
    expect(training?.trainerMetrics).toEqual({});
    const path = join(trained.directory, "trained.html");
    const result = await runCli(["report", trained.run, "--db", trained.database, "--html", path]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("trainer loss / KL / grad norm / learning rate: not recorded: the trainer's log /home/fake/.arbor/storage/");
    const html = readFileSync(path, "utf8");
    expect(html.includes("Reward per training step")).toBe(true);
    expect(html.includes("Trainer loss / KL / grad norm / learning rate: not recorded: the trainer&#39;s log /home/fake/.arbor/storage/")).toBe(true);
  }, 120_000);
});
