import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { TrainSchema } from "../../src/config/schemas.ts";
import { loadExamples, type Example } from "../../src/data/index.ts";
import { InterruptedError, ServiceError } from "../../src/errors.ts";
import { ArborClient } from "../../src/grpo/arbor.ts";
import { BatchFeeder, TrainerLostError } from "../../src/grpo/batches.ts";
import { arborJobsOf } from "../../src/store/jobs.ts";
import { runGrpoLoop, type GrpoLoopContext, type StepGroups } from "../../src/grpo/loop.ts";
import { createChatClient } from "../../src/lm/client.ts";
import { GoldenRetriever } from "../../src/retrieval/golden.ts";
import { openStore, type Store } from "../../src/store/database.ts";
import { createRun } from "../../src/store/runs.ts";
import { inlineWriter } from "../../src/store/writer.ts";
import { runOnce } from "../../src/grpo/rollouts.ts";
import { StepSampler } from "../../src/grpo/sampler.ts";
import { runAllExamples } from "../../src/run/examples.ts";
import { bestValidation, checkpointsOf } from "../../src/store/training.ts";
import { startFakeArbor, type FakeArbor } from "../fakes/arbor.ts";
import { dspyCompletion, dspyResponder, isJsonRequest, userFields, type FakeResponder } from "../fakes/openai.ts";

let examples: Example[];
let directory: string;
const fakes: FakeArbor[] = [];
const stores: Store[] = [];

beforeAll(async () => {
  examples = (await loadExamples("sample", { seed: 89, noiseRate: 1, skipInvalid: false })).examples;
  directory = mkdtempSync(join(tmpdir(), "musique-grpo-"));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.stop()));
  for (const store of stores.splice(0)) store.close();
});

const settings = v.parse(TrainSchema, {
  model: "Qwen/Qwen2.5-0.5B-Instruct",
  runName: "loop-test",
  retriever: "golden",
  numTrainSteps: "3",
  numExamplesPerStep: "2",
  numRolloutsPerStep: "4",
  batchSize: "4",
  gradientAccumulation: "1",
  numTrainingGpus: "1",
  numStepsForVal: "2",
  checkpoint: "improvements",
  concurrency: "8",
  dryRunSteps: "2",
});

/**
 * A "model" that answers with the first collected line until the job has received `learnAfter`
 * groups, then with the gold answer (it learned), and breaks the format on every 9th answer call.
 */
function learningResponder(server: () => FakeArbor, learnAfter: number): FakeResponder {
  const gold = new Map(examples.map((example) => [example.question, example.answer]));
  const base = dspyResponder();
  let answerCalls = 0;
  return (request) => {
    const system = request.messages.find((message) => message.role === "system")?.content ?? "";
    if (!system.includes("`answer`")) return base(request);
    // The "broken" answers stay broken under DSPy's JSON fallback too.
    if (isJsonRequest(request)) return "Sorry, I can't help with that.";
    answerCalls += 1;
    if (answerCalls % 9 === 0) return "The answer is obvious.";
    const question = userFields(request.messages.find((message) => message.role === "user")?.content ?? "").question ?? "";
    const received = [...server().jobs.values()].reduce((sum, job) => sum + job.groups.length, 0);
    return dspyCompletion({ reasoning: "r", answer: received >= learnAfter ? (gold.get(question) ?? "?") : "unknown" });
  };
}

function context(server: FakeArbor | null, extra: Partial<GrpoLoopContext> = {}): GrpoLoopContext {
  const store = openStore(join(directory, `${crypto.randomUUID()}.db`));
  stores.push(store);
  const run = createRun(store, { name: "loop-test", kind: "train", config: {}, toolVersion: "test" });
  const chatUrl = server ? server.baseUrl.replace(/\/$/, "") : "http://127.0.0.1:9/v1";
  return {
    store,
    runId: run.id,
    train: examples.slice(0, 6),
    dev: examples.slice(6, 10),
    arbor: server ? new ArborClient({ baseUrl: server.baseUrl, maxRetries: 0, onWaiting: () => {} }) : null,
    client: createChatClient({
      baseUrls: [chatUrl],
      apiKey: "arbor",
      model: settings.model,
      temperature: settings.temperature,
      maxTokens: 4000,
      maxRetries: 0,
      requestTimeoutSeconds: 5,
      concurrency: 8,
    }),
    retriever: new GoldenRetriever(),
    settings,
    signal: new AbortController().signal,
    // Validation through the evaluate path (src/run/examples.ts), as musique train wires it.
    runDev: (step, dev, program, signal) =>
      runAllExamples({
        runId: run.id,
        step,
        examples: dev,
        program: (example, exampleSignal) => runOnce(example, program, exampleSignal),
        reward: program.reward,
        concurrency: program.concurrency,
        writer: inlineWriter(store),
        signal,
        endpoints: { lm: chatUrl, retrieval: "golden" },
        resumeCommand: "musique train --resume loop-test",
      }),
    pollIntervalMs: 5,
    ...extra,
  };
}

