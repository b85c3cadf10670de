/**
 * Trainer metrics (README "Trainer metrics"): --report-to goes to Arbor's trainer; on the Arbor
 * machine the trainer's log_history (trainer_state.json in the job's checkpoint folders) is stored
 * per step and shown by report and musique view; elsewhere the log, the report and the view say
 * why there are none and how to get them.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeArbor, type FakeArbor, type FakeArborOptions } from "../fakes/arbor.ts";
import { runCli } from "../helpers/cli.ts";
import { rows, spreadResponder, trainArgs } from "../helpers/train.ts";
import type { RunReport } from "../../src/report/data.ts";
import { openReadOnly } from "../../src/store/database.ts";
import { trainingPayload } from "../../src/view/data/training.ts";

const servers: FakeArbor[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

interface Trained {
  arbor: FakeArbor;
  database: string;
  stdout: string;
  stderr: string;
}

async function train(options: FakeArborOptions, extra: string[] = []): Promise<Trained> {
  const arbor = startFakeArbor({ responder: spreadResponder(), ...options });
  servers.push(arbor);
  const directory = mkdtempSync(join(tmpdir(), "musique-trainer-log-"));
  const database = join(directory, "m.db");
  const result = await runCli(trainArgs({ arborUrl: arbor.baseUrl, database, outputDir: join(directory, "outputs"), run: "t", extra }));
  expect(result.exitCode).toBe(0);
  return { arbor, database, stdout: result.stdout, stderr: result.stderr };
}

async function report(database: string): Promise<{ json: RunReport; text: string }> {
  const json = JSON.parse((await runCli(["report", "t", "--db", database, "--json"])).stdout) as RunReport;
  const text = (await runCli(["report", "t", "--db", database])).stdout;
  return { json, text };
}

describe("musique train: the trainer's own metrics", () => {
  test("--report-to wandb is passed to Arbor's trainer with logging every optimizer step (the fake, like Arbor, refuses unknown keys)", async () => {
    const { arbor } = await train({}, ["--report-to", "wandb", "--num-train-steps", "1"]);
    const body = arbor.requestsTo("initialize")[0]?.body as { trainer_config: Record<string, unknown> };
    expect(body.trainer_config).toMatchObject({ report_to: "wandb", logging_steps: 1 });
  });

  test("on the Arbor machine: every optimizer step's loss, KL, grad norm and learning rate is stored under the step whose group it trained, and report and view show them", async () => {
    const storagePath = mkdtempSync(join(tmpdir(), "musique-arbor-storage-"));
    const { database, stderr } = await train({ storagePath, writeCheckpoints: true });
    expect(stderr).not.toContain("[warn]");
    const logged = rows<{ global_step: number; step: number; loss: number; kl: number; grad_norm: number; learning_rate: number }>(
      database,
      "SELECT global_step, step, loss, kl, grad_norm, learning_rate FROM trainer_logs ORDER BY global_step",
    );
    const groups = rows<{ batch_id: number; step: number }>(database, "SELECT batch_id, step FROM groups ORDER BY batch_id");
    // One log entry per optimizer step (one group each), under the step that posted batch global_step − 1.
    expect(logged.map((row) => [row.global_step - 1, row.step])).toEqual(groups.map((group) => [group.batch_id, group.step]));
    expect(logged.every((row) => row.learning_rate === 2e-5 && row.loss > 0 && row.kl > 0 && row.grad_norm > 0)).toBe(true);

    const { json, text } = await report(database);
    const means = rows<{ step: number; loss: number }>(database, "SELECT step, AVG(loss) AS loss FROM trainer_logs GROUP BY step ORDER BY step");
    expect(Object.keys(json.training?.trainerMetrics ?? {}).sort()).toEqual(["grad_norm", "kl", "learning_rate", "loss"]);
    expect(json.training?.trainerMetrics.loss?.map((point) => point.step)).toEqual([1, 2, 3]);
    json.training?.trainerMetrics.loss?.forEach((point, index) => expect(point.value).toBeCloseTo(means[index]?.loss ?? Number.NaN, 12));
    expect(text).toMatch(
      /trainer metrics, last logged: loss [\d.e-]+ \(step 3\), kl [\d.e-]+ \(step 3\), grad_norm [\d.e-]+ \(step 3\), learning_rate 2\.00e-5 \(step 3\)/,
    );

    const store = openReadOnly(database);
    try {
      const payload = trainingPayload(store, "t");
      expect(payload.trainer.recorded).toBe(true);
      if (payload.trainer.recorded) expect(payload.trainer.series.grad_norm?.map((point) => point.step)).toEqual([1, 2, 3]);
    } finally {
      store.close();
    }
  });

  test("on another machine: the log (once per job), the report and the view say the trainer's log is on the Arbor machine and how to get the metrics", async () => {
    const { arbor, database, stderr } = await train({});
    const job = [...arbor.jobs.values()][0]?.id ?? "?";
    const why =
      `the trainer's log /home/fake/.arbor/storage/${job}/checkpoints/checkpoint_final/trainer_state.json is on the Arbor machine, which this machine (${hostname()}) cannot read: ` +
      "run musique train on the node where Arbor runs (or where its storage_path is mounted at the same path), or pass --report-to wandb|tensorboard";
    // The baseline's "best" checkpoint was read first, from a folder that is just as far away.
    expect(stderr.match(/trainer metrics \(loss, KL, grad norm, learning rate\) of job .* not recorded/g)?.length).toBe(1);
    expect(stderr).toContain(
      `of job ${job} not recorded: the trainer's log /home/fake/.arbor/storage/${job}/checkpoints/best/trainer_state.json is on the Arbor machine`,
    );
    expect(rows(database, "SELECT COUNT(*) AS n FROM trainer_logs")).toEqual([{ n: 0 }]);
    const { json, text } = await report(database);
    expect(json.training?.trainerMetrics).toEqual({});
    expect(json.training?.trainerMetricsReason).toContain(why);
    expect(text).toContain(`trainer loss / KL / grad norm / learning rate: not recorded: ${why}`);
    const store = openReadOnly(database);
    try {
      const payload = trainingPayload(store, "t");
      expect(payload.trainer.recorded).toBe(false);
      if (!payload.trainer.recorded) expect(payload.trainer.reason).toContain(why);
    } finally {
      store.close();
    }
  });
});
