/**
 * README "What happens when…": `--resume` of a run that another live musique is still running is
 * refused (it would run the same examples twice, at twice the LM cost); once that process stops —
 * cleanly, or killed with SIGKILL — the resume goes ahead. The lock is pid + host + heartbeat in
 * the database (src/run/lock.ts).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { startFakeOpenAI, type FakeFault } from "../fakes/openai.ts";
import { faultSchedule } from "../fakes/schedule.ts";
import { runCli } from "../helpers/cli.ts";
import { holderAlive, STALE_SECONDS } from "../../src/run/lock.ts";
import { auditRun, evaluateArgs, queryAll, startMusique, temporaryDirectory, waitFor } from "./helpers.ts";

const directory = temporaryDirectory("run-lock");
const outputDir = join(directory, "out");
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of stops) await stop();
  rmSync(directory, { recursive: true, force: true });
});

async function hangingLm() {
  const fake = await startFakeOpenAI({ schedule: faultSchedule<FakeFault>({ seed: 9, rate: 1, faults: [{ kind: "hang" }] }) });
  stops.push(() => fake.stop());
  return fake;
}

describe("--resume of a run that another process is running", () => {
  test("refused with exit 2 naming that process and the fix, before any request; after it stops, the resume completes", async () => {
    const fake = await hangingLm();
    const database = join(directory, "busy.db");
    const run = "busy";
    const child = startMusique(evaluateArgs({ database, outputDir, run, baseUrl: fake.baseUrl, limit: 4, extra: ["--concurrency", "2"] }));
    await waitFor(() => fake.counts.chat >= 2, "requests in flight");
    const requestsBefore = fake.requests.length;

    const second = await runCli(["evaluate", "--resume", run, "--db", database, "--base-url", fake.baseUrl]);
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toContain(`run "${run}" is being run by another musique (pid ${child.process.pid} on ${hostname()}`);
    expect(second.stderr).toContain(`kill ${child.process.pid}`);
    expect(second.stderr).toContain(`musique evaluate --resume ${run} --db ${database}`);
    expect(fake.requests.length).toBe(requestsBefore); // the refused resume sent nothing
    expect(auditRun(database, run).status).toBe("running");

    child.process.kill("SIGINT");
    expect((await child.done).exitCode).toBe(130);
    expect(queryAll(database, "SELECT * FROM run_locks")).toEqual([]); // released on the way out
    fake.setSchedule(undefined);
    const resumed = await runCli(["evaluate", "--resume", run, "--db", database, "--base-url", fake.baseUrl]);
    expect(resumed.exitCode).toBe(0);
    const audit = auditRun(database, run);
    expect([audit.status, audit.distinct, audit.predictions, audit.missing]).toEqual(["completed", 4, 4, 0]);
  }, 60_000);

  test("a run whose process was killed with SIGKILL is resumed at once (its lock is stale)", async () => {
    const fake = await hangingLm();
    const database = join(directory, "killed.db");
    const run = "killed";
    const child = startMusique(evaluateArgs({ database, outputDir, run, baseUrl: fake.baseUrl, limit: 3 }));
    await waitFor(() => fake.counts.chat >= 1, "a request in flight");
    child.process.kill("SIGKILL");
    await child.done;
    expect(queryAll<{ pid: number }>(database, "SELECT pid FROM run_locks")).toEqual([{ pid: child.process.pid }]);
    fake.setSchedule(undefined);
    const resumed = await runCli(["evaluate", "--resume", run, "--db", database, "--base-url", fake.baseUrl]);
    expect(resumed.exitCode).toBe(0);
    expect(auditRun(database, run).status).toBe("completed");
  }, 60_000);
});

describe("when a lock's holder counts as gone", () => {
  const lock = (pid: number, host: string, secondsAgo: number) => {
    const at = new Date(Date.now() - secondsAgo * 1000).toISOString();
    return { runId: 1, pid, host, acquiredAt: at, heartbeatAt: at };
  };

  test("this host: alive while its process exists and beats; gone once the process is gone", () => {
    expect(holderAlive(lock(process.pid, hostname(), 1))).toBe(true);
    const exited = Bun.spawnSync(["true"]).pid;
    expect(holderAlive(lock(exited, hostname(), 1))).toBe(false);
  });

  test(`another host: alive while its heartbeat is younger than ${STALE_SECONDS} s`, () => {
    expect(holderAlive(lock(4242, "another-node", 2))).toBe(true);
    expect(holderAlive(lock(4242, "another-node", STALE_SECONDS + 1))).toBe(false);
  });

  test("a process that exists but stopped beating (a reused pid) is gone", () => {
    expect(holderAlive(lock(process.pid, hostname(), STALE_SECONDS + 1))).toBe(false);
  });
});