function count(store: Store, sql: string): number {
  return (store.database.query(sql).get() as { n: number }).n;
}

describe("runGrpoLoop against the fake Arbor", () => {
  test("initializes, validates first, posts full groups as the trainer asks, checkpoints improvements, terminates", async () => {
    let server: FakeArbor | undefined;
    server = startFakeArbor({ responder: learningResponder(() => server as FakeArbor, 1) });
    fakes.push(server);
    const loop = context(server);
    const summary = await runGrpoLoop(loop);

    expect(summary.jobId).toMatch(/^grpo:qwen2\.5-0\.5b-instruct:loop-test-r1:\d{8}$/);
    expect(summary.stepsCompleted).toBe(3);
    expect(summary.validations.map((scores) => scores.step)).toEqual([0, 2, 3]);

    // Baseline validation ran before the first group was posted, sampling from the job id.
    const firstStep = server.requests.findIndex((entry) => entry.path.endsWith("/grpo/step"));
    const chatsBefore = server.requests.slice(0, firstStep).filter((entry) => entry.path === "/v1/chat/completions");
    expect(chatsBefore.length).toBeGreaterThan(0);
    expect(chatsBefore.every((entry) => (entry.body as { model: string }).model === summary.jobId)).toBe(true);

    const job = server.jobs.get(summary.jobId as string);
    expect(job?.groups.length).toBe(summary.groupsPosted);
    expect(job?.groups.every((group) => group.batch.length === 4)).toBe(true);
    expect(job?.groups.map((group) => group.assignedBatchId)).toEqual(job?.groups.map((_, index) => index));
    expect(job?.groups[0]?.metrics).toMatchObject({ step: 1 });
    expect(Object.keys(job?.groups[0]?.metrics ?? {}).sort()).toEqual(["format_failures", "mean_reward", "step"]);

    // The baseline is the first best (checkpointed); the model "learned" after the first group:
    // validation improves, so another checkpoint is saved.
    expect(summary.checkpoints.map((entry) => entry.name)).toEqual(["step_0", "step_2", "checkpoint_final"]);
    expect(server.requestsTo("terminate")).toHaveLength(1);
    expect(
      checkpointsOf(loop.store, loop.runId)
        .map((record) => record.name)
        .sort(),
    ).toEqual(["checkpoint_final", "step_0", "step_2"]);
    expect(bestValidation(loop.store, loop.runId)?.step).toBe(2);

    // Everything is in the store.
    expect(count(loop.store, "SELECT COUNT(*) AS n FROM rollouts")).toBe(3 * 2 * 4);
    expect(count(loop.store, "SELECT COUNT(*) AS n FROM training_steps WHERE status = 'completed'")).toBe(3);
    expect(count(loop.store, "SELECT COUNT(*) AS n FROM groups WHERE batch_id IS NOT NULL")).toBe(summary.groupsPosted);
    expect(count(loop.store, "SELECT COUNT(*) AS n FROM validations")).toBe(3);
    expect(count(loop.store, "SELECT COUNT(*) AS n FROM predictions WHERE step = 0")).toBe(4);
  });

  test("a format failure makes its rollout's samples carry reward −1", async () => {
    let server: FakeArbor | undefined;
    server = startFakeArbor({ responder: learningResponder(() => server as FakeArbor, 1_000_000) });
    fakes.push(server);
    const summary = await runGrpoLoop(context(server, { settings: { ...settings, numTrainSteps: 1 } }));
    const rewards = (server.jobs.get(summary.jobId as string)?.groups ?? []).flatMap((group) =>
      group.batch.map((sample) => (sample as { reward: number }).reward),
    );
    expect(rewards).toContain(-1);
  });

  test("--dry-run builds groups without talking to Arbor", async () => {
    const chat = startFakeArbor();
    fakes.push(chat);
    const seen: StepGroups[] = [];
    const loop = context(null, {
      client: createChatClient({
        baseUrls: [chat.baseUrl.replace(/\/$/, "")],
        apiKey: "arbor",
        model: settings.model,
        temperature: 0.7,
        maxTokens: 4000,
        maxRetries: 0,
        requestTimeoutSeconds: 5,
        concurrency: 8,
      }),
      onGroups: (groups) => {
        seen.push(...groups);
      },
    });
    const summary = await runGrpoLoop(loop);
    expect(summary.jobId).toBeNull();
    // the rollout time of each step is recorded; there is no trainer to wait for or keep waiting
    const times = loop.store.database.query("SELECT rollout_seconds AS rollout, arbor_waiting_seconds AS arbor FROM training_steps").all() as Array<{
      rollout: number | null;
      arbor: number | null;
    }>;
    expect(times.map((row) => [(row.rollout ?? 0) > 0, row.arbor])).toEqual([
      [true, null],
      [true, null],
    ]);
    expect(summary.stepsCompleted).toBe(2);
    expect(seen).toHaveLength(2 * 2);
    expect(seen.every((entry) => entry.groups.every((group) => group.samples.length === 4))).toBe(true);
    expect(chat.requests.every((entry) => entry.path === "/v1/chat/completions")).toBe(true);
    expect((chat.requests[0]?.body as { model: string }).model).toBe(settings.model);
  });

  test("Ctrl-C stops the loop and terminates the job so checkpoint_final is kept", async () => {
    const server = startFakeArbor();
    fakes.push(server);
    const controller = new AbortController();
    const loop = context(server, {
      signal: controller.signal,
      onGroups: () => controller.abort(new InterruptedError("interrupted")),
    });
    await expect(runGrpoLoop(loop)).rejects.toBeInstanceOf(InterruptedError);
    expect(server.requestsTo("terminate")).toHaveLength(1);
    // terminate's checkpoint_final is recorded with the job that wrote it
    const final = checkpointsOf(loop.store, loop.runId).find((record) => record.name === "checkpoint_final");
    expect(final?.jobId).toMatch(/:loop-test-r1:/);
    expect(arborJobsOf(loop.store, loop.runId).map((job) => job.status)).toEqual(["terminated"]);
  });

  test("a trainer that crashes mid-run is found by the step it never accepts; the job is cancelled, not terminated", async () => {
    const server = startFakeArbor();
    fakes.push(server);
    let crashed = false;
    const loop = context(server, {
      stepAcceptSeconds: 0.3,
      onGroups: () => {
        if (crashed) return;
        crashed = true;
        for (const job of server.jobs.values()) server.crashTrainer(job.id);
      },
    });
    const error = await runGrpoLoop(loop).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TrainerLostError);
    expect((error as Error).message).toContain("the trainer process has crashed or hangs");
    expect(server.requestsTo("terminate")).toHaveLength(0);
    expect(server.requestsTo("cancel")).toHaveLength(1);
    expect(arborJobsOf(loop.store, loop.runId).map((job) => job.status)).toEqual(["cancelled"]);
  });

  test("no free GPUs: the message says what holds them (jobs recorded here) and the command that frees each", async () => {
    const server = startFakeArbor({ gpus: 1 });
    fakes.push(server);
    const loop = context(server);
    const error = await runGrpoLoop(loop).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServiceError);
    const message = (error as ServiceError).describe();
    expect(message).toContain("Arbor has no 2 free GPUs for this job (--num-inference-gpus 1 + --num-training-gpus 1)");
    expect(message).toContain("a job ended by terminate");
    expect(message).toContain(`curl -X POST ${server.baseUrl}fine_tuning/grpo/cancel`);
    expect(arborJobsOf(loop.store, loop.runId).map((job) => job.status)).toEqual(["failed"]);
  });
});

