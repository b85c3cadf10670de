import { afterEach, describe, expect, test } from "bun:test";
import { groupsBeforeTrainerExit } from "../fakes/arbor-trainer.ts";
import { startFakeArbor, type FakeArbor } from "../fakes/arbor.ts";

const fakes: FakeArbor[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.stop()));
});

function start(options: Parameters<typeof startFakeArbor>[0] = {}): FakeArbor {
  const server = startFakeArbor(options);
  fakes.push(server);
  return server;
}

/** POST with a deadline; "hung" when the fake never answers within it. */
async function post(server: FakeArbor, route: string, body: unknown, waitMs = 300): Promise<{ status: number; body: unknown } | "hung"> {
  try {
    const response = await fetch(new URL(route, server.baseUrl), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(waitMs),
    });
    return { status: response.status, body: await response.json() };
  } catch {
    return "hung";
  }
}

const sample = { messages: [{ role: "user", content: "q" }], completion: { role: "assistant", content: "a" }, reward: 1 };
const group = (size: number) => Array.from({ length: size }, () => sample);

function initializeBody(trainer: Record<string, unknown>, gpus = { num_inference_gpus: 1, num_training_gpus: 1 }, runName = "demo") {
  return {
    model: "Qwen/Qwen2.5-0.5B-Instruct",
    run_name: runName,
    trainer_config: { num_generations: 4, per_device_train_batch_size: 4, max_seq_len: 4096, ...trainer },
    inference_config: { model: "Qwen/Qwen2.5-0.5B-Instruct" },
    gpu_config: { type: "multi", multi: gpus },
  };
}

async function initialize(server: FakeArbor, body: unknown): Promise<string> {
  const answer = await post(server, "fine_tuning/grpo/initialize", body);
  if (answer === "hung") throw new Error("initialize hung");
  return (answer.body as { job_id: string }).job_id;
}

describe("HF's epoch / accumulation loop (the stand-in's emulation)", () => {
  test("with an epoch length that is a multiple of the accumulation the trainer trains max_steps groups", () => {
    expect(groupsBeforeTrainerExit(32, 8, 4)).toBe(32);
    expect(groupsBeforeTrainerExit(16, 8, 1)).toBe(16);
  });

  test("otherwise it reaches max_steps optimizer steps after fewer groups (epoch ends mid-group)", () => {
    // --num-hops 1 with the defaults: 500 × 6 × 2 = 6000 groups, 750 batches per epoch, 750 mod 4 = 2
    expect(groupsBeforeTrainerExit(6000, 8, 4)).toBeLessThan(6000);
    // a small run: 3 steps × 2 examples × 4 groups = 24 → 3 batches per epoch with accumulation 4
    expect(groupsBeforeTrainerExit(24, 8, 4)).toBeLessThan(24);
  });
});

