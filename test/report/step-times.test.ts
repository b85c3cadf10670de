import { describe, expect, test } from "bun:test";
import { trainingTimesLine, trainingTimesOf } from "../../src/report/step-times.ts";
import type { TrainingStepSummary } from "../../src/store/reports.ts";

function row(
  step: number,
  finishedAt: string,
  times: { rollout: number | null; musique: number | null; arbor: number | null },
  status: TrainingStepSummary["status"] = "completed",
): TrainingStepSummary {
  return {
    step,
    status,
    meanReward: 0.5,
    rewardStd: 0.1,
    formatFailures: 0,
    numGroups: 8,
    metricsJson: null,
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt,
    rolloutSeconds: times.rollout,
    waitingForArborSeconds: times.musique,
    arborWaitingSeconds: times.arbor,
  };
}

function line(times: ReturnType<typeof trainingTimesOf>): string {
  if (!times) throw new Error("no times");
  return trainingTimesLine(times);
}

describe("where a training run's time went (report)", () => {
  test("totals per kind; the trainer's waiting share counts the steps after the first over the time after the first", () => {
    const times = trainingTimesOf([
      row(1, "2026-01-01T00:01:00.000Z", { rollout: 10, musique: 0, arbor: 12 }),
      row(2, "2026-01-01T00:02:00.000Z", { rollout: 8, musique: 50, arbor: 3 }),
      row(3, "2026-01-01T00:03:00.000Z", { rollout: 9, musique: 48, arbor: 0 }),
      row(4, "2026-01-01T00:03:10.000Z", { rollout: 1, musique: null, arbor: null }, "running"),
    ]);
    expect(times).toMatchObject({ rolloutSeconds: 27, waitingForArborSeconds: 98, arborWaitingSeconds: 15 });
    // (3 + 0) s over the 120 s from step 1's end to step 3's end
    expect(times?.arborWaitingShare).toBeCloseTo(0.025, 6);
    expect(line(times)).toBe(
      "  time over 3 steps: rollouts 27.0 s (9.0 s/step), musique waited for Arbor 98.0 s, Arbor waited for musique 15.0 s (2.5 % of the time after step 1)",
    );
  });

  test("a dry run has rollout times and no waits", () => {
    const times = trainingTimesOf([row(1, "2026-01-01T00:01:00.000Z", { rollout: 4, musique: null, arbor: null })]);
    expect(times).toMatchObject({ rolloutSeconds: 4, waitingForArborSeconds: null, arborWaitingSeconds: null, arborWaitingShare: null });
    expect(line(times)).toBe("  time over 1 step: rollouts 4.0 s (4.0 s/step)");
  });

  test("steps recorded before the times were stored give no line", () => {
    expect(trainingTimesOf([row(1, "2026-01-01T00:01:00.000Z", { rollout: null, musique: null, arbor: null })])).toBeNull();
  });
});