describe("BatchFeeder", () => {
  const sample = { messages: [{ role: "user" as const, content: "q" }], completion: { role: "assistant" as const, content: "a" }, reward: 1 };

  async function jobWithMaxSteps(server: FakeArbor, maxSteps: number): Promise<{ arbor: ArborClient; jobId: string }> {
    const arbor = new ArborClient({ baseUrl: server.baseUrl, maxRetries: 0, onWaiting: () => {} });
    const { jobId } = await arbor.initialize({
      model: "m",
      trainer_config: { num_generations: 2, per_device_train_batch_size: 2, max_steps: maxSteps },
      inference_config: { model: "m" },
      gpu_config: { type: "multi", multi: { num_inference_gpus: 1, num_training_gpus: 1 } },
    });
    return { arbor, jobId };
  }

  test("a trainer that stops asking for batches counts as lost, with a clear message", async () => {
    const server = startFakeArbor();
    fakes.push(server);
    const { arbor, jobId } = await jobWithMaxSteps(server, 1);
    const feeder = new BatchFeeder({ arbor, jobId, pollIntervalMs: 5, stallTimeoutSeconds: 0.1 });
    const error = await feeder
      .post(
        [
          [sample, sample],
          [sample, sample],
        ],
        {},
        new AbortController().signal,
      )
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TrainerLostError);
    expect((error as ServiceError).message).toContain("has not asked for a batch");
    expect(feeder.postedCount).toBe(1);
  });

  test("once the trainer's pace is known, a stall ends after 10× its slowest pace (at least the floor), not --request-timeout", async () => {
    const server = startFakeArbor();
    fakes.push(server);
    const { arbor, jobId } = await jobWithMaxSteps(server, 1);
    // --request-timeout 600 s: the test would time out if the feeder waited for it.
    const feeder = new BatchFeeder({ arbor, jobId, pollIntervalMs: 5, stallTimeoutSeconds: 600, stallFloorSeconds: 0.3 });
    const error = await feeder
      .post(
        [
          [sample, sample],
          [sample, sample],
        ],
        {},
        new AbortController().signal,
      )
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TrainerLostError);
    expect(feeder.stallLimitMs).toBe(300);
  });
});

