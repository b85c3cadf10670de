import { afterAll, describe, expect, test } from "bun:test";
import type { GrpoStatus } from "../../src/grpo/arbor-wire.ts";
import { recordJobCheckpoints } from "../../src/grpo/jobs.ts";
import { openStore } from "../../src/store/database.ts";
import { createRun } from "../../src/store/runs.ts";
import { checkpointsOf, recordGroups } from "../../src/store/training.ts";
import { temporaryDirectory } from "../store/helpers.ts";

const directory = temporaryDirectory();
afterAll(() => directory.remove());

const JOB = "grpo:qwen2.5-7b-instruct:run-r2:20251117";
const FOLDER = `/storage/${JOB}/checkpoints`;

function record(name: string, globalStep: number, metadata: Record<string, unknown> | null = null) {
  return { name, directory: `${FOLDER}/${name}`, globalStep, requested: true, metadata, timestamp: 1 };
}

describe("checkpoints a job wrote", () => {
  test("terminate's checkpoint_final and HF's own save_steps checkpoints are recorded with the job and their training step", () => {
    const store = openStore(directory.database());
    try {
      const run = createRun(store, { name: "run", kind: "train", config: {}, toolVersion: "test" });
      // The job started after 40 steps (a resume): steps 41–44 each posted 300 groups with batch ids 0, 1, 2, …
      for (const step of [41, 42, 43, 44]) {
        recordGroups(
          store,
          run.id,
          step,
          Array.from({ length: 300 }, (_, index) => ({
            exampleId: `e${index}`,
            module: "generate_answer",
            invocation: 0,
            batchId: (step - 41) * 300 + index,
            rewards: [0, 1],
          })),
        );
      }
      const status: GrpoStatus = {
        jobId: JOB,
        status: "running",
        currentModel: JOB,
        // "best" was saved at optimizer step 1000: it took over HF's checkpoint-1000 folder
        checkpoints: { best: record("best", 1000, { step: 43 }), checkpoint_final: record("checkpoint_final", 1150) },
        lastCheckpoint: "checkpoint_final",
        pendingBatchIds: [],
      };
      const final = recordJobCheckpoints(store, run.id, JOB, 40, status, 44);
      expect(final?.name).toBe("checkpoint_final");
      const rows = checkpointsOf(store, run.id).map(({ name, step, globalStep, automatic, jobId, directory: folder }) => ({
        name,
        step,
        globalStep,
        automatic,
        jobId,
        folder,
      }));
      expect(rows).toEqual([
        // checkpoint-500: the trainer's 500th group is batch 499, posted in step 42, which was under way: 41 steps completed
        { name: "checkpoint-500", step: 41, globalStep: 500, automatic: true, jobId: JOB, folder: `${FOLDER}/checkpoint-500` },
        { name: "best", step: 43, globalStep: 1000, automatic: false, jobId: JOB, folder: `${FOLDER}/best` },
        { name: "checkpoint_final", step: 44, globalStep: 1150, automatic: false, jobId: JOB, folder: `${FOLDER}/checkpoint_final` },
      ]);
    } finally {
      store.close();
    }
  });
});

describe("the step of HF's own checkpoints", () => {
  test("a checkpoint saved right after the last group of a step counts that step as completed", () => {
    const store = openStore(directory.database("last-group.db"));
    try {
      const run = createRun(store, { name: "run", kind: "train", config: {}, toolVersion: "test" });
      // A new run's job: steps 1, 2, … each posted 250 groups, so batch 499 is the last group of step 2.
      for (const step of [1, 2, 3]) {
        recordGroups(
          store,
          run.id,
          step,
          Array.from({ length: 250 }, (_, index) => ({
            exampleId: `e${index}`,
            module: "generate_answer",
            invocation: 0,
            batchId: (step - 1) * 250 + index,
            rewards: [0, 1],
          })),
        );
      }
      const status: GrpoStatus = {
        jobId: JOB,
        status: "running",
        currentModel: JOB,
        checkpoints: { checkpoint_final: record("checkpoint_final", 750) },
        lastCheckpoint: "checkpoint_final",
        pendingBatchIds: [],
      };
      recordJobCheckpoints(store, run.id, JOB, 0, status, 3);
      expect(checkpointsOf(store, run.id).map(({ name, step }) => ({ name, step }))).toEqual([
        { name: "checkpoint-500", step: 2 },
        { name: "checkpoint_final", step: 3 },
      ]);
    } finally {
      store.close();
    }
  });
});
