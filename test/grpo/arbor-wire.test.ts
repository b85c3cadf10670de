import { describe, expect, test } from "bun:test";
import { parseGrpoStatus } from "../../src/grpo/arbor-wire.ts";

describe("parseGrpoStatus", () => {
  test("reads HEAD checkpoint records", () => {
    const parsed = parseGrpoStatus({
      job_id: "J",
      status: "running",
      current_model: "J",
      checkpoints: {
        step_2: {
          checkpoint_name: "step_2",
          checkpoint_dir: "/home/u/.arbor/storage/J/checkpoints/step_2",
          global_step: 2,
          requested: true,
          metadata: { score: 0.61 },
          timestamp: 1763424123.4,
        },
      },
      last_checkpoint: "step_2",
      pending_batch_ids: [3, 2],
    });
    expect(parsed).toEqual({
      ok: true,
      status: {
        jobId: "J",
        status: "running",
        currentModel: "J",
        checkpoints: {
          step_2: {
            name: "step_2",
            directory: "/home/u/.arbor/storage/J/checkpoints/step_2",
            globalStep: 2,
            requested: true,
            metadata: { score: 0.61 },
            timestamp: 1763424123.4,
          },
        },
        lastCheckpoint: "step_2",
        pendingBatchIds: [2, 3],
      },
    });
  });

  test("tolerates checkpoint paths given as strings (Arbor ≤ 0.2.10)", () => {
    const parsed = parseGrpoStatus({
      job_id: "J",
      status: "created",
      current_model: "J",
      checkpoints: { step_2: "/home/u/.arbor/storage/J/models/checkpoints/step_2/" },
      last_checkpoint: "step_2",
    });
    expect(parsed.ok && parsed.status.checkpoints.step_2).toEqual({
      name: "step_2",
      directory: "/home/u/.arbor/storage/J/models/checkpoints/step_2/",
      globalStep: null,
      requested: true,
      metadata: null,
      timestamp: null,
    });
    expect(parsed.ok && parsed.status.pendingBatchIds).toEqual([]);
  });

  test("a body without job_id is refused with the field named", () => {
    const parsed = parseGrpoStatus({ current_model: "J" });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problem).toContain("job_id");
  });

  test("null is refused", () => {
    expect(parseGrpoStatus(null).ok).toBe(false);
  });
});
