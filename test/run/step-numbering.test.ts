/**
 * One numbering in every output (README "Steps and hops"; issue 17 item 5): of one training run,
 * the log (train.log and stderr), `report --json` and the terminal report, the files in its
 * output folder, `runs --json` and the database name the same steps — step N is the N-th step
 * (1, 2, 3), a validation sits at the steps completed (0 = before training) — and the same hops
 * (1-based on screen, 0-based in the database). A dry run's groups.jsonl agrees with its log and
 * database too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeArbor, type FakeArbor } from "../fakes/arbor.ts";
import { startFakeOpenAI } from "../fakes/openai.ts";
import { runCli } from "../helpers/cli.ts";
import { rows, spreadResponder, trainArgs } from "../helpers/train.ts";
import type { RunReport } from "../../src/report/data.ts";

interface Run {
  database: string;
  folder: string;
  stderr: string;
}

let arbor: FakeArbor;
let trained: Run;

/** The first column of a query's rows. */
function column<T = number>(database: string, sql: string): T[] {
  return rows<Record<string, T>>(database, sql).map((row) => Object.values(row)[0] as T);
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/** The numbers of the log lines matching `pattern` (its first group). */
function logged(text: string, pattern: RegExp): number[] {
  return [...text.matchAll(pattern)].map((match) => Number(match[1]));
}

beforeAll(async () => {
  const storagePath = mkdtempSync(join(tmpdir(), "musique-numbering-storage-"));
  arbor = startFakeArbor({ responder: spreadResponder(), storagePath, writeCheckpoints: true });
  const directory = mkdtempSync(join(tmpdir(), "musique-numbering-"));
  const database = join(directory, "m.db");
  // 3 steps, validations before training, after step 2 and after step 3.
  const result = await runCli(
    trainArgs({ arborUrl: arbor.baseUrl, database, outputDir: join(directory, "outputs"), run: "numbered", extra: ["--checkpoint", "improvements"] }),
  );
  expect(result.exitCode).toBe(0);
  trained = { database, folder: join(directory, "outputs", "numbered"), stderr: result.stderr };
}, 60_000);

afterAll(async () => {
  await arbor.stop();
});

describe("one step numbering in every output of a training run", () => {
  test("training steps are 1, 2, 3 in the log, train.log, the database, report --json and the trainer's metrics", async () => {
    const { database, folder, stderr } = trained;
    const stepsInDatabase = column(database, "SELECT step FROM training_steps ORDER BY step");
    expect(stepsInDatabase).toEqual([1, 2, 3]);
    expect(column(database, "SELECT DISTINCT step FROM rollouts ORDER BY step")).toEqual(stepsInDatabase);
    expect(column(database, "SELECT DISTINCT step FROM groups ORDER BY step")).toEqual(stepsInDatabase);
    expect(column(database, "SELECT DISTINCT step FROM module_calls WHERE rollout_index >= 0 ORDER BY step")).toEqual(stepsInDatabase);
    expect(column(database, "SELECT DISTINCT step FROM trainer_logs ORDER BY step")).toEqual(stepsInDatabase);
    const trainLog = readFileSync(join(folder, "train.log"), "utf8");
    expect(logged(stderr, /step: (\d+)\/3 /g)).toEqual(stepsInDatabase);
    expect(logged(trainLog, /step: (\d+)\/3 /g)).toEqual(stepsInDatabase);

    const report = JSON.parse((await runCli(["report", "numbered", "--db", database, "--json"])).stdout) as RunReport;
    expect(report.training?.rewardCurve.map((point) => point.step)).toEqual(stepsInDatabase);
    expect(report.training?.health.steps.map((step) => step.step)).toEqual(stepsInDatabase);
    for (const points of Object.values(report.training?.trainerMetrics ?? {})) expect(points.map((point) => point.step)).toEqual(stepsInDatabase);
    expect(report.training?.times?.steps.map((step) => step.step)).toEqual(stepsInDatabase);
    const terminal = (await runCli(["report", "numbered", "--db", database])).stdout;
    expect(terminal).toContain("last step 3:");
    expect(terminal).toContain("time over 3 steps: rollouts ");
  });

  test("validations are 0 (before training), 2 and 3 (after those steps) in the log, the database, the files, report and runs; step N and the validation after it share N", async () => {
    const { database, folder, stderr } = trained;
    const validations = column(database, "SELECT step FROM validations ORDER BY step");
    expect(validations).toEqual([0, 2, 3]);
    expect(column(database, "SELECT DISTINCT step FROM predictions ORDER BY step")).toEqual(validations);
    expect(logged(stderr, /validation after (\d+) steps?:/g)).toEqual(validations);
    // The step line shows the latest validation, which ran right after that same step.
    expect(stderr).toMatch(/step: 2\/3 .*\| validation [\d.]+ \(after 2 steps\)/);
    expect(readJson<Array<{ step: number }>>(join(folder, "validations.json")).map((row) => row.step)).toEqual(validations);
    expect(readJson<{ step: number }>(join(folder, "scores.json")).step).toBe(3);
    // Checkpoints: step_N after the validation after N steps; checkpoint_final after the last step.
    const checkpoints = readJson<Array<{ name: string; step: number }>>(join(folder, "checkpoints.json"));
    expect(checkpoints.map((checkpoint) => checkpoint.step)).toEqual(column(database, "SELECT step FROM checkpoints ORDER BY step, created_at, id"));
    for (const checkpoint of checkpoints) {
      if (checkpoint.name.startsWith("step_")) expect(checkpoint.name).toBe(`step_${checkpoint.step}`);
    }
    expect(checkpoints.find((checkpoint) => checkpoint.name === "checkpoint_final")?.step).toBe(3);

    const report = JSON.parse((await runCli(["report", "numbered", "--db", database, "--json"])).stdout) as RunReport;
    expect(report.step).toBe(3);
    expect(report.training?.validations.map((row) => row.step)).toEqual(validations);
    const runs = JSON.parse((await runCli(["runs", "--db", database, "--json"])).stdout) as Array<{
      name: string;
      step: number;
      stepsCompleted: number;
      plannedSteps: number;
    }>;
    expect(runs.find((run) => run.name === "numbered")).toMatchObject({ step: 3, stepsCompleted: 3, plannedSteps: 3 });
    // README query 5 reads naturally: each step with the validation that followed it.
    const paired = column<number | null>(
      database,
      "SELECT v.step FROM training_steps s LEFT JOIN validations v ON v.run_id = s.run_id AND v.step = s.step ORDER BY s.step",
    );
    expect(paired).toEqual([null, 2, 3]);
  });

  test("hops are 1-based in the report and its page, 0-based in the database: the same hops", async () => {
    const { database } = trained;
    const stored = column(database, "SELECT DISTINCT hop FROM module_calls WHERE module = 'extract_information' ORDER BY hop");
    expect(stored).toEqual([0, 1]);
    const report = JSON.parse((await runCli(["report", "numbered", "--db", database, "--json"])).stdout) as RunReport;
    expect(report.recallAtHop.hops).toEqual(stored.map((hop) => hop + 1));
    const page = join(trained.folder, "report.html");
    expect((await runCli(["report", "numbered", "--db", database, "--html", page])).exitCode).toBe(0);
    const labels = [...new Set([...readFileSync(page, "utf8").matchAll(/<b>hop (\d+)<\/b>/g)].map((match) => Number(match[1])))].sort();
    expect(labels).toEqual([1, 2]);
  });

  test("a dry run's groups.jsonl, log and database name the same steps, 1 and 2", async () => {
    const lm = await startFakeOpenAI({ responder: spreadResponder() });
    try {
      const directory = mkdtempSync(join(tmpdir(), "musique-numbering-dry-"));
      const database = join(directory, "m.db");
      const result = await runCli(
        trainArgs({
          arborUrl: "http://127.0.0.1:9/v1/",
          database,
          outputDir: join(directory, "outputs"),
          run: "dry",
          extra: ["--dry-run", "--dry-run-steps", "2", "--base-url", lm.baseUrl],
        }),
      );
      expect(result.exitCode).toBe(0);
      const lines = readFileSync(join(directory, "outputs", "dry", "groups.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { step: number });
      expect([...new Set(lines.map((line) => line.step))]).toEqual([1, 2]);
      expect(column(database, "SELECT step FROM training_steps ORDER BY step")).toEqual([1, 2]);
      expect(logged(result.stderr, /step: (\d+)\/2 /g)).toEqual([1, 2]);
      const report = JSON.parse((await runCli(["report", "dry", "--db", database, "--json"])).stdout) as RunReport;
      expect(report.dryRun?.map((step) => step.step)).toEqual([1, 2]);
    } finally {
      await lm.stop();
    }
  });
});
