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
      // The job started at step 40 (a resume); each step posted 300 groups with batch ids 0, 1, 2, …
      for (const step of [40, 41, 42, 43]) {
        recordGroups(
          store,
          run.id,
          step,
          Array.from({ length: 300 }, (_, index) => ({
            exampleId: `e${index}`,
            module: "generate_answer",
            invocation: 0,
            batchId: (step - 40) * 300 + index,
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
      const rows = checkpointsOf(store, run.id).map(({ name, step, globalStep, automatic, jobId, directory: folder }) => ({ name, step, globalStep, automatic, jobId, folder }));
      expect(rows).toEqual([
        // checkpoint-500: the trainer's 500th group is batch 499, posted in step 41
        { name: "checkpoint-500", step: 41, globalStep: 500, automatic: true, jobId: JOB, folder: `${FOLDER}/checkpoint-500` },
        { name: "best", step: 43, globalStep: 1000, automatic: false, jobId: JOB, folder: `${FOLDER}/best` },
        { name: "checkpoint_final", step: 44, globalStep: 1150, automatic: false, jobId: JOB, folder: `${FOLDER}/checkpoint_final` },
      ]);
    } finally {
      store.close();
    }
  });
});
