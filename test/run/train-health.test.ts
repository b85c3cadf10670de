/**
 * Training health in the terminal (README "Training health"): the step line's within-group
 * spread and zero-spread groups, the summary at the end of a dry run (rewards, zero-spread
 * groups, format failures, JSON fallback) with its loud warning when most groups carry no
 * signal, and groups.jsonl with each group's rewards and advantages.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dspyResponder, isJsonRequest, startFakeOpenAI, type FakeResponder } from "../fakes/openai.ts";
import { runCli } from "../helpers/cli.ts";
import { rows, spreadResponder, trainArgs } from "../helpers/train.ts";

const servers: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

interface DryRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  database: string;
  groupsFile: string;
}

async function dryRun(responder: FakeResponder, extra: string[] = []): Promise<DryRun> {
  const lm = await startFakeOpenAI({ responder });
  servers.push(lm);
  const directory = mkdtempSync(join(tmpdir(), "musique-health-"));
  const database = join(directory, "m.db");
  const outputDir = join(directory, "outputs");
  const args = trainArgs({
    arborUrl: "http://127.0.0.1:9/v1/",
    database,
    outputDir,
    run: "dry",
    extra: ["--dry-run", "--dry-run-steps", "2", "--base-url", lm.baseUrl, ...extra],
  });
  const result = await runCli(args);
  return { ...result, database, groupsFile: join(outputDir, "dry", "groups.jsonl") };
}

function groupRewards(database: string, step: number): number[][] {
  return rows<{ rewards_json: string }>(database, `SELECT rewards_json FROM groups WHERE step = ${step}`).map(
    (row) => JSON.parse(row.rewards_json) as number[],
  );
}

function standardDeviation(values: readonly number[]): number {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  return Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1));
}

/** Every third answer first comes back as prose: DSPy's JSONAdapter fallback asks again and rescues it. */
function proseEveryThirdAnswer(): FakeResponder {
  const base = spreadResponder();
  let answers = 0;
  return (request) => {
    const user = request.messages.at(-1)?.content ?? "";
    if (!isJsonRequest(request) && user.includes("[[ ## all_information ## ]]") && !user.includes("has_collected_enough_info")) {
      answers += 1;
      if (answers % 3 === 0) return "I think the answer is somewhere in there.";
    }
    return base(request);
  };
}

