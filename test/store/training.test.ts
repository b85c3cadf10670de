import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import type { ResponseCache } from "../../src/lm/cache.ts";
import type { ChatResult } from "../../src/lm/types.ts";
import {
  bestValidation,
  checkpointsOf,
  newestCheckpoint,
  createRun,
  createStoreCache,
  lastCompletedStep,
  openStore,
  recordCheckpoint,
  recordGroups,
  recordRollouts,
  recordTrainingStep,
  recordValidation,
  type Store,
} from "../../src/store/index.ts";
import { programResult, scoreOf, temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory();
afterAll(() => directory.remove());

let store: Store;
let runId: number;
let counter = 0;
beforeEach(() => {
  counter += 1;
  store = openStore(directory.database(`training-${counter}.db`));
  runId = createRun(store, { name: "train-a", kind: "train", config: {}, toolVersion: "test" }).id;
});

function count(table: string): number {
  return (store.database.query(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

function rollouts(exampleId: string, n: number) {
  return Array.from({ length: n }, (_unused, rolloutIndex) => {
    const result = programResult(rolloutIndex % 2 === 0 ? "Paris" : "Lyon");
    return { exampleId, rolloutIndex, result, score: scoreOf(result) };
  });
}

describe("training records", () => {
  test("recordRollouts writes rollouts and their module calls once, however often it is called", () => {
    recordRollouts(store, runId, 3, rollouts("2hop__1", 8));
    recordRollouts(store, runId, 3, rollouts("2hop__1", 8));
    expect(count("rollouts")).toBe(8);
    expect(count("module_calls")).toBe(40);
    const rewards = store.database.query("SELECT reward FROM rollouts ORDER BY rollout_index LIMIT 2").all() as { reward: number }[];
    expect(rewards[0]?.reward).toBeCloseTo(0.92, 12);
    expect(rewards[1]?.reward).toBeCloseTo(0.2, 12);
    const callIndexes = store.database.query("SELECT DISTINCT rollout_index FROM module_calls ORDER BY 1").all();
    expect(callIndexes).toHaveLength(8);
  });

  test("rollout format failures are counted from the parse errors of its calls", () => {
    const [rollout] = rollouts("2hop__1", 1);
    if (!rollout) throw new Error("no rollout");
    const call = rollout.result.calls[0];
    if (call) Object.assign(call, { status: "parse_error", parsed: null, error: "bad format" });
    recordRollouts(store, runId, 1, [rollout]);
    expect(store.database.query("SELECT format_failures FROM rollouts").get()).toEqual({ format_failures: 1 });
  });

  test("training steps upsert; lastCompletedStep ignores running and failed steps", () => {
    expect(lastCompletedStep(store, runId)).toBeNull();
    recordTrainingStep(store, runId, { step: 0, status: "running" });
    recordTrainingStep(store, runId, { step: 0, status: "completed", meanReward: 0.5, rewardStd: 0.1, numGroups: 18, arborResponse: { status: "ok" } });
    recordTrainingStep(store, runId, { step: 1, status: "completed", meanReward: 0.6 });
    recordTrainingStep(store, runId, { step: 2, status: "failed" });
    recordTrainingStep(store, runId, { step: 3, status: "running" });
    expect(count("training_steps")).toBe(4);
    expect(lastCompletedStep(store, runId)).toBe(1);
    const step0 = store.database.query("SELECT * FROM training_steps WHERE step = 0").get() as Record<string, unknown>;
    expect(step0).toMatchObject({ status: "completed", mean_reward: 0.5, num_groups: 18, arbor_response_json: '{"status":"ok"}' });
    expect(step0.finished_at).not.toBeNull();
  });

  test("groups keep rewards, advantages and batch id; re-recording does not duplicate", () => {
    const group = {
      exampleId: "2hop__1",
      module: "generate_query",
      invocation: 0,
      batchId: 7,
      rewards: [1, 0, 0.5, 0.5],
      advantages: [1.2, -1.2, 0, 0],
      request: { batch_id: 7, group: [] },
    };
    recordGroups(store, runId, 4, [group, { ...group, module: "generate_answer" }]);
    recordGroups(store, runId, 4, [{ ...group, response: { status: "accepted" } }]);
    expect(count("groups")).toBe(2);
    const row = store.database.query("SELECT * FROM groups WHERE module = 'generate_query'").get() as Record<string, unknown>;
    expect(row).toMatchObject({ batch_id: 7, size: 4, rewards_json: "[1,0,0.5,0.5]", response_json: '{"status":"accepted"}' });
  });

  test("validations: isBest moves the marker; bestValidation returns the marked one", () => {
    const base = { em: 0.3, f1: 0.4, recall: 0.5, supportF1: 0.6, nExamples: 100 };
    recordValidation(store, runId, { ...base, step: 10, reward: 0.5, isBest: true });
    recordValidation(store, runId, { ...base, step: 20, reward: 0.7, isBest: true });
    recordValidation(store, runId, { ...base, step: 30, reward: 0.6 });
    expect(bestValidation(store, runId)).toMatchObject({ step: 20, reward: 0.7, isBest: true });
    expect(store.database.query("SELECT SUM(is_best) AS n FROM validations").get()).toEqual({ n: 1 });
  });

  test("without a marker bestValidation takes the highest reward", () => {
    const base = { em: 0.3, f1: 0.4, recall: 0.5, supportF1: 0.6, nExamples: 100 };
    recordValidation(store, runId, { ...base, step: 10, reward: 0.5 });
    recordValidation(store, runId, { ...base, step: 20, reward: 0.8 });
    expect(bestValidation(store, runId)?.step).toBe(20);
    expect(bestValidation(store, runId, "em")?.step).toBe(10);
  });

  test("checkpoints: a reused name replaces the record of the same job; another job keeps its own", () => {
    recordCheckpoint(store, runId, { jobId: "j1", step: 10, name: "best", directory: "/storage/j1/checkpoints/best", metadata: { reward: 0.5 } });
    recordCheckpoint(store, runId, { jobId: "j1", step: 20, name: "best", directory: "/storage/j1/checkpoints/best", metadata: { reward: 0.7 } });
    recordCheckpoint(store, runId, { jobId: "j1", step: 20, name: "checkpoint_final", directory: null, arborRecord: { checkpoint_dir: "/x" } });
    recordCheckpoint(store, runId, { jobId: "j2", step: 30, name: "best", directory: "/storage/j2/checkpoints/best", globalStep: 96 });
    expect(checkpointsOf(store, runId).map(({ createdAt: _, ...record }) => record)).toEqual([
      {
        jobId: "j1",
        step: 20,
        name: "best",
        directory: "/storage/j1/checkpoints/best",
        globalStep: null,
        automatic: false,
        metadata: { reward: 0.7 },
        arborRecord: null,
      },
      {
        jobId: "j1",
        step: 20,
        name: "checkpoint_final",
        directory: null,
        globalStep: null,
        automatic: false,
        metadata: null,
        arborRecord: { checkpoint_dir: "/x" },
      },
      { jobId: "j2", step: 30, name: "best", directory: "/storage/j2/checkpoints/best", globalStep: 96, automatic: false, metadata: null, arborRecord: null },
    ]);
  });

  test("the newest checkpoint is the one with the most training: highest step, then the last recorded", () => {
    recordCheckpoint(store, runId, { jobId: "j1", step: 10, name: "best", directory: "/s/best" });
    recordCheckpoint(store, runId, { jobId: "j1", step: 12, name: "checkpoint_final", directory: "/s/checkpoint_final" });
    recordCheckpoint(store, runId, { jobId: "j2", step: 12, name: "best", directory: "/s2/best" });
    expect(newestCheckpoint(store, runId)?.directory).toBe("/s2/best");
    recordCheckpoint(store, runId, { jobId: "j2", step: 15, name: "checkpoint_final", directory: null });
    expect(newestCheckpoint(store, runId)?.directory).toBe("/s2/best");
  });
});

describe("createStoreCache", () => {
  const result: ChatResult = {
    text: "[[ ## answer ## ]]\nParis",
    finishReason: "stop",
    usage: { promptTokens: 10, completionTokens: 5 },
    latencyMs: 321,
    endpoint: "http://127.0.0.1:9/v1",
    attempts: 2,
    cached: false,
    model: "Qwen/Qwen2.5-7B-Instruct",
  };

  test("a miss is null; a hit returns the stored result marked as cached", () => {
    const cache = createStoreCache(store);
    const asLmCache: ResponseCache = cache; // the LM client's interface, structurally
    expect(asLmCache).toBe(cache);
    expect(cache.get("key-1")).toBeNull();
    cache.set("key-1", result);
    cache.set("key-1", result);
    expect(cache.get("key-1")).toEqual({ ...result, cached: true, attempts: 0, endpoint: null, latencyMs: 0 });
    expect(count("lm_cache")).toBe(1);
  });

  test("the cache survives reopening the database", () => {
    createStoreCache(store).set("key-2", result);
    store.close();
    store = openStore(directory.database(`training-${counter}.db`));
    expect(createStoreCache(store).get("key-2")?.text).toBe(result.text);
  });
});
