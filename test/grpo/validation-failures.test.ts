/**
 * Validation during training counts service failures as evaluate does (README "What happens
 * when…", issue 14 item 2): a dev example whose LM call failed has no result; the validation's
 * means (the reward checkpoints follow) are over the examples with one, and n_examples says how
 * many; the failures are recorded as lm_error, never scored 0.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadExamples, type Example } from "../../src/data/index.ts";
import { evaluateOnDev } from "../../src/grpo/evaluation.ts";
import { runOnce, type ProgramSettings } from "../../src/grpo/rollouts.ts";
import { createChatClient } from "../../src/lm/client.ts";
import { log } from "../../src/log.ts";
import { averageOf } from "../../src/metrics/index.ts";
import { GoldenRetriever } from "../../src/retrieval/golden.ts";
import { runAllExamples } from "../../src/run/examples.ts";
import { openStore } from "../../src/store/database.ts";
import { createRun } from "../../src/store/runs.ts";
import { inlineWriter } from "../../src/store/writer.ts";
import { startFakeOpenAI, type FakeFault } from "../fakes/openai.ts";

let examples: Example[];
let directory: string;
beforeAll(async () => {
  examples = (await loadExamples("sample", { seed: 89, noiseRate: 1, skipInvalid: false })).examples;
  directory = mkdtempSync(join(tmpdir(), "musique-validation-"));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

test("a validation leaves dev examples that failed on service errors out of its means and n_examples (not scored 0)", async () => {
  const lm = await startFakeOpenAI({});
  const store = openStore(join(directory, "train.db"));
  const logged: string[] = [];
  const reporter = { log: (entry: { args: unknown[] }) => void logged.push(entry.args.map(String).join(" ")) };
  log.addReporter(reporter);
  try {
    // One example at a time: examples 1 and 3 fail on their first call (HTTP 503, no retries), the others' 4 calls succeed.
    const faults: FakeFault[] = [];
    for (let index = 0; index < 4; index++) {
      if (index % 2 === 1) faults.push({ kind: "status", status: 503 });
      else faults.push(...Array.from({ length: 4 }, (): FakeFault => ({ kind: "latency", ms: 0 })));
    }
    lm.setFaults(faults);
    const run = createRun(store, { name: "validation-failures", kind: "train", config: {}, toolVersion: "test" });
    const client = createChatClient({
      baseUrls: [lm.baseUrl],
      apiKey: "x",
      model: "job-1",
      temperature: 0,
      maxTokens: 4000,
      maxRetries: 0,
      requestTimeoutSeconds: 5,
      concurrency: 1,
    });
    const settings: ProgramSettings = {
      client,
      retriever: new GoldenRetriever(),
      topN: 2,
      numHops: 2,
      maxHops: 4,
      temperature: 0,
      maxTokens: 4000,
      model: "job-1",
      reward: "v1",
      concurrency: 1,
    };
    const dev = examples.slice(0, 4);
    let scoredRewards: number[] = [];
    const scores = await evaluateOnDev(store, run.id, 0, dev, settings, new AbortController().signal, null, async (step, devExamples, program, signal) => {
      const runs = await runAllExamples({
        runId: run.id,
        step,
        examples: devExamples,
        program: (example, exampleSignal) => runOnce(example, program, exampleSignal),
        reward: program.reward,
        concurrency: program.concurrency,
        writer: inlineWriter(store),
        signal,
        endpoints: { lm: lm.baseUrl, retrieval: "golden" },
        resumeCommand: "musique train --resume validation-failures",
      });
      scoredRewards = runs.filter((item) => item.result.failure?.kind !== "service").map((item) => item.score.reward);
      return runs;
    });
    expect(scores).toMatchObject({ examples: 2, lmErrors: 2 });
    expect(logged.join("\n")).toContain("on 2 dev examples; 2 of 4 dev examples have no result (2 LM errors) and are left out");
    expect(scoredRewards).toHaveLength(2);
    expect(scores.reward).toBeCloseTo(averageOf(scoredRewards), 10);
    const row = store.database.query("SELECT n_examples, reward FROM validations WHERE run_id = ?").get(run.id) as { n_examples: number; reward: number };
    expect(row.n_examples).toBe(2);
    expect(row.reward).toBeCloseTo(averageOf(scoredRewards), 10);
    const statuses = store.database.query("SELECT example_id, status FROM predictions WHERE run_id = ? ORDER BY example_id").all(run.id) as Array<{
      status: string;
    }>;
    expect(statuses.map((item) => item.status).sort()).toEqual(["lm_error", "lm_error", "ok", "ok"]);
  } finally {
    log.removeReporter(reporter);
    store.close();
    await lm.stop();
  }
});
