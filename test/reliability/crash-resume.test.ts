/**
 * Crash and resume: the compiled binary (or `bun src/cli/main.ts` without MUSIQUE_BIN) is killed
 * with SIGKILL at seeded random points during `evaluate` and `train`, resumed (and killed again), and the
 * database must hold every example exactly once, intact. Ctrl-C once stops gracefully and says
 * how to resume; twice exits 130 at once, even while requests hang.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dspyResponder, startFakeOpenAI, type FakeFault, type FakeOpenAI } from "../fakes/openai.ts";
import { startFakeArbor } from "../fakes/arbor.ts";
import { faultSchedule } from "../fakes/schedule.ts";
import {
  DEV_FILE,
  TRAIN_FILE,
  auditRun,
  evaluateArgs,
  predictionCount,
  queryAll,
  reportScenario,
  startMusique,
  temporaryDirectory,
  waitFor,
} from "./helpers.ts";
import { mulberry32 } from "../../src/data/random.ts";

const directory = temporaryDirectory("crash");
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of stops) await stop();
  rmSync(directory, { recursive: true, force: true });
});

/** A fake whose every reply takes a little while, so a kill lands mid-run. */
async function slowFake(): Promise<FakeOpenAI> {
  const answer = dspyResponder();
  const fake = await startFakeOpenAI({
    responder: async (request) => {
      await Bun.sleep(25);
      return answer(request);
    },
  });
  stops.push(() => fake.stop());
  return fake;
}

const EXAMPLES = 16;

describe("SIGKILL at random points, then --resume", () => {
  for (const seed of [11, 29, 47]) {
    test(`seed ${seed}: killed twice, resumed: every example exactly once, 4 calls each, integrity ok`, async () => {
      const fake = await slowFake();
      const rng = mulberry32(seed);
      const database = join(directory, `kill-${seed}.db`);
      const run = `kill-${seed}`;
      const outputDir = join(directory, "out");
      const kills: number[] = [];
      const base = { database, outputDir, run, baseUrl: fake.baseUrl, limit: EXAMPLES, extra: ["--concurrency", "4"] };
      const resumeArgs = ["evaluate", "--resume", run, "--db", database, "--base-url", fake.baseUrl, "--concurrency", "4"];
      for (const index of [0, 1]) {
        // Kill after 1 … half of the remaining examples are recorded (seeded).
        const recorded = predictionCount(database, run);
        const target = recorded + 1 + Math.floor(rng() * Math.max(1, (EXAMPLES - recorded) / 2));
        const child = startMusique(index === 0 ? evaluateArgs(base) : resumeArgs);
        await Promise.race([waitFor(() => predictionCount(database, run) >= target, `${target} predictions`), child.done]);
        child.process.kill("SIGKILL");
        const killed = await child.done;
        kills.push(predictionCount(database, run));
        if (killed.signal === null) {
          // It ended before the kill: it must have finished the run.
          expect(killed.stderr).not.toContain("ERROR");
          expect(killed.exitCode).toBe(0);
          break;
        }
      }
      const resumed = await startMusique(resumeArgs).done;
      expect(resumed.stderr).not.toContain("this is a bug");
      expect(resumed.exitCode).toBe(0);
      const audit = auditRun(database, run);
      expect(audit.status).toBe("completed");
      expect(audit.predictions).toBe(EXAMPLES);
      expect(audit.distinct).toBe(EXAMPLES);
      expect(audit.missing).toBe(0);
      expect(audit.calls).toBe(EXAMPLES * 4);
      expect(audit.byStatus).toEqual({ ok: EXAMPLES });
      expect(audit.integrity).toBe("ok");
      const lines = readFileSync(join(outputDir, run, "predictions.jsonl"), "utf8")
        .trim()
        .split("\n");
      expect(new Set(lines.map((line) => (JSON.parse(line) as { id: string }).id)).size).toBe(EXAMPLES);
      reportScenario(`crash / SIGKILL seed ${seed}`, {
        "kill points (predictions)": kills.join(" → "),
        "requests sent": fake.counts.chat,
        "final results": audit.predictions,
        "rows lost": audit.missing,
        duplicates: audit.predictions - audit.distinct,
      });
    }, 60_000);
  }
});

