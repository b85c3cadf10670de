import { afterEach, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { TrainSchema } from "../../src/config/schemas.ts";
import { ExitCode } from "../../src/errors.ts";
import { ArborClient, arborBaseUrl } from "../../src/grpo/arbor.ts";
import type { GrpoChatData } from "../../src/grpo/arbor-wire.ts";
import { buildInitializeRequest } from "../../src/grpo/trainer-config.ts";
import { headError, startFakeArbor, type FakeArbor, type FakeArborOptions } from "../fakes/arbor.ts";
import { serviceError as failure } from "../helpers/errors.ts";

const fakes: FakeArbor[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.stop()));
});

function fake(options: FakeArborOptions = {}): FakeArbor {
  const server = startFakeArbor(options);
  fakes.push(server);
  return server;
}

function client(server: FakeArbor, extra: Partial<ConstructorParameters<typeof ArborClient>[0]> = {}): ArborClient {
  return new ArborClient({
    baseUrl: server.baseUrl,
    maxRetries: 2,
    retry: { initialDelayMs: 1, maxDelayMs: 2, random: () => 0, onRetry: () => {} },
    onWaiting: () => {},
    ...extra,
  });
}

const settings = v.parse(TrainSchema, {
  runName: "demo",
  model: "Qwen/Qwen2.5-7B-Instruct",
  numRolloutsPerStep: "4",
  batchSize: "4",
  gradientAccumulation: "1",
  numTrainingGpus: "1",
  numTrainSteps: "100",
});

function group(size: number, reward = 1): GrpoChatData[] {
  return Array.from({ length: size }, (_, index) => ({
    messages: [
      { role: "system" as const, content: "sys" },
      { role: "user" as const, content: "Name a prime number." },
    ],
    completion: { role: "assistant" as const, content: String(index) },
    reward: index % 2 === 0 ? reward : 0,
  }));
}

describe("arborBaseUrl", () => {
  test("defaults to http://localhost:{port}/v1/ with the trailing slash", () => {
    expect(arborBaseUrl({ port: 7453 })).toBe("http://localhost:7453/v1/");
  });
  test("keeps a given trailing slash and adds a missing one", () => {
    expect(arborBaseUrl({ arborUrl: "http://gpu:9000/v1/", port: 7453 })).toBe("http://gpu:9000/v1/");
    expect(arborBaseUrl({ arborUrl: "http://gpu:9000/v1", port: 7453 })).toBe("http://gpu:9000/v1/");
  });
  test("a URL without a path means /v1/", () => {
    expect(arborBaseUrl({ arborUrl: "http://gpu:9000", port: 7453 })).toBe("http://gpu:9000/v1/");
  });
});

