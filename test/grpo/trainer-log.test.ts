import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { harvestTrainerLog } from "../../src/grpo/trainer-log.ts";
import { openStore } from "../../src/store/database.ts";
import { createRun } from "../../src/store/runs.ts";
import { trainerLogReadsOf, trainerMetricsByStep } from "../../src/store/trainer-logs.ts";
import { recordGroups } from "../../src/store/training.ts";
import { temporaryDirectory } from "../store/helpers.ts";

const directory = temporaryDirectory();
afterAll(() => directory.remove());

/** A checkpoint folder whose trainer_state.json is `text` (as Python's json writes it). */
function folder(name: string, text: string): string {
  const path = join(directory.path, name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, "trainer_state.json"), text);
  return path;
}

describe("reading the trainer's log of a job", () => {
  test("a resumed run's second job: optimizer step N is the group with batch id N − 1 among that job's steps, not the first job's", () => {
    const store = openStore(directory.database("resumed.db"));
    try {
      const run = createRun(store, { name: "run", kind: "train", config: {}, toolVersion: "test" });
      // Job 1 trained steps 1–3, job 2 (started after 3 steps) steps 4–5; each step posted 2 groups, batch ids restart per job.
      for (const step of [1, 2, 3, 4, 5]) {
        const first = step <= 3 ? (step - 1) * 2 : (step - 4) * 2;
        recordGroups(
          store,
          run.id,
          step,
          [0, 1].map((index) => ({ exampleId: `e${index}`, module: "generate_answer", invocation: 0, batchId: first + index, rewards: [0, 1] })),
        );
      }
      const history = [1, 2, 3, 4].map((step) => ({ step, loss: step / 10, grad_norm: 1, learning_rate: 2e-5, kl: 0.01, epoch: 0.1 }));
      const path = folder("job-2-final", JSON.stringify({ global_step: 4, log_history: history }));
      expect(harvestTrainerLog(store, run.id, { jobId: "job-2", startStep: 3 }, { name: "checkpoint_final", directory: path })).toBe(4);
      expect(trainerMetricsByStep(store, run.id).map(({ step, entries, loss }) => ({ step, entries, loss }))).toEqual([
        { step: 4, entries: 2, loss: expect.closeTo(0.15, 12) },
        { step: 5, entries: 2, loss: expect.closeTo(0.35, 12) },
      ]);
    } finally {
      store.close();
    }
  });

  test("a diverged grad norm written by Python as NaN is read as missing, not as an unreadable file", () => {
    const store = openStore(directory.database("nan.db"));
    try {
      const run = createRun(store, { name: "run", kind: "train", config: {}, toolVersion: "test" });
      recordGroups(store, run.id, 1, [{ exampleId: "e", module: "generate_answer", invocation: 0, batchId: 0, rewards: [0, 1] }]);
      const path = folder(
        "nan",
        '{\n  "global_step": 1,\n  "log_history": [\n    {\n      "grad_norm": NaN,\n      "learning_rate": 2e-05,\n      "loss": 0.5,\n      "step": 1\n    }\n  ]\n}\n',
      );
      expect(harvestTrainerLog(store, run.id, { jobId: "job", startStep: 0 }, { name: "checkpoint_final", directory: path })).toBe(1);
      expect(trainerMetricsByStep(store, run.id)).toEqual([{ step: 1, entries: 1, loss: 0.5, kl: null, gradNorm: null, learningRate: 2e-5 }]);
      expect(trainerLogReadsOf(store, run.id)[0]?.problem).toBeNull();
    } finally {
      store.close();
    }
  });

  test("a checkpoint saved before any optimizer step (the baseline's best) is no problem; a history without loss or KL is one", () => {
    const store = openStore(directory.database("empty.db"));
    try {
      const run = createRun(store, { name: "run", kind: "train", config: {}, toolVersion: "test" });
      const empty = folder("empty", JSON.stringify({ global_step: 0, log_history: [] }));
      expect(harvestTrainerLog(store, run.id, { jobId: "job", startStep: 0 }, { name: "best", directory: empty })).toBe(0);
      expect(trainerLogReadsOf(store, run.id)[0]?.problem).toBeNull();
      const other = folder("other", JSON.stringify({ global_step: 9, log_history: [{ step: 9, train_runtime: 12.5 }] }));
      harvestTrainerLog(store, run.id, { jobId: "job", startStep: 0 }, { name: "checkpoint_final", directory: other });
      expect(trainerLogReadsOf(store, run.id)[0]?.problem).toBe(
        `${join(other, "trainer_state.json")} has 1 log_history entries, none with loss, KL, grad norm or learning rate (the trainer logs every logging_steps optimizer steps)`,
      );
    } finally {
      store.close();
    }
  });
});
