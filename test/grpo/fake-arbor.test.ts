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

async function post(server: FakeArbor, route: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(new URL(route, server.baseUrl), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const initializeBody = {
  model: "Qwen/Qwen2.5-0.5B-Instruct",
  run_name: "demo",
  trainer_config: { num_generations: 4, per_device_train_batch_size: 4, max_steps: 100 },
  inference_config: { model: "Qwen/Qwen2.5-0.5B-Instruct", max_seq_len: 2048 },
  gpu_config: { type: "multi", multi: { num_inference_gpus: 1, num_training_gpus: 1 } },
};

const sample = {
  messages: [{ role: "user", content: "Name a prime number." }],
  completion: { role: "assistant", content: "7" },
  reward: 1,
};

describe("fake Arbor speaks HEAD strictly", () => {
  test("an unknown key is a FastAPI 422 extra_forbidden item with its location", async () => {
    const server = start();
    const response = await post(server, "fine_tuning/grpo/initialize", {
      ...initializeBody,
      trainer_config: { ...initializeBody.trainer_config, lora: true },
    });
    expect(response.status).toBe(422);
    expect(response.body).toEqual({
      detail: [{ type: "extra_forbidden", loc: ["body", "trainer_config", "lora"], msg: "Extra inputs are not permitted", input: true }],
    });
  });

  test("a missing required field is a 422 missing item", async () => {
    const server = start();
    const { inference_config: _dropped, ...rest } = initializeBody;
    const response = await post(server, "fine_tuning/grpo/initialize", rest);
    expect(response.status).toBe(422);
    expect((response.body as { detail: Array<{ type: string; loc: unknown[] }> }).detail[0]).toMatchObject({
      type: "missing",
      loc: ["body", "inference_config"],
    });
  });

  test("the job id is grpo:<basename(model).lower()>:<run_name>:<YYYYMMDD>", async () => {
    const server = start({ now: () => new Date(2025, 10, 17, 12) });
    const response = await post(server, "fine_tuning/grpo/initialize", initializeBody);
    expect(response.body).toEqual({
      job_id: "grpo:qwen2.5-0.5b-instruct:demo:20251117",
      status: "running",
      current_model: "grpo:qwen2.5-0.5b-instruct:demo:20251117",
      checkpoints: {},
      last_checkpoint: null,
      pending_batch_ids: [],
    });
  });

  test("status of an unknown job is HEAD's 400 KeyError body", async () => {
    const server = start();
    const response = await post(server, "fine_tuning/grpo/status", { job_id: "nope" });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ type: "KeyError", message: "'nope'" });
  });

  test("step: list of lists → 400; missing batch_id → 422; wrong size → 400; ids assigned in arrival order", async () => {
    const server = start();
    const job = ((await post(server, "fine_tuning/grpo/initialize", initializeBody)).body as { job_id: string }).job_id;
    const nested = await post(server, "fine_tuning/grpo/step", { job_id: job, model: job, batch_id: 0, batch: [[sample, sample, sample, sample]] });
    expect(nested.status).toBe(400);
    const missing = await post(server, "fine_tuning/grpo/step", { job_id: job, model: job, batch: [sample] });
    expect(missing.status).toBe(422);
    const short = await post(server, "fine_tuning/grpo/step", { job_id: job, model: job, batch_id: 0, batch: [sample] });
    expect(short).toMatchObject({ status: 400, body: { message: "Expected 4 samples in the group, received 1" } });
    await post(server, "fine_tuning/grpo/step", { job_id: job, model: job, batch_id: 7, batch: [sample, sample, sample, sample] });
    expect(server.jobs.get(job)?.groups.map((group) => [group.assignedBatchId, group.requestedBatchId])).toEqual([[0, 7]]);
  });

  test("pending ids never go past max_steps", async () => {
    const server = start();
    const job = (
      (
        await post(server, "fine_tuning/grpo/initialize", {
          ...initializeBody,
          trainer_config: { num_generations: 4, per_device_train_batch_size: 4, max_steps: 1 },
        })
      ).body as { job_id: string }
    ).job_id;
    const status = await post(server, "fine_tuning/grpo/status", { job_id: job });
    expect((status.body as { pending_batch_ids: number[] }).pending_batch_ids).toEqual([0]);
  });

  test("there is no /v1/models", async () => {
    const server = start();
    const response = await fetch(new URL("models", server.baseUrl));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ detail: "Not Found" });
  });

  test("chat answers the job id (any arbor: prefix) in ChatAdapter format, with usage", async () => {
    const server = start();
    const job = ((await post(server, "fine_tuning/grpo/initialize", initializeBody)).body as { job_id: string }).job_id;
    const response = await post(server, "chat/completions", {
      model: `openai/arbor:${job}`,
      messages: [
        { role: "system", content: "Your output fields are:\n1. `reasoning` (str): \n2. `answer` (str): Final answer" },
        { role: "user", content: "[[ ## question ## ]]\nQ?\n\n[[ ## all_information ## ]]\nParis\n\nRespond with the corresponding output fields" },
      ],
      n: 2,
    });
    const body = response.body as { model: string; choices: Array<{ message: { content: string } }>; usage: unknown };
    expect(body.model).toBe(job);
    expect(body.choices).toHaveLength(2);
    expect(body.choices[0]?.message.content).toContain("[[ ## answer ## ]]\nParis");
    expect(body.usage).toBeDefined();
  });

  test("an injected chat failure is HTTP 200 with body null", async () => {
    const server = start({ faults: [{ route: "chat", status: 200, body: null }] });
    const response = await post(server, "chat/completions", { model: "x", messages: [] });
    expect(response).toEqual({ status: 200, body: null });
  });
});