describe("ArborClient against a HEAD Arbor", () => {
  test("initialize sends run_name, model, trainer_config, inference_config and gpu_config, and returns the job", async () => {
    const server = fake();
    const status = await client(server).initialize(buildInitializeRequest(settings));
    expect(status.jobId).toMatch(/^grpo:qwen2\.5-7b-instruct:demo:\d{8}$/);
    expect(status.currentModel).toBe(status.jobId);
    expect(status.status).toBe("running");
    expect(status.pendingBatchIds).toEqual([]);
    const body = server.requestsTo("initialize")[0]?.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["gpu_config", "inference_config", "model", "run_name", "trainer_config"]);
    expect(body.inference_config).toEqual({ model: "Qwen/Qwen2.5-7B-Instruct" });
    expect(body.gpu_config).toEqual({ type: "multi", multi: { num_inference_gpus: 1, num_training_gpus: 1 } });
    const trainer = body.trainer_config as Record<string, unknown>;
    expect(trainer.num_generations).toBe(4);
    expect(trainer.per_device_train_batch_size).toBe(4);
    // (steps + 1 of margin) × examples per step × groups per 2-hop example, a multiple of batch 4 × accumulation
    expect(trainer.max_steps).toBe((100 + 1) * 6 * 4);
    expect(trainer.beta).toBe(0.04);
  });

  test("initialize logs a waiting line while Arbor loads the model", async () => {
    const server = fake({ initializeDelayMs: 250 });
    const waited: number[] = [];
    await client(server, { progressIntervalSeconds: 0.05, onWaiting: (seconds) => waited.push(seconds) }).initialize(buildInitializeRequest(settings));
    expect(waited.length).toBeGreaterThan(0);
  });

  test("initialize that outlasts --arbor-timeout fails once, without a second initialize", async () => {
    const server = fake({ initializeDelayMs: 1500 });
    const error = await failure(client(server, { initializeTimeoutSeconds: 0.2 }).initialize(buildInitializeRequest(settings)));
    expect(error.message).toContain("did not answer in time");
    expect(error.fix).toContain("--arbor-timeout");
    expect(server.requestsTo("initialize")).toHaveLength(1);
  });

  test("status reads pending batch ids [0, 1] after initialize, then one ahead of the groups received", async () => {
    const server = fake();
    const arbor = client(server);
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    expect((await arbor.status(jobId)).pendingBatchIds).toEqual([0, 1]);
    await arbor.step({ job_id: jobId, model: jobId, batch_id: 0, batch: group(4) });
    expect((await arbor.status(jobId)).pendingBatchIds).toEqual([1, 2]);
  });

  test("step posts exactly one group with its batch id and metrics", async () => {
    const server = fake();
    const arbor = client(server);
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    await arbor.step({ job_id: jobId, model: jobId, batch_id: 0, batch: group(4), metrics: { mean_reward: 0.5, format_failures: 0 } });
    const job = server.jobs.get(jobId);
    expect(job?.groups).toHaveLength(1);
    expect(job?.groups[0]?.batch).toHaveLength(4);
    expect(job?.groups[0]?.metrics).toEqual({ mean_reward: 0.5, format_failures: 0 });
    expect(job?.groups[0]?.requestedBatchId).toBe(0);
  });

  test("checkpoint returns the record: name, directory under the job's checkpoints, global step, metadata", async () => {
    const server = fake({ storagePath: "/data/arbor" });
    const arbor = client(server);
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    await arbor.step({ job_id: jobId, model: jobId, batch_id: 0, batch: group(4) });
    await arbor.step({ job_id: jobId, model: jobId, batch_id: 1, batch: group(4) });
    const status = await arbor.checkpoint(jobId, "step_2", { step: 2, scores: { combined: 0.61 } });
    expect(status.lastCheckpoint).toBe("step_2");
    const record = status.checkpoints.step_2;
    expect(record?.directory).toBe(`/data/arbor/${jobId}/checkpoints/step_2`);
    expect(record?.globalStep).toBe(2);
    expect(record?.requested).toBe(true);
    expect(record?.metadata).toEqual({ step: 2, scores: { combined: 0.61 } });
    expect(typeof record?.timestamp).toBe("number");
  });

  test("terminate adds checkpoint_final and the job keeps status running", async () => {
    const server = fake();
    const arbor = client(server);
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    const status = await arbor.terminate(jobId);
    expect(status.status).toBe("running");
    expect(status.lastCheckpoint).toBe("checkpoint_final");
    expect(status.checkpoints.checkpoint_final?.metadata).toBeNull();
  });

  test("cancel sets the status to cancelled", async () => {
    const server = fake();
    const arbor = client(server);
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    expect((await arbor.cancel(jobId)).status).toBe("cancelled");
  });

  test("status retries a 503 and then succeeds", async () => {
    const server = fake();
    const arbor = client(server);
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    server.inject({ route: "status", status: 503, body: headError("RuntimeError", "busy") });
    expect((await arbor.status(jobId)).jobId).toBe(jobId);
    expect(server.requestsTo("status")).toHaveLength(2);
  });

  test("a LEGACY status (created, no pending_batch_ids) is still read", async () => {
    const server = fake({ legacy: true });
    const arbor = client(server);
    const status = await arbor.initialize(buildInitializeRequest(settings));
    expect(status.status).toBe("created");
    expect(status.pendingBatchIds).toEqual([]);
  });
});

