import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeArbor, type FakeArbor } from "../fakes/arbor.ts";
import { startFakeOpenAI } from "../fakes/openai.ts";
import { MAIN, ROOT, cleanEnv, compiledBinary, runCli } from "../helpers/cli.ts";
import { keysNotSnakeCase } from "../helpers/keys.ts";
import { trainArgs as sharedTrainArgs, varyingResponder } from "../helpers/train.ts";
import { GenerateAnswer } from "../../src/program/signatures.ts";
import { format } from "../../src/program/adapter/index.ts";

const directories: string[] = [];
const servers: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

function workspace(): string {
  const directory = mkdtempSync(join(tmpdir(), "musique-train-"));
  directories.push(directory);
  return directory;
}

function trainArgs(arbor: FakeArbor, directory: string, run: string, extra: string[] = []): string[] {
  return sharedTrainArgs({ arborUrl: arbor.baseUrl, database: join(directory, "m.db"), outputDir: join(directory, "outputs"), run, extra });
}

function rows<T>(database: string, sql: string): T[] {
  const db = new Database(database, { readonly: true });
  try {
    return db.query(sql).all() as T[];
  } finally {
    db.close();
  }
}

describe("musique train against a fake Arbor (HEAD protocol)", () => {
  test("trains 3 steps with the reference defaults: initialize body, full groups, validation, checkpoints, terminate, store rows", async () => {
    const arbor = startFakeArbor({ responder: varyingResponder() });
    servers.push(arbor);
    const directory = workspace();
    const result = await runCli(trainArgs(arbor, directory, "e2e"));
    expect(result.stderr).not.toContain("ERROR");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("steps completed: 3");

    // initialize: the seed defaults, on the HEAD schema (the fake rejects unknown keys with 422)
    const initialize = arbor.requestsTo("initialize")[0]?.body as {
      model: string;
      run_name: string;
      trainer_config: Record<string, unknown>;
      gpu_config: { multi: { num_inference_gpus: number; num_training_gpus: number } };
    };
    expect(initialize.model).toBe("Qwen/Qwen2.5-7B-Instruct");
    // a run name unique per Arbor job, so a resume never reuses the job id
    expect(initialize.run_name).toBe("e2e-r1");
    expect(initialize.trainer_config).toMatchObject({
      num_generations: 8,
      per_device_train_batch_size: 8,
      gradient_accumulation_steps: 4,
      learning_rate: 2e-5,
      beta: 0.04,
      temperature: 0.7,
      max_grad_norm: 0.5,
      loss_type: "dapo",
      mask_truncated_completions: false,
      // (3 steps + 1 of margin) × 2 examples × 4 groups = 32, a multiple of 8 × 4
      max_steps: 32,
      lora_config: { r: 16, lora_alpha: 64, lora_dropout: 0.05 },
    });
    expect(initialize.gpu_config.multi).toEqual({ num_inference_gpus: 1, num_training_gpus: 2 });

    // groups: exactly 8 items, identical prompts within a group, DSPy's system messages, rewards
    const job = [...arbor.jobs.values()][0];
    expect(job?.groups.length).toBeGreaterThan(0);
    const answerSystem = format(GenerateAnswer, { question: "q", all_information: "i" })[0]?.content;
    let sawAnswerGroup = false;
    for (const group of job?.groups ?? []) {
      const items = group.batch as Array<{ messages: Array<{ role: string; content: string }>; completion: { content: string }; reward: number }>;
      expect(items).toHaveLength(8);
      expect(new Set(items.map((item) => JSON.stringify(item.messages))).size).toBe(1);
      for (const item of items) {
        expect(typeof item.reward).toBe("number");
        expect(item.completion.content).toMatch(/^\[\[ ## reasoning ## \]\]\n[\s\S]*\[\[ ## completed ## \]\]\n$/);
      }
      if (items[0]?.messages[0]?.content === answerSystem) sawAnswerGroup = true;
    }
    expect(sawAnswerGroup).toBe(true);
    // Rollouts sampled from the job, at the training temperature.
    const chats = arbor.requestsTo("chat").map((entry) => entry.body as { model: string; temperature: number });
    expect(chats.every((body) => body.model.endsWith(job?.id ?? "?") && body.temperature === 0.7)).toBe(true);
    expect(arbor.requestsTo("terminate")).toHaveLength(1);
    expect(arbor.requestsTo("checkpoint").length).toBeGreaterThanOrEqual(1);

    const database = join(directory, "m.db");
    const steps = rows<{ step: number; status: string }>(database, "SELECT step, status FROM training_steps ORDER BY step");
    expect(steps).toEqual([1, 2, 3].map((step) => ({ step, status: "completed" })));
    expect(rows<{ n: number }>(database, "SELECT COUNT(*) AS n FROM rollouts")[0]?.n).toBe(3 * 2 * 8);
    expect(rows<{ step: number }>(database, "SELECT step FROM validations ORDER BY step").map((row) => row.step)).toEqual([0, 2, 3]);
    expect(rows<{ n: number }>(database, "SELECT COUNT(*) AS n FROM groups WHERE batch_id IS NOT NULL")[0]?.n).toBe(job?.groups.length);
    expect(rows<{ name: string }>(database, "SELECT name FROM checkpoints").map((row) => row.name)).toContain("checkpoint_final");
    expect(rows<{ status: string }>(database, "SELECT status FROM runs")[0]?.status).toBe("completed");

    const out = join(directory, "outputs", "e2e");
    for (const file of ["config.json", "train.log", "validations.json", "scores.json", "predictions.jsonl", "checkpoints.json"]) {
      expect(existsSync(join(out, file))).toBe(true);
    }
    expect(readFileSync(join(out, "predictions.jsonl"), "utf8").trim().split("\n")).toHaveLength(6);
    // one key style (snake_case) in every file musique writes
    const files = ["config.json", "validations.json", "scores.json", "checkpoints.json"].map(
      (file) => JSON.parse(readFileSync(join(out, file), "utf8")) as unknown,
    );
    expect(files.flatMap((file) => keysNotSnakeCase(file))).toEqual([]);
    const [config, validations, scores, checkpoints] = files as [
      Record<string, unknown>,
      Array<Record<string, unknown>>,
      { best: Record<string, unknown> },
      Array<Record<string, unknown>>,
    ];
    expect(config).toMatchObject({ run_name: "e2e", num_train_steps: 3, num_hops: 2 });
    expect(Object.keys(validations[0] ?? {})).toEqual(expect.arrayContaining(["step", "support_f1", "n_examples", "is_best"]));
    expect(Object.keys(scores.best)).toEqual(expect.arrayContaining(["support_f1", "format_failures", "lm_errors"]));
    expect(checkpoints.find((checkpoint) => checkpoint.name === "checkpoint_final")).toMatchObject({
      job_id: expect.any(String),
      global_step: expect.anything(),
    });
  });

  test("--dry-run runs rollouts and writes groups.jsonl against a plain OpenAI-compatible server, without Arbor", async () => {
    const lm = await startFakeOpenAI({ responder: varyingResponder() });
    servers.push(lm);
    const directory = workspace();
    const arbor = startFakeArbor({});
    servers.push(arbor);
    const args = trainArgs(arbor, directory, "dry", ["--dry-run", "--dry-run-steps", "2", "--base-url", lm.baseUrl]);
    const result = await runCli(args);
    expect(result.exitCode).toBe(0);
    expect(arbor.requests).toHaveLength(0);
    const groups = readFileSync(join(directory, "outputs", "dry", "groups.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { step: number; batch: unknown[] });
    expect(groups.length).toBeGreaterThan(0);
    expect(groups.every((group) => group.batch.length === 8)).toBe(true);
    expect(new Set(groups.map((group) => group.step))).toEqual(new Set([1, 2]));
  });

  test("a group size that does not divide the effective batch is refused before any request", async () => {
    const arbor = startFakeArbor({});
    servers.push(arbor);
    const result = await runCli(trainArgs(arbor, workspace(), "bad", ["--num-rollouts-per-step", "6"]));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--num-rollouts-per-step");
    expect(arbor.requests).toHaveLength(0);
  });

  test("an unreachable Arbor fails with how to start it", async () => {
    const arbor = startFakeArbor({});
    servers.push(arbor);
    const args = trainArgs(arbor, workspace(), "down").map((word) => (word === arbor.baseUrl ? "http://127.0.0.1:9/v1/" : word));
    const result = await runCli(args);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain("python -m arbor.cli serve");
  });

  test("SIGKILL mid-step, then --resume: steps continue from the last completed one, none repeated or missing", async () => {
    const slow = varyingResponder();
    const arbor = startFakeArbor({
      responder: async (request) => {
        await Bun.sleep(5);
        return slow(request);
      },
    });
    servers.push(arbor);
    const directory = workspace();
    const database = join(directory, "m.db");
    const args = trainArgs(arbor, directory, "crash", ["--num-train-steps", "8", "--no-lora"]);
    const binary = compiledBinary();
    const child = Bun.spawn(binary ? [binary, ...args] : [process.execPath, MAIN, ...args], { cwd: ROOT, env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
    const deadline = Date.now() + 60_000;
    const completedSteps = () => {
      if (!existsSync(database)) return 0;
      try {
        return rows<{ n: number }>(database, "SELECT COUNT(*) AS n FROM training_steps WHERE status = 'completed'")[0]?.n ?? 0;
      } catch {
        return 0;
      }
    };
    while (completedSteps() < 2 && Date.now() < deadline) await Bun.sleep(20);
    child.kill("SIGKILL");
    await child.exited;
    const before = completedSteps();
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThan(8);

    const resumed = await runCli(["train", "--resume", "crash", "--db", database, "--arbor-url", arbor.baseUrl]);
    expect(resumed.exitCode).toBe(0);
    expect(resumed.stderr).toContain(`resuming crash at step ${before + 1}`);
    expect(resumed.stderr).toContain("not restored on resume");
    const steps = rows<{ step: number; status: string }>(database, "SELECT step, status FROM training_steps ORDER BY step");
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((step) => ({ step, status: "completed" })));
    expect(rows<{ n: number }>(database, "SELECT COUNT(*) AS n FROM rollouts")[0]?.n).toBe(8 * 2 * 8);
    const initializes = arbor.requestsTo("initialize").map((entry) => (entry.body as { model: string }).model);
    expect(initializes).toHaveLength(2);
    // Full-weight training: the new job starts from the last checkpoint Arbor recorded.
    expect(initializes[1]).toContain("/checkpoints/");
    const integrity = rows<{ integrity_check: string }>(database, "PRAGMA integrity_check");
    expect(integrity[0]?.integrity_check).toBe("ok");
  });

  for (const choice of ["terminate", "cancel"] as const) {
    test(`Ctrl-C stops training, ${choice}s the Arbor job as chosen, marks the run interrupted and says how to resume`, async () => {
      const slow = varyingResponder();
      const arbor = startFakeArbor({
        responder: async (request) => {
          await Bun.sleep(5);
          return slow(request);
        },
      });
      servers.push(arbor);
      const directory = workspace();
      const args = trainArgs(arbor, directory, `stop-${choice}`, ["--num-train-steps", "50", "--on-interrupt", choice]);
      const binary = compiledBinary();
      const child = Bun.spawn(binary ? [binary, ...args] : [process.execPath, MAIN, ...args], { cwd: ROOT, env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
      const deadline = Date.now() + 60_000;
      while (arbor.requestsTo("step").length < 4 && Date.now() < deadline) await Bun.sleep(20);
      child.kill("SIGINT");
      const exitCode = await child.exited;
      const stderr = await new Response(child.stderr).text();
      expect(exitCode).toBe(130);
      expect(stderr).toContain(`musique train --resume stop-${choice}`);
      expect(arbor.requestsTo(choice)).toHaveLength(1);
      expect(rows<{ status: string }>(join(directory, "m.db"), "SELECT status FROM runs")[0]?.status).toBe("interrupted");
    });
  }
});
