/**
 * `musique train` against a fake Arbor with a seeded fault schedule: 10 % infrastructure faults
 * on the rollout/validation chat route (latency, 429, 500/502/503, HTTP 200 `null`, resets, hangs
 * past --request-timeout), 500s and resets on the GRPO status route (safe to repeat; a step is
 * sent again only when the connection was refused, see test/grpo/arbor-calls.test.ts), and 5 %
 * completions that break the ChatAdapter format.
 * Training must finish; every step, rollout and validation prediction is recorded exactly once.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startFakeArbor, type ArborFault } from "../fakes/arbor.ts";
import { dspyCompletion, dspyResponder, userFields, type FakeResponder } from "../fakes/openai.ts";
import { faultSchedule } from "../fakes/schedule.ts";
import { DEV_FILE, TRAIN_FILE, queryAll, queryOne, reportScenario, startMusique, temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory("train-faults");
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of stops) await stop();
  rmSync(directory, { recursive: true, force: true });
});

type FormatFault = "malformed" | "missing-marker" | "empty" | "extra-field";
const BREAKING: ReadonlySet<FormatFault> = new Set(["malformed", "missing-marker", "empty"]);

/** Answers that vary between rollouts (so groups have signal), with seeded format faults. */
function faultyResponder(seed: number): { responder: FakeResponder; injected: readonly FormatFault[] } {
  const base = dspyResponder();
  const schedule = faultSchedule<FormatFault>({ seed, rate: 0.05, faults: ["malformed", "missing-marker", "empty", "extra-field"] });
  let counter = 0;
  const varying: FakeResponder = (request) => {
    const user = request.messages.at(-1)?.content ?? "";
    if (!user.includes("[[ ## all_information ## ]]") || user.includes("has_collected_enough_info")) return base(request);
    const lines = (userFields(user).all_information ?? "").split("\n");
    counter += 1;
    return dspyCompletion({ reasoning: "From the collected information.", answer: counter % 3 === 0 ? "unknown" : (lines[counter % lines.length] ?? "") });
  };
  const responder: FakeResponder = async (request) => {
    const fault = schedule.next();
    const text = await varying(request);
    const content = typeof text === "string" ? text : (text.content ?? "");
    if (fault === "malformed") return "Sure! The answer is 42.";
    if (fault === "missing-marker") return content.replace(/^\[\[ ## \w+ ## \]\]\n?/gm, "");
    if (fault === "empty") return "";
    if (fault === "extra-field") return `[[ ## confidence ## ]]\nhigh\n\n${content}`;
    return text;
  };
  return { responder, injected: schedule.injected };
}

const CHAT_FAULTS: Array<[ArborFault, number]> = [
  [{ route: "chat", delayMs: 300 }, 1],
  [{ route: "chat", status: 429, body: { detail: "slow down" } }, 1],
  [{ route: "chat", status: 500 }, 1],
  [{ route: "chat", status: 502 }, 1],
  [{ route: "chat", status: 503 }, 1],
  [{ route: "chat", status: 200, body: null }, 2], // Arbor's failed completion
  [{ route: "chat", reset: true }, 2],
  [{ route: "chat", delayMs: 1500, status: 503 }, 1], // a hang past --request-timeout 1
  [{ route: "status", reset: true }, 1],
  [{ route: "status", status: 500 }, 1],
];

describe("train under injected faults", () => {
  test("Arbor chat 10 % infra + 5 % format faults, status 500s and resets: training finishes, nothing lost or duplicated", async () => {
    const schedule = faultSchedule<ArborFault>({
      seed: 9001,
      rate: 0.1,
      faults: CHAT_FAULTS.map(([fault]) => fault),
      weights: CHAT_FAULTS.map(([, weight]) => weight),
    });
    const format = faultyResponder(31);
    const arbor = startFakeArbor({ schedule, responder: format.responder });
    stops.push(() => arbor.stop());
    const database = join(directory, "train.db");
    const run = "train-faults";
    const steps = 3;
    const perStep = 2;
    const devSize = 6;
    const args = [
      "train",
      ...["--datasets", TRAIN_FILE, "--eval-datasets", DEV_FILE, "--train-size", "20", "--dev-size", String(devSize)],
      ...["--num-train-steps", String(steps), "--num-examples-per-step", String(perStep), "--num-steps-for-val", "2"],
      // The JSON fallback is off so that each broken reply is exactly one format failure.
      ...["--retriever", "lexical", "--arbor-url", arbor.baseUrl, "--request-timeout", "1", "--concurrency", "16", "--no-json-fallback"],
      ...["--db", database, "--output-dir", join(directory, "out"), "--run-name", run],
    ];
    const result = await startMusique(args, { limitMs: 90_000 }).done;
    expect(result.stderr).not.toContain("this is a bug");
    expect(result.exitCode).toBe(0);

    const runRow = queryOne<{ id: number; status: string }>(database, "SELECT id, status FROM runs WHERE name = ?", run);
    expect(runRow.status).toBe("completed");
    const stepRows = queryAll<{ step: number; status: string }>(database, "SELECT step, status FROM training_steps ORDER BY step");
    expect(stepRows).toEqual(Array.from({ length: steps }, (_, index) => ({ step: index + 1, status: "completed" })));
    const rollouts = queryOne<{ n: number; distinct_keys: number; format: number }>(
      database,
      "SELECT COUNT(*) AS n, COUNT(DISTINCT step || ':' || example_id || ':' || rollout_index) AS distinct_keys, SUM(format_failures > 0) AS format FROM rollouts",
    );
    expect(rollouts.n).toBe(steps * perStep * 8);
    expect(rollouts.distinct_keys).toBe(rollouts.n);
    const validations = queryAll<{ step: number; n: number; distinct_examples: number }>(
      database,
      "SELECT step, COUNT(*) AS n, COUNT(DISTINCT example_id) AS distinct_examples FROM predictions GROUP BY step ORDER BY step",
    );
    expect(validations.length).toBeGreaterThan(0);
    for (const validation of validations) expect([validation.n, validation.distinct_examples]).toEqual([devSize, devSize]);
    const validationFormat = queryOne<{ n: number }>(database, "SELECT COUNT(*) AS n FROM predictions WHERE status = 'format_failure'").n;
    const breaking = format.injected.filter((fault) => BREAKING.has(fault)).length;
    // Every broken completion is scored as a format failure (rollout or validation), never retried.
    expect(rollouts.format + validationFormat).toBe(breaking);
    const calls = queryOne<{ calls: number; attempts: number }>(database, "SELECT COUNT(*) AS calls, SUM(attempts) AS attempts FROM module_calls");
    const chatRequests = arbor.requestsTo("chat").length;
    // Every chat request Arbor saw is one recorded attempt of a module call (rollout or validation).
    expect(calls.attempts).toBe(chatRequests);
    const integrity = queryOne<{ integrity_check: string }>(database, "PRAGMA integrity_check").integrity_check;
    expect(integrity).toBe("ok");
    reportScenario("train / Arbor faults (seeds 9001, 31)", {
      "chat requests": chatRequests,
      "step requests": arbor.requestsTo("step").length,
      "faults injected": `${schedule.injected.length} ${JSON.stringify(schedule.countsByKind())}; format ${format.injected.length} (${breaking} breaking)`,
      "LM attempts recorded": calls.attempts,
      "LM retries": calls.attempts - calls.calls,
      "final results": `${steps} steps, ${rollouts.n} rollouts (${rollouts.format} format failures), ${validations.length}×${devSize} validation predictions`,
      "rows lost": steps * perStep * 8 - rollouts.distinct_keys,
    });
  }, 120_000);
});
