/**
 * `musique view` as a server (the compiled binary when MUSIQUE_BIN is set): its JSON API against
 * a database written by the real evaluate and train, checked against the database itself and
 * against `musique compare --json`; read-only; refusals. The pages are tested in browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Comparison } from "../../src/report/compare.ts";
import { openReadOnly } from "../../src/store/database.ts";
import { trainingPayload } from "../../src/view/data/training.ts";
import type { GroupPayload, RunsPayload, StatusPayload, StepPayload, TrainingPayload } from "../../src/view/types.ts";
import { runCli } from "../helpers/cli.ts";
import { EVALUATE_LIMIT, buildViewDatabase, startGatedDryRun, startView, type RunningView, type ViewDatabase } from "./fixtures.ts";

let fixture: ViewDatabase;
let view: RunningView;

async function get<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(view.url + path.replace(/^\//, ""), init);
  return { status: response.status, body: (await response.json()) as T };
}

function rows<T>(sql: string, ...parameters: Array<string | number>): T[] {
  const db = new Database(fixture.database, { readonly: true });
  try {
    return db.query(sql).all(...parameters) as T[];
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  fixture = await buildViewDatabase();
  const dry = await startGatedDryRun(fixture, "dry", 2);
  dry.release();
  const result = await dry.finished;
  if (result.exitCode !== 0) throw new Error(`dry run failed:\n${result.stderr}`);
  view = await startView(fixture.database);
}, 180_000);

afterAll(async () => {
  await view?.stop();
});

describe("musique view's JSON API", () => {
  test("the runs list has the evaluations, the training run and the dry run with their kinds and scores", async () => {
    const { status, body } = await get<RunsPayload>("/api/runs");
    expect(status).toBe(200);
    const byName = new Map(body.runs.map((run) => [run.name, run]));
    expect([...byName.keys()].sort()).toEqual(["base", "better", "dry", "trained"]);
    expect(byName.get("dry")?.kind).toBe("dry run");
    expect(byName.get("trained")?.kind).toBe("train");
    expect(byName.get("trained")?.completedSteps).toBe(3);
    expect(byName.get("trained")?.plannedSteps).toBe(3);
    expect(byName.get("base")).toMatchObject({
      kind: "evaluate",
      status: "completed",
      n: EVALUATE_LIMIT,
      dataset: "sample",
      retriever: "lexical",
      tags: ["baseline"],
    });
    expect(byName.get("better")?.tags).toEqual([]);
  });

  test("a training run's health per step: within-group spread and zero-spread groups from the groups table, mean reward from the rollouts", async () => {
    const { body } = await get<TrainingPayload>("/api/runs/trained/training");
    expect(body.steps.map((step) => step.step)).toEqual([1, 2, 3]);
    for (const step of body.steps) {
      const groups = rows<{ rewards_json: string }>(
        "SELECT rewards_json FROM groups WHERE run_id = (SELECT id FROM runs WHERE name = 'trained') AND step = ?",
        step.step,
      ).map((row) => JSON.parse(row.rewards_json) as number[]);
      const spreads = groups.map((rewards) => {
        const mean = rewards.reduce((sum, value) => sum + value, 0) / rewards.length;
        return Math.sqrt(rewards.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (rewards.length - 1));
      });
      expect(step.groups).toBe(groups.length);
      expect(step.zeroSpreadGroups).toBe(groups.filter((rewards) => rewards.every((value) => value === rewards[0])).length);
      expect(step.meanGroupSpread ?? Number.NaN).toBeCloseTo(spreads.reduce((sum, value) => sum + value, 0) / spreads.length, 9);
      const [rollouts] = rows<{ n: number; mean: number }>(
        "SELECT COUNT(*) AS n, AVG(reward) AS mean FROM rollouts WHERE run_id = (SELECT id FROM runs WHERE name = 'trained') AND step = ?",
        step.step,
      );
      expect(step.rollouts).toBe(rollouts?.n ?? -1);
      expect(step.meanReward ?? Number.NaN).toBeCloseTo(rollouts?.mean ?? Number.NaN, 9);
    }
    expect(body.steps.some((step) => (step.meanGroupSpread ?? 0) > 0)).toBe(true);
    expect(body.validations.map((row) => row.step)).toEqual([0, 2, 3]);
    expect(Object.keys(body.steps[0]?.rewardByModule ?? {}).sort()).toEqual(body.modules);
  });

  test("trainer metrics that were not recorded say why: the trainer's log is on the Arbor machine, or a dry run trains nothing", async () => {
    const trained = await get<TrainingPayload>("/api/runs/trained/training");
    expect(trained.body.trainer).toMatchObject({ recorded: false });
    expect(JSON.stringify(trained.body.trainer)).toContain("is on the Arbor machine, which this machine");
    const dry = await get<TrainingPayload>("/api/runs/dry/training");
    expect(JSON.stringify(dry.body.trainer)).toContain("a dry run trains nothing");
    expect(dry.body.run.kind).toBe("dry run");
    expect(dry.body.steps).toHaveLength(2);
  });

  test("without an adapter column the JSONAdapter fallback is 'not recorded'; with one, its calls and rescues are counted per step", async () => {
    const plain = await get<TrainingPayload>("/api/runs/trained/training");
    const columns = rows<{ name: string }>("SELECT name FROM pragma_table_info('module_calls')").map((row) => row.name);
    if (!columns.includes("adapter")) {
      expect(plain.body.fallback).toMatchObject({ recorded: false });
      expect(JSON.stringify(plain.body.fallback)).toContain("no adapter column");
    }
    // A copy in the shape of a database written with the fallback (the column added where this schema lacks it).
    const copy = join(fixture.directory, "fallback.db");
    copyFileSync(fixture.database, copy);
    const db = new Database(copy);
    if (!columns.includes("adapter")) db.run("ALTER TABLE module_calls ADD COLUMN adapter TEXT NOT NULL DEFAULT 'chat'");
    db.run(`UPDATE module_calls SET adapter = 'json' WHERE id IN (SELECT id FROM module_calls WHERE step = 2 AND rollout_index >= 0
      AND run_id = (SELECT id FROM runs WHERE name = 'trained') ORDER BY id LIMIT 3)`);
    db.run(`UPDATE module_calls SET status = 'parse_error' WHERE id = (SELECT id FROM module_calls WHERE adapter = 'json' ORDER BY id LIMIT 1)`);
    db.close();
    const store = openReadOnly(copy);
    try {
      const payload = trainingPayload(store, "trained");
      expect(payload.fallback).toEqual({ recorded: true });
      expect(payload.steps.map((step) => [step.completion?.fallbackCalls, step.completion?.rescuedCalls])).toEqual([
        [0, 0],
        [3, 2],
        [0, 0],
      ]);
    } finally {
      store.close();
    }
  });

  test("a step's groups carry the advantages stored in the database and its examples' rollouts", async () => {
    const { body } = await get<StepPayload>("/api/runs/trained/steps/1");
    const stored = rows<{ id: number; advantages_json: string }>(
      "SELECT id, advantages_json FROM groups WHERE run_id = (SELECT id FROM runs WHERE name = 'trained') AND step = 1",
    );
    const groups = body.examples.flatMap((example) => example.groups);
    expect(groups.map((group) => group.id).sort((a, b) => a - b)).toEqual(stored.map((row) => row.id).sort((a, b) => a - b));
    for (const group of groups) {
      expect(group.advantages).toEqual(JSON.parse(stored.find((row) => row.id === group.id)?.advantages_json ?? "null") as number[]);
      expect(group.advantagesComputed).toBe(false);
    }
    expect(body.examples).toHaveLength(2);
    for (const example of body.examples) {
      expect(example.rollouts).toHaveLength(8);
      expect(example.question.length).toBeGreaterThan(10);
    }
  });

  test("a group's samples are the prompts and completions sent to Arbor, with each sample's reward and advantage", async () => {
    const [first] = rows<{ id: number; rewards_json: string; advantages_json: string }>(
      "SELECT id, rewards_json, advantages_json FROM groups WHERE run_id = (SELECT id FROM runs WHERE name = 'trained') ORDER BY id LIMIT 1",
    );
    const { body } = await get<GroupPayload>(`/api/runs/trained/groups/${first?.id ?? 0}`);
    expect(body.samples.map((sample) => sample.reward)).toEqual(JSON.parse(first?.rewards_json ?? "[]") as number[]);
    expect(body.samples.map((sample) => sample.advantage)).toEqual(JSON.parse(first?.advantages_json ?? "[]") as number[]);
    for (const sample of body.samples) {
      expect(sample.messages.map((message) => message.role)).toEqual(["system", "user"]);
      expect(sample.completion).toContain("[[ ## completed ## ]]");
    }
  });

  test("the compare API gives the same flips and intervals as musique compare --json", async () => {
    const { body } = await get<{ comparison: Comparison }>("/api/compare?side=base&side=better");
    const cli = await runCli(["compare", "base", "better", "--db", fixture.database, "--json"]);
    expect(cli.exitCode).toBe(0);
    const expected = JSON.parse(cli.stdout) as Comparison;
    expect(body.comparison).toEqual(expected);
    expect(expected.flips[0]?.overall.fixed).toBeGreaterThan(0);
  });

  test("an unknown run is a 404 with the error and its fix; a write method is refused", async () => {
    const missing = await get<{ error: string; fix: string }>("/api/runs/nope/training");
    expect(missing.status).toBe(404);
    expect(missing.body.error).toContain('no run named "nope"');
    expect(missing.body.fix).toContain("musique runs");
    const post = await get<{ error: string }>("/api/runs", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.body.error).toContain("read-only");
  });

  test("a request naming another host is refused (no reading the results through DNS rebinding)", async () => {
    const response = await fetch(`${view.url}api/runs`, { headers: { host: "attacker.example:80" } });
    expect(response.status).toBe(403);
  });

  test("browsing every API leaves the database file byte for byte unchanged", async () => {
    const before = createHash("sha256").update(readFileSync(fixture.database)).digest("hex");
    for (const path of [
      "/api/runs",
      "/api/runs/base",
      "/api/runs/trained",
      "/api/runs/trained/training",
      "/api/runs/trained/steps/1",
      "/api/compare?side=trained@0&side=trained@best",
    ]) {
      expect((await get<unknown>(path)).status).toBe(200);
    }
    expect(createHash("sha256").update(readFileSync(fixture.database)).digest("hex")).toBe(before);
    const status = await get<StatusPayload>("/api/status");
    expect(status.body.database).toBe(fixture.database);
  });
});

describe("musique view's page", () => {
  test("every script and stylesheet of the page is served by musique view itself (started in an empty folder)", async () => {
    const html = await (await fetch(view.url)).text();
    const assets = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*\shref)="([^"]+)"/g)]
      .map((match) => match[1] ?? "")
      .filter((url) => !url.startsWith("data:"));
    expect(assets.length).toBeGreaterThanOrEqual(2);
    const types: string[] = [];
    for (const asset of assets) {
      expect(asset.startsWith("/")).toBe(true);
      const response = await fetch(new URL(asset, view.url));
      expect(response.status).toBe(200);
      types.push((response.headers.get("content-type") ?? "").split(";")[0] ?? "");
      await response.arrayBuffer();
    }
    expect(types.sort()).toEqual(["text/css", "text/javascript"]);
    for (const path of ["run/trained/training", "compare"]) expect((await fetch(view.url + path)).status).toBe(200);
  });
});

describe("musique view on the command line", () => {
  test("a missing database is refused with exit code 6 and how to create one", async () => {
    const result = await runCli(["view", "--db", join(fixture.directory, "none.db"), "--port", "0"]);
    expect(result.exitCode).toBe(6);
    expect(result.stderr).toContain("no database at");
  });

  test("a port in use is a usage error naming --port", async () => {
    const port = new URL(view.url).port;
    const result = await runCli(["view", "--db", fixture.database, "--port", port]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("the port is in use");
    expect(result.stderr).toContain("--port");
  });

  test("SIGTERM stops it with exit code 0", async () => {
    const other = await startView(fixture.database);
    expect(await other.stop()).toBe(0);
    expect(await other.stderr()).toContain("SIGTERM: stopping musique view");
  });
});