describe("ArborClient error messages", () => {
  test("connection refused says Arbor is not running and how to start it", async () => {
    const server = fake();
    const baseUrl = server.baseUrl;
    await server.stop();
    fakes.length = 0;
    const arbor = new ArborClient({ baseUrl, maxRetries: 0, onWaiting: () => {} });
    const error = await failure(arbor.status("grpo:x:y:20250101"));
    expect(error.message).toContain(`Arbor is not running at ${baseUrl}`);
    expect(error.fix).toContain("python -m arbor.cli serve --arbor-config arbor.yaml");
    expect(error.fix).toContain("7453");
    expect(error.exitCode).toBe(ExitCode.service);
  });

  test("404 on status names the batch-id protocol and the upgrade command", async () => {
    const server = fake({ legacy: true });
    const error = await failure(client(server).status("grpo:x:y:20250101"));
    expect(error.message).toContain("too old");
    expect(error.hint).toContain("0.2.9");
    expect(error.fix).toContain('pip install -U "arbor-ai>=0.2.16"');
    expect(error.exitCode).toBe(ExitCode.rejected);
  });

  test("422 names the unknown key", async () => {
    const server = fake();
    const request = buildInitializeRequest(settings);
    const body = { ...request, trainer_config: { ...request.trainer_config, num_iterations: 1 } };
    const error = await failure(client(server).initialize(body));
    expect(error.message).toContain('unknown key "trainer_config.num_iterations"');
    expect(error.hint).toContain("num_iterations");
    expect(error.exitCode).toBe(ExitCode.rejected);
    expect(server.requestsTo("initialize")).toHaveLength(1);
  });

  test("400 for a group of the wrong size quotes Arbor's expected count", async () => {
    const server = fake();
    const arbor = client(server);
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    const error = await failure(arbor.step({ job_id: jobId, model: jobId, batch_id: 0, batch: group(3) }));
    expect(error.message).toContain("Expected 4 samples in the group, received 3");
    expect(error.hint).toContain("exactly num_generations (4)");
    expect(error.status).toBe(400);
  });

  test("400 for an unknown job id says Arbor does not know the job", async () => {
    const server = fake();
    const error = await failure(client(server).status("grpo:gone:job:20250101"));
    expect(error.message).toBe("Arbor does not know job 'grpo:gone:job:20250101'");
    expect(error.hint).toContain("restarted");
  });

  test("400 from initialize validation passes Arbor's message on", async () => {
    const server = fake();
    const bad = { ...buildInitializeRequest(settings) };
    bad.trainer_config = { ...bad.trainer_config, num_generations: 3 };
    const error = await failure(client(server).initialize(bad));
    expect(error.message).toContain("ValueError: The effective train batch size (1 x 4 x 1)");
    expect(error.fix).toContain("--num-rollouts-per-step");
  });

  test("504 on initialize says the trainer did not start within 90 s and is not retried", async () => {
    const server = fake({ faults: [{ route: "initialize", status: 504, body: headError("TimeoutError", "trainer clients") }] });
    const error = await failure(client(server).initialize(buildInitializeRequest(settings)));
    expect(error.message).toContain("trainer did not start within 90 s");
    expect(error.fix).toContain("restart Arbor");
    expect(server.requestsTo("initialize")).toHaveLength(1);
  });

  test("500 GPUAllocationError on initialize explains the GPU split", async () => {
    const server = fake({
      faults: [{ route: "initialize", status: 500, body: headError("GPUAllocationError", "Not enough free GPUs: need 3") }],
    });
    const error = await failure(client(server).initialize(buildInitializeRequest(settings)));
    expect(error.message).toContain("GPUAllocationError: Not enough free GPUs");
    expect(error.hint).toContain("--num-inference-gpus + --num-training-gpus");
    expect(server.requestsTo("initialize")).toHaveLength(1);
  });

  test("502 on step says the trainer or vLLM connection was lost", async () => {
    const server = fake();
    const arbor = client(server, { maxRetries: 0 });
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    server.inject({ route: "step", status: 502, body: headError("ConnectionError", "ZMQ socket closed") });
    const error = await failure(arbor.step({ job_id: jobId, model: jobId, batch_id: 0, batch: group(4) }));
    expect(error.message).toContain("lost its connection to the trainer or vLLM");
    expect(error.message).toContain("ConnectionError: ZMQ socket closed");
  });

  test("a plain-text 500 from an older Arbor is still explained", async () => {
    const server = fake();
    const arbor = client(server, { maxRetries: 0 });
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    server.inject({ route: "checkpoint", status: 500, body: "Internal Server Error" });
    const error = await failure(arbor.checkpoint(jobId, "step_1"));
    expect(error.message).toContain("Arbor failed during checkpoint");
    expect(error.hint).toContain("plain 500");
  });

  test("cancel of an already cancelled job is a 404 with Arbor's detail", async () => {
    const server = fake();
    const arbor = client(server);
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    await arbor.cancel(jobId);
    const error = await failure(arbor.cancel(jobId));
    // Arbor HEAD's words (seen against its real server code)
    expect(error.message).toContain("Cannot cancel job with status cancelled");
    expect(error.status).toBe(404);
  });

  test("a 200 answer that is not a GRPO status is refused", async () => {
    const server = fake({ faults: [{ route: "status", status: 200, body: { ok: true } }] });
    const error = await failure(client(server).status("grpo:x:y:20250101"));
    expect(error.message).toContain("not a GRPO status");
  });
});
