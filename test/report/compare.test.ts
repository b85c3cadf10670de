import { beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import type { Comparison } from "../../src/report/compare.ts";
import { runCli } from "../helpers/cli.ts";
import { LIMIT, copyRun, evaluateDatabase, writeTrainingRun, type EvaluateDatabase } from "./fixtures.ts";

let fixture: EvaluateDatabase;

beforeAll(async () => {
  fixture = await evaluateDatabase();
}, 120_000);

async function compareJson(runs: string[], extra: string[] = []): Promise<{ comparison: Comparison; stderr: string }> {
  const result = await runCli(["compare", ...runs, "--db", fixture.database, "--json", ...extra]);
  expect(result.exitCode).toBe(0);
  return { comparison: JSON.parse(result.stdout) as Comparison, stderr: result.stderr };
}

function metric(comparison: Comparison, name: string) {
  const found = comparison.overall.metrics.find((entry) => entry.metric === name);
  if (!found) throw new Error(`no metric ${name}`);
  return found;
}

describe("musique compare on runs recorded by musique evaluate", () => {
  test("identical runs: every difference is 0 with a zero-width interval, and no warnings", async () => {
    const { comparison } = await compareJson(["a", "a-again"]);
    expect(comparison.paired).toBe(LIMIT);
    expect(comparison.dropped).toEqual([
      { run: "a", count: 0 },
      { run: "a-again", count: 0 },
    ]);
    for (const entry of comparison.overall.metrics) expect(entry.runs[1]?.difference).toEqual({ mean: 0, low: 0, high: 0 });
    expect(comparison.warnings).toEqual([]);
  });

  test("every answer right vs every answer wrong: EM difference exactly 1 with interval [1, 1]", async () => {
    const { comparison } = await compareJson(["wrong", "right"]);
    const em = metric(comparison, "em");
    expect(em.runs.map((column) => column.mean)).toEqual([0, 1]);
    expect(em.runs[1]?.difference).toEqual({ mean: 1, low: 1, high: 1 });
    for (const block of Object.values(comparison.byHops)) {
      expect(block.metrics.find((entry) => entry.metric === "em")?.runs[1]?.difference).toEqual({ mean: 1, low: 1, high: 1 });
    }
    expect(metric(comparison, "f1").runs[1]?.difference?.mean).toBe(1);
  });

  test("means equal each run's report, differences have a 95% interval around them, split per hop count", async () => {
    const { comparison } = await compareJson(["a", "b", "right"], ["--resamples", "1000", "--seed", "5"]);
    expect(comparison.bootstrap).toEqual({ method: "paired percentile bootstrap", confidence: 0.95, resamples: 1000, seed: 5 });
    const em = metric(comparison, "em");
    expect(em.runs.map((column) => column.run)).toEqual(["a", "b", "right"]);
    expect(em.runs[0]?.difference).toBeNull();
    const report = JSON.parse((await runCli(["report", "b", "--db", fixture.database, "--json"])).stdout) as {
      scores: { overall: { answer_em: number; reward: number } };
    };
    expect(em.runs[1]?.mean).toBeCloseTo(report.scores.overall.answer_em, 3);
    for (const column of em.runs.slice(1)) {
      const difference = column.difference;
      expect(difference).not.toBeNull();
      expect(difference?.low ?? 1).toBeLessThanOrEqual(difference?.mean ?? 0);
      expect(difference?.high ?? 0).toBeGreaterThanOrEqual(difference?.mean ?? 1);
    }
    expect(Object.keys(comparison.byHops)).toEqual(["2", "3", "4"]);
    expect(Object.values(comparison.byHops).reduce((sum, block) => sum + block.n, 0)).toBe(LIMIT);
    expect(comparison.overall.metrics.map((entry) => entry.metric)).toEqual(["em", "f1", "recall", "supportF1", "reward"]);
  });

  test("the same seed gives the same intervals", async () => {
    const first = await compareJson(["a", "b"], ["--seed", "3"]);
    const second = await compareJson(["a", "b"], ["--seed", "3"]);
    expect(second.comparison).toEqual(first.comparison);
  });

  test("different samples and configs: pairs the shared ids, says how many were dropped, warns with the differing keys", async () => {
    const { comparison, stderr } = await compareJson(["a", "c"]);
    expect(comparison.paired).toBe(12);
    expect(comparison.dropped).toEqual([
      { run: "a", count: LIMIT - 12 },
      { run: "c", count: 0 },
    ]);
    const kinds = comparison.warnings.map((warning) => warning.kind);
    expect(kinds).toContain("sample");
    expect(kinds).not.toContain("dataset");
    expect(kinds).not.toContain("retriever");
    const config = comparison.warnings.find((warning) => warning.kind === "config");
    // --limit decides the sample (the "sample" warning), not the numbers: only topN is listed
    expect(config?.keys?.map((entry) => entry.key)).toEqual(["topN"]);
    expect(config?.keys?.find((entry) => entry.key === "topN")?.values).toEqual({ a: 2, c: 3 });
    expect(stderr).toContain("runs differ in settings that change the scores: top_n"); // as config.json names it
  });

  test("the table shows each run's mean, the difference with its CI, the per-hop split and the warnings", async () => {
    const result = await runCli(["compare", "a", "c", "--db", fixture.database]);
    expect(result.exitCode).toBe(0);
    for (const text of [
      "paired 12 examples evaluated by every side (dropped: a 8, c 0)",
      "c − a [95% CI]",
      "overall (n=12)",
      "2 hops (n=",
      "EM",
      "support F1",
      "warnings:",
      "top_n: a=2, c=3",
      "c vs a (answer EM): fixed ",
    ]) {
      expect(result.stdout).toContain(text);
    }
  });

  test("fewer than two runs, an unknown run, or too few resamples are usage errors", async () => {
    const one = await runCli(["compare", "a", "--db", fixture.database]);
    expect(one.exitCode).toBe(2);
    expect(one.stderr).toContain("at least two");
    const unknown = await runCli(["compare", "a", "zzz", "--db", fixture.database]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('no run named "zzz"');
    const resamples = await runCli(["compare", "a", "b", "--resamples", "10", "--db", fixture.database]);
    expect(resamples.exitCode).toBe(2);
    const twice = await runCli(["compare", "a", "a", "--db", fixture.database]);
    expect(twice.exitCode).toBe(2);
  });
});

describe("musique compare across datasets and retrievers", () => {
  let database: string;

  beforeAll(() => {
    database = join(fixture.directory, "compare-variants.db");
    copyFileSync(fixture.database, database);
    // A copy of run "a" recorded as if on another dataset and retriever (same example ids).
    const dataset = "bdsaglam/musique,answerable,validation";
    copyRun(database, "a", "a-golden", { config: { "$.datasets": dataset, "$.retriever": "golden" }, dataset, retriever: "golden" });
    writeTrainingRun(database, "t", false);
  });

  test("warns when the runs differ in dataset and retriever", async () => {
    const result = await runCli(["compare", "a", "a-golden", "--db", database, "--json"]);
    expect(result.exitCode).toBe(0);
    const comparison = JSON.parse(result.stdout) as Comparison;
    expect(comparison.warnings.map((warning) => warning.kind).sort()).toEqual(["dataset", "retriever"]);
    expect(result.stderr).toContain("runs differ in retriever: a=lexical, a-golden=golden");
    expect(result.stderr).toContain("runs evaluated different datasets: a=sample, a-golden=bdsaglam/musique,answerable,validation");
  });

  test("runs with no example in common are a data error that says how many predictions each has", async () => {
    const result = await runCli(["compare", "a", "t", "--db", database]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain("a, t have no evaluated example in common");
    expect(result.stderr).toContain(`a: ${LIMIT} predictions, t: 2 predictions`);
  });
});
