/**
 * musique view's pages in a real headless Chromium (Debian's `chromium`, driven over the DevTools
 * protocol by test/report/browser.ts) against `musique view` (the compiled binary when MUSIQUE_BIN
 * is set): the runs page, a training page that updates while a dry run writes, the group
 * inspector, the compare page (counts equal `compare --json`), a run page, the runs page's tag
 * filter as `view --tag` opens it; no console errors and
 * no request outside the server. Screenshots go to docs/view/ when MUSIQUE_VIEW_SCREENSHOTS=1
 * (to regenerate the ones kept in the repository), otherwise to the test's temporary folder.
 * Skipped, with a message, when chromium is not installed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Comparison } from "../../src/report/compare.ts";
import type { GroupPayload, RunsPayload } from "../../src/view/types.ts";
import { ROOT, runCli } from "../helpers/cli.ts";
import { findChromium, openPage, type BrowserPage } from "../report/browser.ts";
import { buildViewDatabase, startGatedDryRun, startView, type RunningView, type ViewDatabase } from "./fixtures.ts";

const chromium = findChromium();
if (!chromium) {
  console.warn("SKIP test/view/browser.test.ts: no chromium at /usr/bin/chromium or /usr/bin/chromium-browser (apt-get install -y chromium)");
}

let fixture: ViewDatabase;
let view: RunningView;
let page: BrowserPage;
let shots: string;

async function open(path: string): Promise<void> {
  await page.goto(view.url + path.replace(/^\//, ""));
  await page.waitFor(`document.body.dataset.ready === "1"`);
}

async function screenshot(name: string, selector?: string): Promise<void> {
  const path = join(shots, `${name}.png`);
  if (selector) {
    const box = await page.evaluate<{ x: number; y: number; width: number; height: number }>(
      `(() => { const r = document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect(); return { x: 0, y: r.top + scrollY, width: 1280, height: Math.min(r.height, 900) }; })()`,
    );
    await page.screenshot(path, box);
  } else await page.screenshot(path, { x: 0, y: 0, width: 1280, height: 900 });
  expect(statSync(path).size).toBeGreaterThan(5_000);
}

describe.skipIf(!chromium)("musique view in headless Chromium", () => {
  beforeAll(async () => {
    fixture = await buildViewDatabase();
    view = await startView(fixture.database);
    shots = process.env.MUSIQUE_VIEW_SCREENSHOTS === "1" ? join(ROOT, "docs", "view") : join(fixture.directory, "screenshots");
    mkdirSync(shots, { recursive: true });
    page = await openPage(chromium ?? "", `${view.url}`);
    await page.waitFor(`document.body.dataset.ready === "1"`);
  }, 180_000);

  afterAll(async () => {
    await page?.close();
    await view?.stop();
  });

  test("a dry run's training page draws new steps as the run writes them, without a reload", async () => {
    const dry = await startGatedDryRun(fixture, "live-dry", 3);
    try {
      for (let tries = 0; ; tries++) {
        const runs = (await (await fetch(`${view.url}api/runs`)).json()) as RunsPayload;
        if (runs.runs.some((run) => run.name === "live-dry")) break;
        if (tries > 300) throw new Error("the dry run never appeared in the database");
        await Bun.sleep(100);
      }
      await open("/run/live-dry/training");
      const before = await page.evaluate<{ targets: number; note: boolean }>(
        `({ targets: document.querySelectorAll('[data-chart="reward"] rect.step-target').length, note: Boolean(document.getElementById("reward-empty")) })`,
      );
      expect(before).toEqual({ targets: 0, note: true });
      await page.evaluate(`window.notReloaded = true`);
      dry.release();
      await page.waitFor(`document.querySelectorAll('[data-chart="reward"] rect.step-target').length === 3`, 60_000);
      expect(await page.evaluate<boolean>(`window.notReloaded === true`)).toBe(true);
      const result = await dry.finished;
      expect(result.exitCode).toBe(0);
      await page.waitFor(`document.querySelector("#training-header .status-completed") !== null`, 30_000);
      expect(await page.evaluate<number>(`document.querySelectorAll("#steps-body tr.step-row").length`)).toBe(3);
      expect(await page.evaluate<boolean>(`window.notReloaded === true`)).toBe(true);
      expect(await page.evaluate<string>(`document.getElementById("trainer-metrics").textContent`)).toContain("a dry run trains nothing");
    } finally {
      dry.release();
      await dry.finished;
    }
  }, 120_000);

  test("the runs page lists the evaluations (with their tags), the training run and the dry run; the filter narrows it", async () => {
    await open("/");
    const listed = await page.evaluate<Array<[string, string, string]>>(
      `[...document.querySelectorAll("#runs-body tr")].map((row) => [row.dataset.run, row.dataset.kind, row.dataset.status])`,
    );
    expect(listed.sort()).toEqual([
      ["base", "evaluate", "completed"],
      ["better", "evaluate", "completed"],
      ["live-dry", "dry run", "completed"],
      ["trained", "train", "completed"],
    ]);
    expect(await page.evaluate<string[]>(`[...document.querySelectorAll('#runs-body tr[data-run="base"] .tag')].map((tag) => tag.textContent)`)).toEqual([
      "baseline",
    ]);
    await screenshot("runs");
    const filtered = await page.evaluate<string[]>(`(() => {
      const input = document.getElementById("runs-filter");
      input.value = "dry";
      input.dispatchEvent(new Event("input", { bubbles: true }));
      return [...document.querySelectorAll("#runs-body tr")].map((row) => row.dataset.run);
    })()`);
    expect(filtered).toEqual(["live-dry"]);
  });

  test("musique view --tag baseline opens the runs page showing only the runs carrying the tag; 'any tag' shows every run again", async () => {
    const tagged = await startView(fixture.database, ["--tag", "baseline"]);
    await tagged.stop();
    expect(tagged.printed).toBe(`${tagged.url}?tag=baseline`);
    // The same page on this test's server (every request the pages make must go to one server).
    await open("/?tag=baseline");
    const listed = () => page.evaluate<string[]>(`[...document.querySelectorAll("#runs-body tr")].map((row) => row.dataset.run).sort()`);
    expect(await listed()).toEqual(["base"]);
    expect(await page.evaluate<string>(`document.getElementById("runs-tag").value`)).toBe("baseline");
    const choose = (value: string) =>
      page.evaluate(
        `(() => { const tag = document.getElementById("runs-tag"); tag.value = ${JSON.stringify(value)}; tag.dispatchEvent(new Event("input", { bubbles: true })); })()`,
      );
    await choose("");
    expect(await listed()).toEqual(["base", "better", "live-dry", "trained"]);
    expect(await page.evaluate<string>(`location.search`)).toBe("");
    await choose("baseline");
    expect(await listed()).toEqual(["base"]);
    expect(await page.evaluate<string>(`location.search`)).toBe("?tag=baseline");
  });

  test("the group inspector: clicking a step on the reward chart shows its groups, and a group's rollouts with rewards and advantages", async () => {
    await open("/run/trained/training");
    await page.evaluate(
      `document.querySelector('[data-chart="reward"] rect.step-target[data-step="1"]').dispatchEvent(new MouseEvent("click", { bubbles: true }))`,
    );
    await page.waitFor(`(document.getElementById("inspector-title")?.textContent ?? "").includes("Rollouts of step 1")`);
    expect(await page.evaluate<string>(`location.search`)).toBe("?step=1");
    const groupId = await page.evaluate<string>(`document.querySelector("#inspector tr.group").dataset.group`);
    await page.evaluate(`document.querySelector('button.show-samples[data-group="${groupId}"]').click()`);
    await page.waitFor(`document.querySelectorAll('tr.samples-row[data-group="${groupId}"] tr.sample').length > 0`);
    const shown = await page.evaluate<Array<{ reward: string; advantage: string; completion: string }>>(
      `[...document.querySelectorAll('tr.samples-row[data-group="${groupId}"] tr.sample')].map((row) => ({
        reward: row.querySelector(".sample-reward").textContent, advantage: row.querySelector(".sample-advantage").textContent,
        completion: row.querySelector("pre.completion").textContent }))`,
    );
    const group = (await (await fetch(`${view.url}api/runs/trained/groups/${groupId}`)).json()) as GroupPayload;
    expect(shown.map((row) => row.reward)).toEqual(group.samples.map((sample) => sample.reward.toFixed(3)));
    expect(shown.map((row) => row.advantage)).toEqual(group.samples.map((sample) => sample.advantage.toFixed(3)));
    expect(shown.every((row) => row.completion.includes("[[ ## completed ## ]]"))).toBe(true);
    expect(group.samples).toHaveLength(8);
    await page.evaluate(`document.querySelector("#inspector details.trajectory").open = true`);
    await page.waitFor(`document.querySelector("#inspector details.trajectory .hops .hop") !== null`);
    expect(await page.evaluate<string>(`document.querySelector("#inspector details.trajectory .hops .hop b").textContent`)).toBe("hop 1");
    await screenshot("training");
    await screenshot("inspector", "#inspector");
  });

  test("the compare page lists fixed and broken examples per hop count in the numbers of compare --json, with trajectories side by side", async () => {
    await open("/compare?side=base&side=better");
    await page.waitFor(`document.querySelector("section.flips") !== null`);
    const cli = await runCli(["compare", "base", "better", "--db", fixture.database, "--json"]);
    const expected = (JSON.parse(cli.stdout) as Comparison).flips[0];
    const shown = await page.evaluate<Record<string, { fixed: number; broken: number; fixedItems: number; brokenItems: number }>>(`(() => {
      const out = {};
      for (const section of document.querySelectorAll("section.flip-hops")) {
        const hops = section.dataset.hops;
        const count = (kind) => Number(section.querySelector('span.count[data-kind="' + kind + '"]').textContent);
        out[hops] = { fixed: count("fixed"), broken: count("broken"),
          fixedItems: section.querySelectorAll('details.flip[data-kind="fixed"]').length, brokenItems: section.querySelectorAll('details.flip[data-kind="broken"]').length };
      }
      return out;
    })()`);
    const wanted = Object.fromEntries(
      Object.entries(expected?.byHops ?? {}).map(([hops, lists]) => [
        hops,
        { fixed: lists.fixed.length, broken: lists.broken.length, fixedItems: lists.fixed.length, brokenItems: lists.broken.length },
      ]),
    );
    expect(shown).toEqual(wanted);
    expect(expected?.overall.fixed).toBeGreaterThan(0);
    const sideBySide = await page.evaluate<{ columns: string[]; hops: number }>(`(() => {
      const flip = document.querySelector('details.flip[data-kind="fixed"]');
      flip.open = true;
      return { columns: [...flip.querySelectorAll("table.side-by-side thead th")].map((th) => th.textContent), hops: flip.querySelectorAll("tr.hop-row").length };
    })()`);
    expect(sideBySide.columns).toEqual(["", "base", "better"]);
    expect(sideBySide.hops).toBeGreaterThan(0);
    await screenshot("compare");
  });

  test("a run's page shows what report --html shows: scores, per-hop charts and the worst examples with a working filter", async () => {
    await open("/run/better");
    const state = await page.evaluate<{ bars: number; scores: boolean; examples: number }>(
      `({ bars: document.querySelectorAll("svg.bar-chart rect.bar").length, scores: document.querySelector("table.scores") !== null, examples: document.querySelectorAll("tbody.example").length })`,
    );
    expect(state.scores).toBe(true);
    expect(state.bars).toBeGreaterThan(0);
    expect(state.examples).toBeGreaterThan(0);
    const id = await page.evaluate<string>(`document.querySelector("tbody.example").dataset.id`);
    const label = await page.evaluate<string>(`(() => {
      const input = document.getElementById("filter-text");
      input.value = ${JSON.stringify(id)};
      input.dispatchEvent(new Event("input", { bubbles: true }));
      return document.getElementById("filter-count").textContent;
    })()`);
    expect(label).toBe(`1 of ${state.examples} examples shown`);
    await screenshot("run");
  });

  test("no console errors on any page, and every request the pages made went to the view server", async () => {
    const origin = new URL(view.url).origin;
    expect(page.requests.length).toBeGreaterThan(10);
    expect(page.requests.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    expect(page.errors).toEqual([]);
  });
});