describe("the next step's rollouts while the trainer trains (issue 19 item 3)", () => {
  const timed = { ...settings, numStepsForVal: 10 };

  /** Request indexes: each rollout chat's step (by its question) and each posted group's step. */
  function timeline(server: FakeArbor): { firstChat: (step: number) => number; lastPost: (step: number) => number } {
    const sampler = new StepSampler(6, { examplesPerStep: timed.numExamplesPerStep, seed: timed.seed, shuffle: true });
    const stepOf = new Map<string, number>();
    for (const step of [1, 2, 3]) for (const example of sampler.select(examples.slice(0, 6), step - 1)) stepOf.set(example.question, step);
    const chatStep = (body: unknown): number | undefined => {
      const user = (body as { messages: Array<{ role: string; content: string }> }).messages.find((message) => message.role === "user");
      return stepOf.get(userFields(user?.content ?? "").question ?? "");
    };
    const indexes = (keep: (entry: FakeArbor["requests"][number]) => boolean) => server.requests.flatMap((entry, index) => (keep(entry) ? [index] : []));
    return {
      firstChat: (step) => Math.min(...indexes((entry) => entry.path === "/v1/chat/completions" && chatStep(entry.body) === step)),
      lastPost: (step) =>
        Math.max(...indexes((entry) => entry.path.endsWith("/grpo/step") && (entry.body as { metrics: { step: number } }).metrics.step === step)),
    };
  }

  test("step 2's rollouts run while step 1's groups are posted and trained; step 3's only once the trainer took all of step 1's", async () => {
    // A trainer that takes 40 ms per group: posting a step's groups takes a while.
    const server = startFakeArbor({ trainStepMs: 40 });
    fakes.push(server);
    const loop = context(server, { settings: timed });
    expect((await runGrpoLoop(loop)).stepsCompleted).toBe(3);
    const { firstChat, lastPost } = timeline(server);
    expect(firstChat(2)).toBeLessThan(lastPost(1));
    expect(firstChat(3)).toBeGreaterThan(lastPost(1));
    // the feeder's polls during rollouts and validation never run beside another job call
    expect(server.mostJobCallsInFlight()).toBe(1);
    expect(count(loop.store, "SELECT COUNT(*) AS n FROM training_steps WHERE status = 'completed'")).toBe(3);
    expect(count(loop.store, "SELECT COUNT(*) AS n FROM rollouts")).toBe(3 * 2 * 4);
  });

  test("--no-overlap-rollouts: step 2's rollouts start only after the trainer took step 1's last group", async () => {
    const server = startFakeArbor({ trainStepMs: 40 });
    fakes.push(server);
    expect((await runGrpoLoop(context(server, { settings: { ...timed, overlapRollouts: false } }))).stepsCompleted).toBe(3);
    const { firstChat, lastPost } = timeline(server);
    expect(firstChat(2)).toBeGreaterThan(lastPost(1));
    expect(firstChat(3)).toBeGreaterThan(lastPost(2));
  });

  test("every step records its rollout time, musique's wait for the trainer and the trainer's wait for musique", async () => {
    // Slow rollouts, a trainer that takes each group at once: the trainer waits for every step's groups.
    const answer = dspyResponder();
    const server = startFakeArbor({ responder: async (request) => (await Bun.sleep(10), answer(request)) });
    fakes.push(server);
    const loop = context(server, { settings: { ...timed, overlapRollouts: false } });
    await runGrpoLoop(loop);
    const steps = loop.store.database
      .query("SELECT step, rollout_seconds AS rollout, waiting_for_arbor_seconds AS musique, arbor_waiting_seconds AS arbor FROM training_steps ORDER BY step")
      .all() as Array<{ step: number; rollout: number | null; musique: number | null; arbor: number | null }>;
    expect(steps.map((row) => row.step)).toEqual([1, 2, 3]);
    for (const row of steps) {
      expect(row.rollout ?? 0).toBeGreaterThan(0);
      expect(row.musique ?? -1).toBeGreaterThanOrEqual(0);
      expect(row.arbor ?? 0).toBeGreaterThan(0);
    }
  });
});