/** POST with a deadline; "hung" when the fake never answers within it. */
async function postOrHang(server: FakeArbor, route: string, body: unknown, waitMs = 300): Promise<{ status: number; body: unknown } | "hung"> {
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

const group = (size: number) => Array.from({ length: size }, () => sample);

function trainerInitialize(trainer: Record<string, unknown>, gpus = { num_inference_gpus: 1, num_training_gpus: 1 }, runName = "demo") {
  return {
    model: "Qwen/Qwen2.5-0.5B-Instruct",
    run_name: runName,
    trainer_config: { num_generations: 4, per_device_train_batch_size: 4, max_seq_len: 4096, ...trainer },
    inference_config: { model: "Qwen/Qwen2.5-0.5B-Instruct" },
    gpu_config: { type: "multi", multi: gpus },
  };
}

async function initialize(server: FakeArbor, body: unknown): Promise<string> {
  const answer = await postOrHang(server, "fine_tuning/grpo/initialize", body);
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
    const job = await initialize(server, trainerInitialize({ max_steps: 2, gradient_accumulation_steps: 1 }));
    for (const id of [0, 1])
      expect(await postOrHang(server, "fine_tuning/grpo/step", { job_id: job, model: job, batch_id: id, batch: group(4) })).toMatchObject({ status: 200 });
    const status = await postOrHang(server, "fine_tuning/grpo/status", { job_id: job });
    expect(status).toMatchObject({ status: 200, body: { status: "running", pending_batch_ids: [] } });
    expect(await postOrHang(server, "fine_tuning/grpo/checkpoint", { job_id: job, checkpoint_name: "best" })).toBe("hung");
    expect(await postOrHang(server, "fine_tuning/grpo/terminate", { job_id: job })).toBe("hung");
    expect(server.hanging().map((entry) => entry.path)).toEqual(["/v1/fine_tuning/grpo/checkpoint", "/v1/fine_tuning/grpo/terminate"]);
  });

  test("epoch / accumulation drift: the trainer leaves before max_steps groups and the next step hangs mid-run", async () => {
    const server = start();
    // 24 groups, batch 8, accumulation 4: three dataloader batches per epoch.
    const job = await initialize(server, trainerInitialize({ max_steps: 24, per_device_train_batch_size: 8, gradient_accumulation_steps: 4 }));
    const trained = groupsBeforeTrainerExit(24, 8, 4);
    for (let id = 0; id < trained; id++) await postOrHang(server, "fine_tuning/grpo/step", { job_id: job, model: job, batch_id: id, batch: group(4) });
    const status = await postOrHang(server, "fine_tuning/grpo/status", { job_id: job });
    // It had asked for the next id, which it will never take.
    expect(status).toMatchObject({ body: { status: "running", pending_batch_ids: [trained] } });
    expect(await postOrHang(server, "fine_tuning/grpo/step", { job_id: job, model: job, batch_id: trained, batch: group(4) })).toBe("hung");
  });

  test("a crashed trainer: status unchanged, the next step never answers, cancel still frees the GPUs", async () => {
    const server = start({ gpus: 2 });
    const job = await initialize(server, trainerInitialize({ max_steps: 100 }));
    server.crashTrainer(job);
    expect(await postOrHang(server, "fine_tuning/grpo/status", { job_id: job })).toMatchObject({ body: { status: "running", pending_batch_ids: [0, 1] } });
    expect(await postOrHang(server, "fine_tuning/grpo/step", { job_id: job, model: job, batch_id: 0, batch: group(4) })).toBe("hung");
    expect(await postOrHang(server, "fine_tuning/grpo/cancel", { job_id: job })).toMatchObject({ status: 200, body: { status: "cancelled" } });
    expect(server.gpus.unavailable).toBe(0);
  });

  test("num_generations below GPUs × accumulation: the trainer dies, initialize never answers and its GPUs stay taken", async () => {
    const server = start({ gpus: 4 });
    const answer = await postOrHang(
      server,
      "fine_tuning/grpo/initialize",
      trainerInitialize({ max_steps: 10, gradient_accumulation_steps: 4 }, { num_inference_gpus: 1, num_training_gpus: 2 }),
    );
    expect(answer).toBe("hung");
    expect(server.gpus.unavailable).toBe(3);
    expect(server.jobs.size).toBe(0);
  });

  test("ArborGRPOConfig refuses a group size that does not divide the effective batch with 400, after taking the GPUs", async () => {
    const server = start({ gpus: 2 });
    const answer = await postOrHang(server, "fine_tuning/grpo/initialize", trainerInitialize({ max_steps: 10, num_generations: 3 }));
    expect(answer).toMatchObject({ status: 400, body: { type: "ValueError" } });
    expect(server.gpus.unavailable).toBe(2);
  });
});