describe("fake Arbor: the trainer behind a job", () => {
  test("the trainer leaves at max_steps: status still says running, later step / checkpoint / terminate never answer", async () => {
    const server = start();
    const job = await initialize(server, initializeBody({ max_steps: 2, gradient_accumulation_steps: 1 }));
    for (const id of [0, 1]) expect(await post(server, "fine_tuning/grpo/step", { job_id: job, model: job, batch_id: id, batch: group(4) })).toMatchObject({ status: 200 });
    const status = await post(server, "fine_tuning/grpo/status", { job_id: job });
    expect(status).toMatchObject({ status: 200, body: { status: "running", pending_batch_ids: [] } });
    expect(await post(server, "fine_tuning/grpo/checkpoint", { job_id: job, checkpoint_name: "best" })).toBe("hung");
    expect(await post(server, "fine_tuning/grpo/terminate", { job_id: job })).toBe("hung");
    expect(server.hanging().map((entry) => entry.path)).toEqual(["/v1/fine_tuning/grpo/checkpoint", "/v1/fine_tuning/grpo/terminate"]);
  });

  test("epoch / accumulation drift: the trainer leaves before max_steps groups and the next step hangs mid-run", async () => {
    const server = start();
    // 24 groups, batch 8, accumulation 4: three dataloader batches per epoch.
    const job = await initialize(server, initializeBody({ max_steps: 24, per_device_train_batch_size: 8, gradient_accumulation_steps: 4 }));
    const trained = groupsBeforeTrainerExit(24, 8, 4);
    for (let id = 0; id < trained; id++) await post(server, "fine_tuning/grpo/step", { job_id: job, model: job, batch_id: id, batch: group(4) });
    const status = await post(server, "fine_tuning/grpo/status", { job_id: job });
    // It had asked for the next id, which it will never take.
    expect(status).toMatchObject({ body: { status: "running", pending_batch_ids: [trained] } });
    expect(await post(server, "fine_tuning/grpo/step", { job_id: job, model: job, batch_id: trained, batch: group(4) })).toBe("hung");
  });

  test("a crashed trainer: status unchanged, the next step never answers, cancel still frees the GPUs", async () => {
    const server = start({ gpus: 2 });
    const job = await initialize(server, initializeBody({ max_steps: 100 }));
    server.crashTrainer(job);
    expect(await post(server, "fine_tuning/grpo/status", { job_id: job })).toMatchObject({ body: { status: "running", pending_batch_ids: [0, 1] } });
    expect(await post(server, "fine_tuning/grpo/step", { job_id: job, model: job, batch_id: 0, batch: group(4) })).toBe("hung");
    expect(await post(server, "fine_tuning/grpo/cancel", { job_id: job })).toMatchObject({ status: 200, body: { status: "cancelled" } });
    expect(server.gpus.unavailable).toBe(0);
  });

  test("num_generations below GPUs × accumulation: the trainer dies, initialize never answers and its GPUs stay taken", async () => {
    const server = start({ gpus: 4 });
    const answer = await post(server, "fine_tuning/grpo/initialize", initializeBody({ max_steps: 10, gradient_accumulation_steps: 4 }, { num_inference_gpus: 1, num_training_gpus: 2 }));
    expect(answer).toBe("hung");
    expect(server.gpus.unavailable).toBe(3);
    expect(server.jobs.size).toBe(0);
  });

  test("ArborGRPOConfig refuses a group size that does not divide the effective batch with 400, after taking the GPUs", async () => {
    const server = start({ gpus: 2 });
    const answer = await post(server, "fine_tuning/grpo/initialize", initializeBody({ max_steps: 10, num_generations: 3 }));
    expect(answer).toMatchObject({ status: 400, body: { type: "ValueError" } });
    expect(server.gpus.unavailable).toBe(2);
  });
});

describe("fake Arbor: GPUs", () => {
  test("too few free GPUs: 500 GPUAllocationError with Arbor's message", async () => {
    const server = start({ gpus: 2 });
    const answer = await post(server, "fine_tuning/grpo/initialize", initializeBody({ max_steps: 10 }, { num_inference_gpus: 1, num_training_gpus: 2 }));
    expect(answer).toMatchObject({ status: 500, body: { type: "GPUAllocationError", message: "Not enough free GPUs. Requested: 3, Free: [0, 1], Busy: [], Allocated: []" } });
  });

  test("terminate keeps vLLM serving and every GPU of the job; cancel frees them", async () => {
    const server = start({ gpus: 2 });
    const job = await initialize(server, initializeBody({ max_steps: 10 }));
    const terminated = await post(server, "fine_tuning/grpo/terminate", { job_id: job });
    expect(terminated).toMatchObject({ status: 200, body: { status: "running", last_checkpoint: "checkpoint_final" } });
    expect(server.gpus.unavailable).toBe(2);
    const second = await post(server, "fine_tuning/grpo/initialize", initializeBody({ max_steps: 10 }, undefined, "demo-2"));
    expect(second).toMatchObject({ status: 500, body: { type: "GPUAllocationError" } });
    const chat = await post(server, "chat/completions", { model: job, messages: [{ role: "user", content: "hi" }] });
    expect(chat).toMatchObject({ status: 200, body: { model: job } });
    await post(server, "fine_tuning/grpo/cancel", { job_id: job });
    expect(server.gpus.unavailable).toBe(0);
    expect(await post(server, "fine_tuning/grpo/initialize", initializeBody({ max_steps: 10 }, undefined, "demo-2"))).toMatchObject({ status: 200 });
  });

  test("a reused job id replaces the old job; the old one's vLLM keeps its GPU for good", async () => {
    const server = start({ gpus: 4 });
    const first = await initialize(server, initializeBody({ max_steps: 10 }));
    await post(server, "fine_tuning/grpo/terminate", { job_id: first });
    const second = await initialize(server, initializeBody({ max_steps: 10 }));
    expect(second).toBe(first);
    expect(server.jobs.get(second)?.groups).toEqual([]);
    await post(server, "fine_tuning/grpo/cancel", { job_id: second });
    // The first job's vLLM still runs on its GPU; nothing can stop it now.
    expect(server.gpus.unavailable).toBe(1);
  });
});