describe("Ctrl-C", () => {
  test("once while requests hang: stops gracefully, exit 130, says how to resume; the resume completes", async () => {
    const fake = await startFakeOpenAI({ schedule: faultSchedule<FakeFault>({ seed: 3, rate: 1, faults: [{ kind: "hang" }] }) });
    stops.push(() => fake.stop());
    const database = join(directory, "sigint-once.db");
    const run = "sigint-once";
    const outputDir = join(directory, "out");
    const child = startMusique(evaluateArgs({ database, outputDir, run, baseUrl: fake.baseUrl, limit: 6, extra: ["--concurrency", "2"] }));
    await waitFor(() => fake.counts.chat >= 2, "requests in flight");
    child.process.kill("SIGINT");
    const stopped = await child.done;
    expect(stopped.exitCode).toBe(130);
    expect(stopped.stderr).toContain("press Ctrl-C again to exit at once");
    expect(stopped.stderr).toContain(`musique evaluate --resume ${run} --db ${database}`);
    expect(auditRun(database, run).status).toBe("interrupted");
    expect(existsSync(join(outputDir, run, "scores.json"))).toBe(false);

    fake.setSchedule(undefined);
    const resumed = await startMusique(["evaluate", "--resume", run, "--db", database, "--base-url", fake.baseUrl]).done;
    expect(resumed.exitCode).toBe(0);
    const audit = auditRun(database, run);
    expect(audit.status).toBe("completed");
    expect(audit.distinct).toBe(6);
    expect(audit.missing).toBe(0);
  }, 60_000);

  test("twice in quick succession while requests hang: exits 130 at once, run not marked completed", async () => {
    const fake = await startFakeOpenAI({ schedule: faultSchedule<FakeFault>({ seed: 5, rate: 1, faults: [{ kind: "hang" }] }) });
    stops.push(() => fake.stop());
    const database = join(directory, "sigint-twice.db");
    const run = "sigint-twice";
    const child = startMusique(
      evaluateArgs({ database, outputDir: join(directory, "out"), run, baseUrl: fake.baseUrl, limit: 6, extra: ["--request-timeout", "600"] }),
      { limitMs: 20_000 },
    );
    await waitFor(() => fake.counts.chat >= 1, "a request in flight");
    child.process.kill("SIGINT");
    child.process.kill("SIGINT");
    const stopped = await child.done;
    expect(stopped.signal).toBeNull(); // not killed by the test's time limit
    expect(stopped.exitCode).toBe(130);
    expect(auditRun(database, run).status).not.toBe("completed");
  }, 30_000);
});

describe("train: SIGKILL at random points, then --resume", () => {
  for (const seed of [5, 23]) {
    test(`seed ${seed}: killed after a random number of rollout requests; the resume completes every step exactly once`, async () => {
      const answer = dspyResponder();
      const arbor = startFakeArbor({
        responder: async (request) => {
          await Bun.sleep(3);
          return answer(request);
        },
      });
      stops.push(() => arbor.stop());
      const database = join(directory, `train-kill-${seed}.db`);
      const run = `train-kill-${seed}`;
      const steps = 4;
      const killAfter = 20 + Math.floor(mulberry32(seed)() * 200);
      const args = [
        "train",
        ...["--datasets", TRAIN_FILE, "--eval-datasets", DEV_FILE, "--train-size", "20", "--dev-size", "4"],
        ...["--num-train-steps", String(steps), "--num-examples-per-step", "2", "--num-steps-for-val", "2", "--no-lora"],
        ...["--retriever", "lexical", "--arbor-url", arbor.baseUrl, "--concurrency", "8"],
        ...["--db", database, "--output-dir", join(directory, "out"), "--run-name", run],
      ];
      const child = startMusique(args);
      await Promise.race([waitFor(() => arbor.requestsTo("chat").length >= killAfter, `${killAfter} chat requests`), child.done]);
      child.process.kill("SIGKILL");
      await child.done;
      const stepsBefore = queryAll<{ n: number }>(database, "SELECT COUNT(*) AS n FROM training_steps WHERE status = 'completed'")[0]?.n ?? 0;

      const resumed = await startMusique(["train", "--resume", run, "--db", database, "--arbor-url", arbor.baseUrl]).done;
      expect(resumed.stderr).not.toContain("this is a bug");
      expect(resumed.exitCode).toBe(0);
      expect(queryAll(database, "SELECT step, status FROM training_steps ORDER BY step")).toEqual(
        Array.from({ length: steps }, (_, index) => ({ step: index + 1, status: "completed" })),
      );
      const rollouts = queryAll<{ n: number; keys: number }>(
        database,
        "SELECT COUNT(*) AS n, COUNT(DISTINCT step || ':' || example_id || ':' || rollout_index) AS keys FROM rollouts",
      )[0];
      expect(rollouts).toEqual({ n: steps * 2 * 8, keys: steps * 2 * 8 });
      for (const row of queryAll<{ n: number; d: number }>(database, "SELECT COUNT(*) AS n, COUNT(DISTINCT example_id) AS d FROM predictions GROUP BY step")) {
        expect(row).toEqual({ n: 4, d: 4 });
      }
      expect(queryAll(database, "PRAGMA integrity_check")).toEqual([{ integrity_check: "ok" }]);
      expect(queryAll(database, "SELECT status FROM runs")).toEqual([{ status: "completed" }]);
      reportScenario(`crash / train SIGKILL seed ${seed}`, {
        "killed after chat requests": killAfter,
        "steps completed before the kill": stepsBefore,
        "final results": `${steps} steps, ${rollouts?.n} rollouts`,
        "rows lost": steps * 2 * 8 - (rollouts?.keys ?? 0),
      });
    }, 60_000);
  }
});
