/**
 * Suite "view": how fast musique view answers on a big database (bench/view-database.ts: 100 runs,
 * 20,160 training rollouts, ~0.8 GB). For each page's JSON (GET /api/…): the time to the full
 * answer from a freshly started server (nothing cached), median of 5 servers. For each page in
 * headless Chromium (when /usr/bin/chromium exists): the time from navigation to the page
 * rendered from its data (document.body.dataset.ready), fresh server each run. And the live delay:
 * a training step committed by another connection until the open training page draws it.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../src/store/database.ts";
import { findRun } from "../src/store/runs.ts";
import { recordRollouts, recordTrainingStep } from "../src/store/training.ts";
import { startViewServer, type ViewServer } from "../src/view/server.ts";
import { findChromium, openPage } from "../test/report/browser.ts";
import { atMost, figuresFor, progress, repeat, type Figure } from "./measure.ts";
import { temporaryDirectory } from "./records.ts";
import { buildViewBenchDatabase, STEPS, type ViewBenchDatabase } from "./view-database.ts";

const RUNS = 5;

interface PageCase {
  page: string;
  api: string;
  path: string;
}

function cases(database: ViewBenchDatabase): PageCase[] {
  const [first = "", second = ""] = database.evaluateRuns;
  const train = database.trainRuns[0] ?? "";
  const middle = Math.floor(STEPS / 2);
  return [
    { page: "runs (100 runs)", api: "/api/runs", path: "/" },
    { page: "a run (150 examples, report)", api: `/api/runs/${first}`, path: `/run/${first}` },
    { page: "a training run (84 steps, 4,032 rollouts)", api: `/api/runs/${train}/training`, path: `/run/${train}/training` },
    { page: "group inspector (one step)", api: `/api/runs/${train}/steps/${middle}`, path: `/run/${train}/training?step=${middle}` },
    { page: "compare two evaluations (150 paired)", api: `/api/compare?side=${first}&side=${second}`, path: `/compare?side=${first}&side=${second}` },
  ];
}

async function withServer<T>(path: string, work: (server: ViewServer) => Promise<T>): Promise<T> {
  const server = startViewServer({ database: path, host: "127.0.0.1", port: 0 });
  try {
    return await work(server);
  } finally {
    await server.stop();
  }
}

async function apiFigures(database: ViewBenchDatabase): Promise<Figure[]> {
  const figure = figuresFor("view");
  const figures: Figure[] = [];
  for (const entry of cases(database)) {
    progress(`view: GET ${entry.api}`);
    let bytes = 0;
    const value = await repeat(
      RUNS,
      () =>
        withServer(database.path, async (server) => {
          const started = performance.now();
          const response = await fetch(server.url + entry.api.slice(1));
          bytes = (await response.arrayBuffer()).byteLength;
          if (!response.ok) throw new Error(`GET ${entry.api}: HTTP ${response.status}`);
          return performance.now() - started;
        }),
      1,
    );
    figures.push(
      figure({
        name: `API ${entry.page}: first answer`,
        unit: "ms",
        value,
        decimals: 0,
        goal: atMost(500, "≤ 500 ms"),
        note: `GET ${entry.api.replace(/side=[^&]+/g, "side=…")}, ${(bytes / 1024).toFixed(0)} KiB of JSON, fresh server (no response cache) each run`,
      }),
    );
  }
  return figures;
}

async function browserFigures(database: ViewBenchDatabase, chromium: string): Promise<Figure[]> {
  const figure = figuresFor("view");
  const figures: Figure[] = [];
  const page = await openPage(chromium, "about:blank");
  try {
    for (const entry of cases(database)) {
      progress(`view: page ${entry.path}`);
      const value = await repeat(
        RUNS,
        () =>
          withServer(database.path, async (server) => {
            const started = performance.now();
            await page.goto(server.url + entry.path.slice(1));
            await page.waitFor(`document.body.dataset.ready === "1"`, 60_000);
            return performance.now() - started;
          }),
        1,
      );
      figures.push(
        figure({
          name: `page ${entry.page}: load to rendered`,
          unit: "ms",
          value,
          decimals: 0,
          goal: atMost(1000, "≤ 1 s"),
          note: `headless Chromium, ${entry.path.replace(/side=[^&]+/g, "side=…")}, fresh server each run`,
        }),
      );
    }
    const train = database.trainRuns[0] ?? "";
    progress("view: live delay (a step written by another connection → drawn on the open training page)");
    const live = await withServer(database.path, async (server) => {
      await page.goto(`${server.url}run/${train}/training`);
      await page.waitFor(`document.body.dataset.ready === "1"`, 60_000);
      const writer = openStore(database.path);
      const runId = findRun(writer, train)?.id ?? -1;
      try {
        return await repeat(3, async (run) => {
          const step = STEPS + 1 + run;
          const before = await page.evaluate<number>(`document.querySelectorAll('[data-chart="reward"] rect.step-target').length`);
          const started = performance.now();
          recordRollouts(writer, runId, step, [database.sampleRollout]);
          recordTrainingStep(writer, runId, { step, status: "completed", meanReward: database.sampleRollout.score.reward });
          await page.waitFor(`document.querySelectorAll('[data-chart="reward"] rect.step-target').length > ${before}`, 30_000);
          return performance.now() - started;
        });
      } finally {
        writer.close();
      }
    });
    figures.push(
      figure({
        name: "live update: step committed → drawn on the open page",
        unit: "ms",
        value: live,
        decimals: 0,
        goal: atMost(2000, "≤ 2 s"),
        note: "server checks data_version every 500 ms, then the page re-fetches its JSON and redraws",
      }),
    );
  } finally {
    await page.close();
  }
  return figures;
}

export async function runViewSuite(): Promise<Figure[]> {
  const directory = temporaryDirectory("view");
  try {
    const database = await buildViewBenchDatabase(join(directory, "view.db"));
    const figures = await apiFigures(database);
    const chromium = findChromium();
    if (chromium) figures.push(...(await browserFigures(database, chromium)));
    else progress("view: no chromium at /usr/bin/chromium: page load figures skipped (apt-get install -y chromium)");
    return figures;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
