import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { headError, startFakeArbor, type FakeArbor } from "../fakes/arbor.ts";
import { MAIN, ROOT, cleanEnv, compiledBinary, runCli } from "../helpers/cli.ts";
import { trainArgs, varyingResponder } from "../helpers/train.ts";

const servers: FakeArbor[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

function rows<T>(database: string, sql: string): T[] {
  const db = new Database(database, { readonly: true });
  try {
    return db.query(sql).all() as T[];
  } finally {
    db.close();
  }
}

function slowFake(options: Parameters<typeof startFakeArbor>[0] = {}): FakeArbor {
  const answer = varyingResponder();
  const arbor = startFakeArbor({
    ...options,
    responder: async (request) => {
      await Bun.sleep(5);
      return answer(request);
    },
  });
  servers.push(arbor);
  return arbor;
}

function args(arbor: FakeArbor, directory: string, run: string, extra: string[]): string[] {
  return trainArgs({ arborUrl: arbor.baseUrl, database: join(directory, "m.db"), outputDir: join(directory, "outputs"), run, extra });
}

describe("musique train: Arbor jobs across a resume (fake Arbor with Arbor HEAD's job and GPU behaviour)", () => {
  test("Ctrl-C then --resume on the same node: checkpoint_final recorded, the earlier job cancelled to free its GPUs, a new job (new run name) from it", async () => {
    // Exactly the GPUs of one job (1 inference + 2 training): terminate keeps them all.
    const arbor = slowFake({ gpus: 3 });
    const directory = mkdtempSync(join(tmpdir(), "musique-jobs-"));
    const database = join(directory, "m.db");
    const command = args(arbor, directory, "node", ["--num-train-steps", "6", "--no-lora"]);
    const binary = compiledBinary();
    const child = Bun.spawn(binary ? [binary, ...command] : [process.execPath, MAIN, ...command], {
      cwd: ROOT,
      env: cleanEnv(),
      stdout: "pipe",
      stderr: "pipe",
    });
    const deadline = Date.now() + 60_000;
    while (arbor.requestsTo("step").length < 10 && Date.now() < deadline) await Bun.sleep(20);
    child.kill("SIGINT");
    expect(await child.exited).toBe(130);
    expect(arbor.requestsTo("terminate")).toHaveLength(1);
    expect(existsSync(database)).toBe(true);

    const resumed = await runCli(["train", "--resume", "node", "--db", database, "--arbor-url", arbor.baseUrl]);
    expect(resumed.stderr).not.toContain("GPUAllocationError");
    expect(resumed.exitCode).toBe(0);

    const initializes = arbor.requestsTo("initialize").map((entry) => entry.body as { run_name: string; model: string });
    expect(initializes.map((body) => body.run_name)).toEqual(["node-r1", "node-r2"]);
    const [first, second] = [...arbor.jobs.keys()];
    // the earlier job was cancelled before the new one was initialized
    const routes = arbor.requests.map((entry) => entry.path.split("/").pop());
    expect(routes.lastIndexOf("cancel")).toBeLessThan(routes.lastIndexOf("initialize"));
    expect((arbor.requestsTo("cancel")[0]?.body as { job_id: string }).job_id).toBe(first ?? "?");
    // --no-lora: the new job starts from the newest checkpoint, the interrupted job's checkpoint_final
    expect(initializes[1]?.model).toBe(`/home/fake/.arbor/storage/${first}/checkpoints/checkpoint_final`);
    const checkpoints = rows<{ job_id: string; name: string }>(database, "SELECT job_id, name FROM checkpoints WHERE name = 'checkpoint_final' ORDER BY id");
    expect(checkpoints).toEqual([
      { job_id: first ?? "?", name: "checkpoint_final" },
      { job_id: second ?? "?", name: "checkpoint_final" },
    ]);
    expect(rows<{ status: string }>(database, "SELECT status FROM arbor_jobs ORDER BY attempt").map((row) => row.status)).toEqual(["cancelled", "terminated"]);
    expect(rows<{ n: number }>(database, "SELECT COUNT(*) AS n FROM training_steps WHERE status = 'completed'")[0]?.n).toBe(6);
  }, 30_000);

  test("every step trained but terminate failed: the resume finishes the run without a new job", async () => {
    const arbor = slowFake({ faults: [{ route: "terminate", status: 500, body: headError("RuntimeError", "boom") }] });
    const directory = mkdtempSync(join(tmpdir(), "musique-jobs-"));
    const database = join(directory, "m.db");
    const failed = await runCli(args(arbor, directory, "ending", []));
    expect(failed.exitCode).toBe(4);
    expect(rows<{ status: string }>(database, "SELECT status FROM runs")[0]?.status).toBe("failed");

    const resumed = await runCli(["train", "--resume", "ending", "--db", database, "--arbor-url", arbor.baseUrl]);
    expect(resumed.exitCode).toBe(0);
    expect(arbor.requestsTo("initialize")).toHaveLength(1);
    expect(arbor.requestsTo("terminate")).toHaveLength(2);
    expect(rows<{ status: string }>(database, "SELECT status FROM runs")[0]?.status).toBe("completed");
    expect(rows<{ name: string }>(database, "SELECT name FROM checkpoints").map((row) => row.name)).toContain("checkpoint_final");
    expect(existsSync(join(directory, "outputs", "ending", "scores.json"))).toBe(true);
  });
});

describe("musique train against an Arbor busy launching a model", () => {
  test("the preflight waits longer than 10 s: Arbor answers nothing while it launches a model for any client", async () => {
    // The real server took 26 s to answer /status during a launch; 11 s here is past the old 10 s probe.
    const arbor = slowFake({ faults: [{ route: "status", delayMs: 11_000 }] });
    const directory = mkdtempSync(join(tmpdir(), "musique-jobs-"));
    const result = await runCli(args(arbor, directory, "busy", ["--num-train-steps", "1"]));
    expect(result.stderr).not.toContain("did not answer");
    expect(result.exitCode).toBe(0);
  }, 30_000);
});

describe("musique evaluate against an Arbor whose GPUs are held", () => {
  test("the preflight says what holds the GPUs and how to free them (not 'lower --concurrency')", async () => {
    const arbor = slowFake({ gpus: 3 });
    const directory = mkdtempSync(join(tmpdir(), "musique-jobs-"));
    // a finished training run: terminate keeps all three GPUs
    expect((await runCli(args(arbor, directory, "held", ["--num-train-steps", "1"]))).exitCode).toBe(0);
    const result = await runCli([
      "evaluate",
      ...["--datasets", "test/fixtures/musique_ans_dev_sample150.jsonl", "--limit", "2", "--retriever", "lexical"],
      ...["--base-url", arbor.baseUrl.replace(/\/$/, ""), "--db", join(directory, "e.db"), "--output-dir", join(directory, "outputs")],
    ]);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('has no free GPU to launch model "Qwen/Qwen2.5-7B-Instruct"');
    expect(result.stderr).toContain("a job ended by terminate");
    expect(result.stderr).toContain(`curl -X POST ${arbor.baseUrl}fine_tuning/grpo/cancel`);
    expect(result.stderr).not.toContain("lower --concurrency");
  });
});

describe("musique train --help", () => {
  test("says which Arbor versions work, what is checked, how GPUs are held and freed, and how to recover", async () => {
    const result = await runCli(["train", "--help"]);
    expect(result.exitCode).toBe(0);
    // the help is wrapped to the terminal width: compare words, not line breaks
    const help = (result.stdout + result.stderr).replace(/\s+/g, " ");
    expect(help).toContain("Arbor: commit 2c1b904 (pyproject 0.2.16");
    expect(help).toContain("Checked before any GPU time: --num-rollouts-per-step ≥ 2, ≥ --num-training-gpus × --gradient-accumulation");
    expect(help).toContain("GPUs: Arbor holds a job's GPUs until it is cancelled or restarts");
    expect(help).toContain("fine_tuning/grpo/cancel");
    expect(help).toContain("Recovering: too few free GPUs");
    expect(help).toContain("musique train --resume RUN");
  });
});
