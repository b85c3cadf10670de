/**
 * The Arbor client's call path (src/grpo/arbor.ts `call`, issue 13 defect 1): a call that is not
 * safe to repeat (initialize, step, checkpoint, terminate, cancel) is sent again only when the
 * connection was refused before the request went out — never after a timeout or a reset — and a
 * timeout on initialize says what state Arbor may be in and how to clean it up. The error
 * descriptions read Arbor's body as data (`error.json`), not a cut message. Job calls go one at a
 * time (Arbor's worker threads and PR_SET_PDEATHSIG).
 */
import { afterEach, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { TrainSchema } from "../../src/config/schemas.ts";
import { RetryError } from "../../src/errors.ts";
import { ArborClient } from "../../src/grpo/arbor.ts";
import type { GrpoChatData } from "../../src/grpo/arbor-wire.ts";
import { buildInitializeRequest, expectedJobId } from "../../src/grpo/trainer-config.ts";
import { headError, startFakeArbor, type FakeArbor, type FakeArborOptions } from "../fakes/arbor.ts";
import { refusedPort } from "../fakes/broken.ts";
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

function client(baseUrl: string, extra: Partial<ConstructorParameters<typeof ArborClient>[0]> = {}): ArborClient {
  return new ArborClient({
    baseUrl,
    maxRetries: 2,
    retry: { initialDelayMs: 1, maxDelayMs: 2, random: () => 0, onRetry: () => {} },
    onWaiting: () => {},
    ...extra,
  });
}

const settings = v.parse(TrainSchema, {
  runName: "calls",
  model: "Qwen/Qwen2.5-7B-Instruct",
  numRolloutsPerStep: "4",
  batchSize: "4",
  gradientAccumulation: "1",
  numTrainingGpus: "1",
});

const group = (size: number): GrpoChatData[] =>
  Array.from({ length: size }, (_, index) => ({
    messages: [{ role: "user", content: "q" }],
    completion: { role: "assistant", content: `a${index}` },
    reward: index / size,
  }));

describe("Arbor calls that are not safe to repeat", () => {
  test("initialize against a refused port is tried again (nothing was sent): 1 + --max-retries attempts", async () => {
    const baseUrl = `http://127.0.0.1:${await refusedPort()}/v1/`;
    const error = await failure(client(baseUrl).initialize(buildInitializeRequest(settings)));
    expect(error.kind).toBe("unreachable");
    expect(error).toBeInstanceOf(RetryError);
    if (error instanceof RetryError) {
      expect(error.reason).toBe("maxRetriesExceeded");
      expect(error.attempts).toHaveLength(3);
    }
    expect(error.message).toContain("Arbor is not running");
  });

  test("initialize whose connection breaks after it was sent is not sent again", async () => {
    const server = fake({ faults: [{ route: "initialize", reset: true }] });
    const error = await failure(client(server.baseUrl).initialize(buildInitializeRequest(settings)));
    expect(error.kind).toBe("reset");
    expect(error.message).toContain("it was not sent again");
    expect(server.requestsTo("initialize")).toHaveLength(1);
  });

  test("initialize past --arbor-timeout: one request; the message says the job may be starting and how to cancel it", async () => {
    const server = fake({ initializeDelayMs: 1500 });
    const error = await failure(client(server.baseUrl, { initializeTimeoutSeconds: 0.2 }).initialize(buildInitializeRequest(settings)));
    const jobId = expectedJobId(settings.model, "calls");
    expect(error.kind).toBe("timeout");
    expect(error.message).toContain(`Arbor initialize (job ${jobId}) did not answer in time`);
    expect(error.hint).toContain("may still be starting the job");
    expect(error.hint).toContain("holds its GPUs");
    expect(error.fix).toContain(`${server.baseUrl}fine_tuning/grpo/cancel`);
    expect(error.fix).toContain(`"job_id":"${jobId}"`);
    expect(error.fix).toContain("restart Arbor");
    expect(error.fix).toContain("--arbor-timeout");
    expect(server.requestsTo("initialize")).toHaveLength(1);
  });

  test("step with a reset, a 502 or a 503 is sent once", async () => {
    const server = fake();
    const arbor = client(server.baseUrl);
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    for (const fault of [{ reset: true }, { status: 502, body: headError("ConnectionError", "ZMQ") }, { status: 503 }]) {
      const before = server.requestsTo("step").length;
      server.inject({ route: "step", ...fault });
      await failure(arbor.step({ job_id: jobId, model: jobId, batch_id: 0, batch: group(4) }));
      expect(server.requestsTo("step").length - before).toBe(1);
    }
  });

  test("checkpoint past --request-timeout is sent once and says it may still be saving", async () => {
    const server = fake();
    const arbor = client(server.baseUrl, { requestTimeoutSeconds: 0.2 });
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    server.inject({ route: "checkpoint", delayMs: 1000 });
    const error = await failure(arbor.checkpoint(jobId, "step_1"));
    expect(error.kind).toBe("timeout");
    expect(error.hint).toContain("may still be running");
    expect(server.requestsTo("checkpoint")).toHaveLength(1);
  });

  test("status (safe to repeat) is retried after a reset", async () => {
    const server = fake();
    const arbor = client(server.baseUrl);
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    server.inject({ route: "status", reset: true });
    expect((await arbor.status(jobId)).jobId).toBe(jobId);
    expect(server.requestsTo("status")).toHaveLength(2);
  });
});

describe("Arbor error bodies read as data", () => {
  test("a long Arbor message is described from the parsed body and cut to an excerpt", async () => {
    const long = `Expected 4 samples in the group, received 3. ${"details ".repeat(2_000)}`;
    const server = fake();
    const arbor = client(server.baseUrl);
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    server.inject({ route: "step", status: 400, body: headError("ValueError", long) });
    const error = await failure(arbor.step({ job_id: jobId, model: jobId, batch_id: 0, batch: group(4) }));
    expect(error.hint).toContain("exactly num_generations (4)");
    expect(error.json).toMatchObject({ type: "ValueError" });
    expect(error.message.length).toBeLessThan(700);
  });
});

describe("one Arbor job call at a time", () => {
  // Arbor HEAD starts a job's vLLM and trainer with PR_SET_PDEATHSIG from the worker thread that ran
  // initialize; a second call in flight makes a second worker, and AnyIO's retiring the idle one
  // later SIGTERMs the job's processes (seen against Arbor's real server code).
  test("a status asked while a checkpoint is in flight is sent only after the checkpoint's answer; the liveness check goes alongside", async () => {
    const server = fake();
    const arbor = client(server.baseUrl);
    const { jobId } = await arbor.initialize(buildInitializeRequest(settings));
    server.inject({ route: "checkpoint", delayMs: 400 });
    const checkpoint = arbor.checkpoint(jobId, "best");
    await Bun.sleep(50);
    const status = arbor.status(jobId);
    const liveness = arbor.status(jobId, undefined, { alongside: true });
    await liveness;
    await Bun.sleep(100);
    // the checkpoint is still being answered: only the liveness status has been sent
    expect(server.requestsTo("status")).toHaveLength(1);
    await Promise.all([checkpoint, status]);
    expect(server.requestsTo("status")).toHaveLength(2);
    const checkpointAt = server.requestsTo("checkpoint")[0]?.at ?? 0;
    expect(server.requestsTo("status")[1]?.at ?? 0).toBeGreaterThanOrEqual(checkpointAt + 400);
  });
});
