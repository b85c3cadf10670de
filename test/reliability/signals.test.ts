/**
 * SIGTERM (Slurm, Kubernetes, Docker at a time limit or pre-emption) and SIGHUP (the terminal
 * went away) are handled like Ctrl-C, with real signals sent to musique (the compiled binary
 * under `bun run test`): the run is marked interrupted, the work in flight is recorded, the Arbor
 * job is terminated or cancelled per --on-interrupt, the resume command is printed, and the exit
 * code is the signal's (143, 129; README "Exit codes"). A second signal exits at once.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startFakeArbor } from "../fakes/arbor.ts";
import { dspyResponder, startFakeOpenAI, type FakeFault } from "../fakes/openai.ts";
import { faultSchedule } from "../fakes/schedule.ts";
import { closedUrl } from "../fakes/tei.ts";
import { trainArgs } from "../helpers/train.ts";
import { auditRun, evaluateArgs, queryAll, startMusique, temporaryDirectory, waitFor } from "./helpers.ts";

const directory = temporaryDirectory("signals");
const outputDir = join(directory, "out");
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of stops) await stop();
  rmSync(directory, { recursive: true, force: true });
});

/** An LM whose every request hangs until the test lets go. */
async function hangingLm() {
  const fake = await startFakeOpenAI({ schedule: faultSchedule<FakeFault>({ seed: 7, rate: 1, faults: [{ kind: "hang" }] }) });
  stops.push(() => fake.stop());
  return fake;
}

describe("evaluate stopped by a signal", () => {
  for (const [signal, code] of [
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    test(`${signal} while requests hang: run marked interrupted, resume command printed, exit ${code}; the resume completes`, async () => {
      const fake = await hangingLm();
      const database = join(directory, `${signal}.db`);
      const run = `evaluate-${signal}`;
      const child = startMusique(evaluateArgs({ database, outputDir, run, baseUrl: fake.baseUrl, limit: 6, extra: ["--concurrency", "2"] }));
      await waitFor(() => fake.counts.chat >= 2, "requests in flight");
      child.process.kill(signal);
      const stopped = await child.done;
      expect(stopped.signal).toBeNull(); // it exited by itself, not by the test's time limit
      expect(stopped.exitCode).toBe(code);
      expect(stopped.stderr).toContain(`${signal}: stopping after the work in flight is recorded`);
      expect(stopped.stderr).toContain(`musique evaluate --resume ${run} --db ${database}`);
      expect(stopped.stderr).not.toContain("this is a bug");
      expect(auditRun(database, run).status).toBe("interrupted");
      expect(existsSync(join(outputDir, run, "scores.json"))).toBe(false);

      fake.setSchedule(undefined);
      const resumed = await startMusique(["evaluate", "--resume", run, "--db", database, "--base-url", fake.baseUrl]).done;
      expect(resumed.exitCode).toBe(0);
      const audit = auditRun(database, run);
      expect([audit.status, audit.distinct, audit.missing]).toEqual(["completed", 6, 0]);
    }, 60_000);
  }
});

describe("train stopped by a signal", () => {
  for (const [signal, code, choice] of [
    ["SIGTERM", 143, "terminate"],
    ["SIGHUP", 129, "cancel"],
  ] as const) {
    test(`${signal} mid-training: the Arbor job is ${choice === "terminate" ? "terminated" : "cancelled"} (--on-interrupt ${choice}), run interrupted, exit ${code}`, async () => {
      const answer = dspyResponder();
      const arbor = startFakeArbor({
        responder: async (request) => {
          await Bun.sleep(5);
          return answer(request);
        },
      });
      stops.push(() => arbor.stop());
      const database = join(directory, `train-${signal}.db`);
      const run = `train-${signal}`;
      const args = trainArgs({ arborUrl: arbor.baseUrl, database, outputDir, run, extra: ["--num-train-steps", "50", "--on-interrupt", choice] });
      const child = startMusique(args);
      await waitFor(() => arbor.requestsTo("step").length >= 2, "two GRPO steps posted");
      child.process.kill(signal);
      const stopped = await child.done;
      expect(stopped.signal).toBeNull();
      expect(stopped.exitCode).toBe(code);
      expect(stopped.stderr).toContain(`musique train --resume ${run} --db ${database}`);
      expect(arbor.requestsTo(choice)).toHaveLength(1);
      expect(queryAll<{ status: string }>(database, "SELECT status FROM runs")).toEqual([{ status: "interrupted" }]);
    }, 60_000);
  }
});

describe("a second signal", () => {
  test("exits at once (143) while the Arbor job's terminate still hangs; the run is already marked interrupted", async () => {
    const arbor = startFakeArbor({ responder: dspyResponder(), faults: [{ route: "terminate", delayMs: 60_000 }] });
    stops.push(() => arbor.stop());
    const database = join(directory, "twice.db");
    const run = "sigterm-twice";
    const child = startMusique(trainArgs({ arborUrl: arbor.baseUrl, database, outputDir, run, extra: ["--num-train-steps", "50"] }), { limitMs: 30_000 });
    await waitFor(() => arbor.requestsTo("step").length >= 1, "a GRPO step posted");
    child.process.kill("SIGTERM");
    await waitFor(() => arbor.requestsTo("terminate").length >= 1, "the terminate request sent (it hangs)");
    child.process.kill("SIGTERM");
    const stopped = await child.done;
    expect(stopped.signal).toBeNull(); // not killed by the test's time limit
    expect(stopped.exitCode).toBe(143);
    expect(stopped.stderr).toContain("SIGTERM again: exiting at once");
    expect(queryAll<{ status: string }>(database, "SELECT status FROM runs")).toEqual([{ status: "interrupted" }]);
  }, 40_000);
});

describe("other commands", () => {
  test("serve rerank stops cleanly on SIGHUP (exit 0)", async () => {
    const port = Number(new URL(await closedUrl()).port);
    const child = startMusique(["serve", "rerank", "--host", "127.0.0.1", "--port", String(port)]);
    await waitFor(() => {
      // Bun's fetch is async; poll the port through a synchronous connect attempt instead.
      const probe = Bun.spawnSync(["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`]);
      return probe.exitCode === 0;
    }, "the service listening");
    child.process.kill("SIGHUP");
    const stopped = await child.done;
    expect(stopped.exitCode).toBe(0);
    expect(stopped.stderr).toContain("interrupted by SIGHUP: stopping the rerank service");
    expect(stopped.stderr).toContain("rerank service stopped");
  }, 30_000);
});
