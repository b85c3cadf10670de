import { describe, expect, test } from "bun:test";
import { configDifferences } from "../../src/report/compare.ts";
import { evaluatedSettings, parseRunSpec } from "../../src/report/compare-runs.ts";
import type { RunRecord } from "../../src/store/runs.ts";
import { escapeHtml } from "../../src/report/escape.ts";
import { barChart, lineChart, niceTicks } from "../../src/report/svg.ts";
import { trainerMetricsOf } from "../../src/report/training.ts";
import { parseTrajectory, questionFromMessages, recallAfterEachHop } from "../../src/report/trajectory.ts";

describe("report building blocks", () => {
  test("escapeHtml escapes the five HTML-significant characters", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });

  test("chart titles, legends and labels are escaped inside the SVG", () => {
    const svg = lineChart(
      [
        {
          name: "<b>",
          points: [
            { x: 1, y: 0.5 },
            { x: 2, y: 0.7 },
          ],
        },
      ],
      { title: "a & b", xLabel: "x", yLabel: "y" },
    );
    expect(svg).toContain("a &amp; b");
    expect(svg).toContain("&lt;b&gt;");
    expect(svg).not.toContain("<b>");
    const bars = barChart(["<2>"], [{ name: "EM", values: [0.5] }], { title: "t", xLabel: "x", yLabel: "y", yRange: [0, 1] });
    expect(bars).toContain("&lt;2&gt;");
    expect(bars.match(/class="bar"/g)?.length).toBe(1);
  });

  test("nice ticks are round numbers covering the range", () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 3, 6)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3]);
  });

  test("config differences ignore operational keys (db, baseUrl, runName, outputDir, concurrency, …) and the sample size", () => {
    const record = (name: string, config: Record<string, unknown>): RunRecord => ({
      id: 1,
      uid: "",
      name,
      kind: "evaluate",
      status: "completed",
      startedAt: "",
      finishedAt: null,
      configJson: JSON.stringify(config),
      configHash: "",
      toolVersion: "",
      seed: null,
      dataset: null,
      model: null,
      retriever: null,
      error: null,
      outputDir: null,
    });
    const differences = configDifferences([
      {
        run: "a",
        config: evaluatedSettings(
          record("a", { db: "a.db", baseUrl: ["http://a"], runName: "a", outputDir: "x", concurrency: 4, logLevel: "info", topN: 2, seed: 1, limit: 5 }),
        ),
      },
      {
        run: "b",
        config: evaluatedSettings(
          record("b", { db: "b.db", baseUrl: ["http://b"], runName: "b", outputDir: "y", concurrency: 8, logLevel: "debug", topN: 3, seed: 2, limit: 9 }),
        ),
      },
    ]);
    expect(differences).toEqual([{ key: "topN", values: { a: 2, b: 3 } }]);
  });

  test("a training run's evaluated settings are its validation set and sampling, not its training knobs", () => {
    const evaluated = evaluatedSettings({
      id: 1,
      uid: "",
      name: "t",
      kind: "train",
      status: "completed",
      startedAt: "",
      finishedAt: null,
      toolVersion: "",
      seed: null,
      dataset: "train-set",
      model: "m",
      retriever: "lexical",
      error: null,
      outputDir: null,
      configHash: "",
      configJson: JSON.stringify({
        datasets: "train-set",
        evalDatasets: "dev-set",
        learningRate: 1e-5,
        numTrainSteps: 9,
        temperature: 0.7,
        model: "m",
        retriever: "lexical",
        numHops: 2,
      }),
    });
    expect(evaluated).toEqual({ datasets: "dev-set", temperature: 0.7, model: "m", retriever: "lexical", numHops: 2 });
  });

  test("run specs: RUN, RUN@STEP (steps completed) and RUN@best; anything else with @ is refused", () => {
    expect(parseRunSpec("a")).toEqual({ text: "a", name: "a", step: null });
    expect(parseRunSpec("train-1@0")).toEqual({ text: "train-1@0", name: "train-1", step: 0 });
    expect(parseRunSpec("t@12")).toEqual({ text: "t@12", name: "t", step: 12 });
    expect(parseRunSpec("t@best")).toEqual({ text: "t@best", name: "t", step: "best" });
    expect(() => parseRunSpec("t@last")).toThrow("is not a run spec");
  });

  test("KL and loss are picked from Arbor's metrics (nested keys too), other numbers are not", () => {
    const series = trainerMetricsOf([
      { step: 0, metricsJson: JSON.stringify({ loss: 1, klBeta: 0.04, train: { kl: 0.1, learning_rate: 2e-5 } }) },
      { step: 1, metricsJson: null },
      { step: 2, metricsJson: "not json" },
    ]);
    expect(series).toEqual({ loss: [{ step: 0, value: 1 }], "train.kl": [{ step: 0, value: 0.1 }] });
  });

  test("recall after each hop is cumulative over the supporting documents retrieved so far", () => {
    const trajectory = parseTrajectory(
      JSON.stringify({
        hops: [
          {
            query: "q1",
            retrieved: [
              { id: "1", isSupporting: true },
              { id: "2", isSupporting: false },
            ],
            keyInformation: "",
          },
          {
            query: "q2",
            retrieved: [
              { id: "1", isSupporting: true },
              { id: "3", isSupporting: true },
            ],
            keyInformation: "",
          },
        ],
      }),
    );
    expect(recallAfterEachHop(trajectory, 3, 2 / 3, 3)).toEqual([1 / 3, 2 / 3, 2 / 3]);
    expect(recallAfterEachHop(parseTrajectory(null), 2, 0.5, 2)).toEqual([0.5, 0.5]);
  });

  test("the question is read from the user message's question field", () => {
    const messages = JSON.stringify([
      { role: "system", content: "…" },
      { role: "user", content: "[[ ## question ## ]]\nWho wrote it?\n\n[[ ## documents ## ]]\nDocument ID: 1" },
    ]);
    expect(questionFromMessages(messages)).toBe("Who wrote it?");
    expect(questionFromMessages(undefined)).toBe("");
  });
});
