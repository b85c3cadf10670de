/**
 * The HTML report in a real headless Chromium (Debian's `chromium` package), driven over the
 * DevTools protocol: charts render, the filter works, escaped values stay text, no console errors.
 * Skipped, with a message, when chromium is not installed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { findChromium, openPage, type BrowserPage } from "./browser.ts";
import { HOSTILE_ANSWER, LIMIT, evaluateDatabase, trainDatabase, writeTrainingRun, type EvaluateDatabase } from "./fixtures.ts";

const chromium = findChromium();
if (!chromium) {
  console.warn("SKIP test/report/browser.test.ts: no chromium at /usr/bin/chromium or /usr/bin/chromium-browser (apt-get install -y chromium)");
}

let fixture: EvaluateDatabase;
let evaluatePage: BrowserPage;
let trainingPage: BrowserPage;
let trainedPage: BrowserPage;

async function writeReport(run: string, database: string, file: string): Promise<string> {
  const path = join(fixture.directory, file);
  const result = await runCli(["report", run, "--db", database, "--html", path]);
  if (result.exitCode !== 0) throw new Error(`report ${run} failed:\n${result.stderr}`);
  return path;
}

describe.skipIf(!chromium)("the HTML report in headless Chromium", () => {
  beforeAll(async () => {
    fixture = await evaluateDatabase();
    const trainingDatabase = join(fixture.directory, "browser-training.db");
    copyFileSync(fixture.database, trainingDatabase);
    writeTrainingRun(trainingDatabase, "t-browser", true);
    evaluatePage = await openPage(chromium ?? "", await writeReport("b", fixture.database, "browser-b.html"));
    trainingPage = await openPage(chromium ?? "", await writeReport("t-browser", trainingDatabase, "browser-t.html"));
    const trained = await trainDatabase();
    trainedPage = await openPage(chromium ?? "", await writeReport(trained.run, trained.database, "browser-trained.html"));
  }, 120_000);

  afterAll(async () => {
    await evaluatePage?.close();
    await trainingPage?.close();
    await trainedPage?.close();
  });

  test("the per-hop bars and the recall-after-hop lines are drawn with a visible size", async () => {
    const bars = await evaluatePage.evaluate<Array<{ width: number; height: number }>>(
      `[...document.querySelectorAll("svg.bar-chart rect.bar")].map((rect) => { const box = rect.getBBox(); return { width: box.width, height: box.height }; })`,
    );
    expect(bars.length).toBe(3 * 2); // 2, 3 and 4 hops × EM and F1
    expect(bars.every((bar) => bar.width > 0 && bar.height > 0)).toBe(true);
    const lines = await evaluatePage.evaluate<Array<{ d: string; length: number }>>(
      `[...document.querySelectorAll("svg.line-chart path.series-line")].map((path) => ({ d: path.getAttribute("d") ?? "", length: path.getTotalLength() }))`,
    );
    expect(lines.length).toBe(4); // all, 2-, 3-, 4-hop questions
    for (const line of lines) {
      expect(line.d).toMatch(/^M [\d.]+ [\d.]+ L /);
      expect(line.length).toBeGreaterThan(100);
    }
  });

  test("the text filter and the hop-count select narrow the examples table", async () => {
    const all = await evaluatePage.evaluate<number>(`document.querySelectorAll("tbody.example:not([hidden])").length`);
    expect(all).toBe(LIMIT);
    const id = await evaluatePage.evaluate<string>(`document.querySelector("tbody.example").getAttribute("data-id")`);
    const afterText = await evaluatePage.evaluate<{ shown: number; label: string }>(`(() => {
      const input = document.getElementById("filter-text");
      input.value = ${JSON.stringify(id)};
      input.dispatchEvent(new Event("input"));
      return { shown: document.querySelectorAll("tbody.example:not([hidden])").length, label: document.getElementById("filter-count").textContent };
    })()`);
    expect(afterText).toEqual({ shown: 1, label: `1 of ${LIMIT} examples shown` });
    const afterSelect = await evaluatePage.evaluate<{ shown: number; hops: string[]; expected: number }>(`(() => {
      const input = document.getElementById("filter-text");
      input.value = "";
      input.dispatchEvent(new Event("input"));
      const select = document.getElementById("filter-hops");
      select.value = "4";
      select.dispatchEvent(new Event("change"));
      const visible = [...document.querySelectorAll("tbody.example:not([hidden])")];
      return { shown: visible.length, hops: [...new Set(visible.map((row) => row.getAttribute("data-hops")))], expected: document.querySelectorAll('tbody.example[data-hops="4"]').length };
    })()`);
    expect(afterSelect.shown).toBeGreaterThan(0);
    expect(afterSelect.shown).toBe(afterSelect.expected);
    expect(afterSelect.hops).toEqual(["4"]);
    await evaluatePage.evaluate(
      `(() => { const select = document.getElementById("filter-hops"); select.value = "all"; select.dispatchEvent(new Event("change")); })()`,
    );
  });

  test("a hostile answer is shown as text, not markup", async () => {
    const state = await evaluatePage.evaluate<{ images: number; shown: boolean }>(
      `({ images: document.images.length, shown: document.body.textContent.includes(${JSON.stringify(HOSTILE_ANSWER)}) })`,
    );
    expect(state).toEqual({ images: 0, shown: true });
  });

  test("a training run shows the reward band, the validation lines and a chart per trainer metric", async () => {
    const state = await trainingPage.evaluate<{ bandHeight: number; titles: string[]; lines: number }>(`(() => {
      const band = document.querySelector("path.series-band");
      return {
        bandHeight: band ? band.getBBox().height : 0,
        titles: [...document.querySelectorAll("svg.chart > title")].map((title) => title.textContent),
        lines: document.querySelectorAll("path.series-line").length,
      };
    })()`);
    expect(state.bandHeight).toBeGreaterThan(0);
    expect(state.titles).toEqual([
      "Reward per training step",
      "Validation over steps",
      "Trainer loss per step",
      "Trainer kl per step",
      "Answer EM and F1 per hop count",
      "Retrieval recall after each hop",
    ]);
    expect(state.lines).toBeGreaterThanOrEqual(1 + 5 + 2);
  });

  test("a run of the real musique train draws its reward band and validation lines and says why the trainer's metrics were not recorded", async () => {
    const state = await trainedPage.evaluate<{ bandHeight: number; validationLines: number; note: string }>(`(() => {
      const band = document.querySelector("path.series-band");
      const validation = [...document.querySelectorAll("svg.chart")].find((svg) => svg.querySelector("title")?.textContent === "Validation over steps");
      return {
        bandHeight: band ? band.getBBox().height : 0,
        validationLines: validation ? validation.querySelectorAll("path.series-line").length : 0,
        note: document.getElementById("trainer-metrics")?.textContent ?? "",
      };
    })()`);
    expect(state.bandHeight).toBeGreaterThan(0);
    expect(state.validationLines).toBe(5);
    expect(state.note).toContain("Trainer loss / KL / grad norm / learning rate: not recorded: the trainer's log");
  });

  test("no console errors, exceptions or error log entries; a full-page screenshot can be taken", async () => {
    const shot = join(fixture.directory, "report-b.png");
    await evaluatePage.evaluate(`document.querySelectorAll("details").forEach((details) => { details.open = true; })`);
    await evaluatePage.screenshot(shot);
    await trainingPage.screenshot(join(fixture.directory, "report-t.png"));
    expect(existsSync(shot) && statSync(shot).size > 10_000).toBe(true);
    expect(evaluatePage.errors).toEqual([]);
    expect(trainingPage.errors).toEqual([]);
    expect(trainedPage.errors).toEqual([]);
  });
});

describe.skipIf(!chromium)("the DevTools driver used above", () => {
  test("does see console errors and uncaught exceptions (so 'no errors' above means something)", async () => {
    const fixtureDirectory = (await evaluateDatabase()).directory;
    const path = join(fixtureDirectory, "errors.html");
    writeFileSync(path, `<!DOCTYPE html><html><body><script>console.error("boom"); throw new Error("bang");</script></body></html>`);
    const page = await openPage(chromium ?? "", path);
    try {
      await page.evaluate("new Promise((resolve) => setTimeout(resolve, 50))");
      expect(page.errors.some((error) => error.includes("boom"))).toBe(true);
      expect(page.errors.some((error) => error.includes("bang"))).toBe(true);
    } finally {
      await page.close();
    }
  }, 60_000);
});