describe("fake Arbor: GPUs", () => {
  test("too few free GPUs: 500 GPUAllocationError with Arbor's message", async () => {
    const server = start({ gpus: 2 });
    const answer = await postOrHang(
      server,
      "fine_tuning/grpo/initialize",
      trainerInitialize({ max_steps: 10 }, { num_inference_gpus: 1, num_training_gpus: 2 }),
    );
    expect(answer).toMatchObject({
      status: 500,
      body: { type: "GPUAllocationError", message: "Not enough free GPUs. Requested: 3, Free: [0, 1], Busy: [], Allocated: []" },
    });
  });

  test("terminate keeps vLLM serving and every GPU of the job; cancel frees them", async () => {
    const server = start({ gpus: 2 });
    const job = await initialize(server, trainerInitialize({ max_steps: 10 }));
    const terminated = await postOrHang(server, "fine_tuning/grpo/terminate", { job_id: job });
    expect(terminated).toMatchObject({ status: 200, body: { status: "running", last_checkpoint: "checkpoint_final" } });
    expect(server.gpus.unavailable).toBe(2);
    const second = await postOrHang(server, "fine_tuning/grpo/initialize", trainerInitialize({ max_steps: 10 }, undefined, "demo-2"));
    expect(second).toMatchObject({ status: 500, body: { type: "GPUAllocationError" } });
    const chat = await postOrHang(server, "chat/completions", { model: job, messages: [{ role: "user", content: "hi" }] });
    expect(chat).toMatchObject({ status: 200, body: { model: job } });
    await postOrHang(server, "fine_tuning/grpo/cancel", { job_id: job });
    expect(server.gpus.unavailable).toBe(0);
    expect(await postOrHang(server, "fine_tuning/grpo/initialize", trainerInitialize({ max_steps: 10 }, undefined, "demo-2"))).toMatchObject({ status: 200 });
  });

  test("a reused job id replaces the old job; the old one's vLLM keeps its GPU for good", async () => {
    const server = start({ gpus: 4 });
    const first = await initialize(server, trainerInitialize({ max_steps: 10 }));
    await postOrHang(server, "fine_tuning/grpo/terminate", { job_id: first });
    const second = await initialize(server, trainerInitialize({ max_steps: 10 }));
    expect(second).toBe(first);
    expect(server.jobs.get(second)?.groups).toEqual([]);
    await postOrHang(server, "fine_tuning/grpo/cancel", { job_id: second });
    // The first job's vLLM still runs on its GPU; nothing can stop it now.
    expect(server.gpus.unavailable).toBe(1);
  });
});
