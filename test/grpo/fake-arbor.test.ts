import { afterEach, describe, expect, test } from "bun:test";
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
    const job = ((await post(server, "fine_tuning/grpo/initialize", { ...initializeBody, trainer_config: { num_generations: 4, per_device_train_batch_size: 4, max_steps: 1 } })).body as { job_id: string }).job_id;
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