describe("musique train --dry-run: training health", () => {
  test("identical rewards in every group: the summary and the log warn loudly that GRPO learns nothing from them", async () => {
    const run = await dryRun(dspyResponder());
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("groups with zero spread (no signal): 16/16 (100 %)");
    expect(run.stdout).toContain(
      "WARNING: 16 of 16 groups (100 %) had the same reward for every rollout: their advantages are 0, so GRPO learns nothing from them",
    );
    expect(run.stderr).toContain("[warn] 16 of 16 groups (100 %) had the same reward for every rollout");
  });

  test("rewards that differ inside the groups: no warning", async () => {
    const run = await dryRun(spreadResponder());
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("groups with zero spread (no signal): 0/16 (0 %)");
    expect(run.stdout).not.toContain("WARNING");
    expect(run.stderr).not.toContain("[warn]");
  });

  test("the step line shows that step's mean spread inside its groups and its zero-spread groups, as the database has them", async () => {
    const run = await dryRun(spreadResponder());
    for (const step of [1, 2]) {
      const groups = groupRewards(run.database, step);
      const spread = groups.reduce((sum, rewards) => sum + standardDeviation(rewards), 0) / groups.length;
      const zero = groups.filter((rewards) => rewards.every((reward) => reward === rewards[0])).length;
      const line = run.stderr.split("\n").find((text) => text.includes(`step: ${step}/2 `)) ?? "";
      expect(line).toContain(`| within-group spread ${spread.toFixed(4)} |`);
      expect(line).toContain(`| zero-spread groups ${zero}/${groups.length} (`);
      expect(line).toContain("| format failures 0/16 |");
    }
  });

  test("the summary counts the calls DSPy's JSON fallback rescued and the format failures, as module_calls records them", async () => {
    const run = await dryRun(proseEveryThirdAnswer(), ["--json"]);
    expect(run.exitCode).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      health: { total: { calls: number; fallbackCalls: number; rescuedCalls: number; formatFailureRollouts: number; rollouts: number } };
    };
    const [counted] = rows<{ calls: number; fellBack: number; rescued: number }>(
      run.database,
      "SELECT COUNT(*) AS calls, SUM(adapter != 'chat') AS fellBack, SUM(adapter != 'chat' AND status = 'ok') AS rescued FROM module_calls WHERE rollout_index >= 0",
    );
    if (!counted) throw new Error("no module calls");
    expect(counted.fellBack).toBeGreaterThan(0);
    expect(counted.rescued).toBe(counted.fellBack);
    expect(summary.health.total).toMatchObject({
      calls: counted.calls,
      fallbackCalls: counted.fellBack,
      rescuedCalls: counted.rescued,
      formatFailureRollouts: 0,
      rollouts: 32,
    });
  });

  test("groups.jsonl holds each group's rewards and advantages (Arbor's formula), in the order of its samples", async () => {
    const run = await dryRun(spreadResponder());
    const lines = readFileSync(run.groupsFile, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { step: number; rewards: number[]; advantages: number[]; batch: Array<{ reward: number }> });
    expect(lines).toHaveLength(16);
    for (const line of lines) {
      expect(line.rewards).toEqual(line.batch.map((sample) => sample.reward));
      const mean = line.rewards.reduce((sum, value) => sum + value, 0) / line.rewards.length;
      const spread = standardDeviation(line.rewards);
      line.advantages.forEach((advantage, index) => expect(advantage).toBeCloseTo(((line.rewards[index] ?? 0) - mean) / (spread + 1e-4), 9));
    }
    const same = await dryRun(dspyResponder());
    const flat = readFileSync(same.groupsFile, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { advantages: number[] });
    expect(flat.every((line) => line.advantages.every((advantage) => advantage === 0))).toBe(true);
  });

  test("report of a dry run shows its rollouts and groups (terminal, --json, --html) instead of empty scores", async () => {
    const run = await dryRun(spreadResponder());
    const terminal = await runCli(["report", "dry", "--db", run.database]);
    expect(terminal.exitCode).toBe(0);
    expect(terminal.stdout).not.toContain("no predictions recorded yet");
    expect(terminal.stdout).toContain("a dry run trains and validates nothing");
    expect(terminal.stdout).toMatch(/step 1:\n  \S+: rewards [-\d. ]+; zero-spread groups 0\/4; answers/);
    expect(terminal.stdout).toContain("groups with zero spread (no signal): 0/16 (0 %)");

    const json = JSON.parse((await runCli(["report", "dry", "--db", run.database, "--json"])).stdout) as {
      dryRun: Array<{ step: number; examples: Array<{ rollouts: unknown[]; groups: Array<{ rewards: number[]; advantages: number[] }>; samples: unknown[] }> }>;
    };
    expect(json.dryRun.map((step) => step.step)).toEqual([1, 2]);
    const groups = readFileSync(run.groupsFile, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { step: number; rewards: number[]; advantages: number[] });
    const sorted = (lists: number[][]) => lists.map((list) => JSON.stringify(list)).sort();
    expect(sorted(json.dryRun.flatMap((step) => step.examples.flatMap((example) => example.groups.map((group) => group.advantages))))).toEqual(
      sorted(groups.map((group) => group.advantages)),
    );
    for (const step of json.dryRun) {
      expect(step.examples.map((example) => example.rollouts.length)).toEqual([8, 8]);
      expect(step.examples[0]?.samples.length).toBe(4);
    }

    const page = join(run.database, "..", "dry.html");
    expect((await runCli(["report", "dry", "--db", run.database, "--html", page])).exitCode).toBe(0);
    const html = readFileSync(page, "utf8");
    expect(html.includes("No predictions recorded yet")).toBe(false);
    expect(html.includes("examples scored")).toBe(false);
    expect(html.includes('<h2 id="rollouts">Rollouts and groups</h2>')).toBe(true);
    expect(html.match(/<h3 id="rollouts-step-\d+">/g)?.length).toBe(2);
    expect(html.includes("as they would be sent to Arbor")).toBe(true);
  });
});
