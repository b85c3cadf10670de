import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { UsageError } from "../../src/errors.ts";
import type { ModuleCallTrace } from "../../src/program/types.ts";
import {
  completedExampleIds,
  createRun,
  findRun,
  listRuns,
  openStore,
  predictionsOf,
  recordExampleResult,
  recordRunExamples,
  updateRunStatus,
  type Store,
} from "../../src/store/index.ts";
import { EXAMPLE, moduleCall, programResult, scoreOf, temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory();
afterAll(() => directory.remove());

let store: Store;
let counter = 0;
beforeEach(() => {
  counter += 1;
  store = openStore(directory.database(`results-${counter}.db`));
});

function count(table: string): number {
  return (store.database.query(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

function newRun(name = "evaluate-a") {
  return createRun(store, {
    name,
    kind: "evaluate",
    config: { b: 2, a: 1 },
    toolVersion: "0.1.0",
    seed: 89,
    dataset: "bdsaglam/musique,answerable,validation",
    model: "Qwen/Qwen2.5-7B-Instruct",
    retriever: "hybrid",
  });
}

function record(runId: number, exampleId: string, answer: string | null, extra: Partial<Parameters<typeof programResult>[1]> = {}) {
  const result = programResult(answer, extra);
  recordExampleResult(store, runId, { exampleId, nHops: 2, goldAnswers: EXAMPLE.answers, result, score: scoreOf(result) });
}

describe("runs", () => {
  test("createRun stores the config as canonical JSON with a hash, status running", () => {
    const run = newRun();
    expect(run.status).toBe("running");
    expect(run.configJson).toBe('{"a":1,"b":2}');
    expect(run.configHash).toMatch(/^[0-9a-f]{64}$/);
    expect(findRun(store, "evaluate-a")?.id).toBe(run.id);
    expect(findRun(store, "nope")).toBeNull();
  });

  test("a taken run name is a usage error that suggests --resume", () => {
    newRun();
    expect(() => newRun()).toThrow(UsageError);
    expect(() => newRun()).toThrow('a run named "evaluate-a" already exists');
  });

  test("updateRunStatus stamps finished_at and the error; running clears them for a resume", () => {
    const run = newRun();
    updateRunStatus(store, run.id, "interrupted", "stopped by Ctrl-C");
    const stopped = findRun(store, run.name);
    expect(stopped?.status).toBe("interrupted");
    expect(stopped?.finishedAt).not.toBeNull();
    expect(stopped?.error).toBe("stopped by Ctrl-C");
    updateRunStatus(store, run.id, "running");
    expect(findRun(store, run.name)).toMatchObject({ status: "running", finishedAt: null, error: null });
  });

  test("recordRunExamples is idempotent", () => {
    const run = newRun();
    const examples = [
      { exampleId: "2hop__1", position: 0, role: "test" as const, nHops: 2, shape: "2hop" },
      { exampleId: "3hop1__2", position: 1, role: "test" as const, nHops: 3, shape: "3hop1" },
    ];
    recordRunExamples(store, run.id, examples);
    recordRunExamples(store, run.id, examples);
    expect(count("run_examples")).toBe(2);
  });
});

describe("recordExampleResult", () => {
  test("writes the prediction and one row per module call", () => {
    const run = newRun();
    record(run.id, "2hop__1", "Paris");
    expect(count("predictions")).toBe(1);
    expect(count("module_calls")).toBe(5);
    const row = store.database.query("SELECT * FROM predictions").get() as Record<string, unknown>;
    expect(row).toMatchObject({ step: -1, example_id: "2hop__1", answer: "Paris", em: 1, f1: 1, recall: 1, status: "ok", hops_used: 2 });
    expect(JSON.parse(String(row.retrieved_ids_json))).toEqual(["1", "4"]);
    expect(JSON.parse(String(row.reward_components_json))).toMatchObject({ version: "v1", hopWeight: 1 });
    const call = store.database.query("SELECT * FROM module_calls WHERE module = 'generate_answer'").get() as Record<string, unknown>;
    expect(call).toMatchObject({ rollout_index: -1, hop: 2, invocation: 0, prompt_tokens: 100, completion_tokens: 20, cached: 0, status: "ok" });
    expect(JSON.parse(String(call.request_messages_json))).toHaveLength(2);
  });

  test("recording the same example again replaces it: no duplicate predictions or calls", () => {
    const run = newRun();
    record(run.id, "2hop__1", "London");
    record(run.id, "2hop__1", "Paris");
    record(run.id, "2hop__1", "Paris");
    expect(count("predictions")).toBe(1);
    expect(count("module_calls")).toBe(5);
    expect(predictionsOf(store, run.id).map((prediction) => prediction.answer)).toEqual(["Paris"]);
  });

  test("a re-run with fewer calls leaves no stale calls behind", () => {
    const run = newRun();
    record(run.id, "2hop__1", "Paris");
    const result = programResult("Paris");
    result.calls = result.calls.slice(0, 2);
    recordExampleResult(store, run.id, { exampleId: "2hop__1", nHops: 2, goldAnswers: ["Paris"], result, score: scoreOf(result) });
    expect(count("module_calls")).toBe(2);
  });

  test("an example is all or nothing: a failing module-call row leaves no prediction", () => {
    const run = newRun();
    const result = programResult("Paris");
    const broken = { ...moduleCall("generate_answer", 2, 1), status: null } as unknown as ModuleCallTrace;
    result.calls.push(broken);
    expect(() => recordExampleResult(store, run.id, { exampleId: "2hop__1", nHops: 2, goldAnswers: ["Paris"], result, score: scoreOf(result) })).toThrow();
    expect(count("predictions")).toBe(0);
    expect(count("module_calls")).toBe(0);
  });

  test("format and LM failures are recorded with their status and message", () => {
    const run = newRun();
    record(run.id, "2hop__1", null, { failure: { kind: "format", module: "generate_answer", message: "missing field answer" } });
    record(run.id, "2hop__2", null, { failure: { kind: "service", service: "lm", module: "generate_query", message: "503 after 3 retries" } });
    const rows = store.database.query("SELECT example_id, status, error, em FROM predictions ORDER BY example_id").all();
    expect(rows).toEqual([
      { example_id: "2hop__1", status: "format_failure", error: "missing field answer", em: 0 },
      { example_id: "2hop__2", status: "lm_error", error: "503 after 3 retries", em: 0 },
    ]);
  });
});

describe("resume", () => {
  test("completedExampleIds lists recorded examples of the step, without LM errors unless asked", () => {
    const run = newRun();
    record(run.id, "2hop__1", "Paris");
    record(run.id, "2hop__2", null, { failure: { kind: "format", module: "generate_answer", message: "bad" } });
    record(run.id, "2hop__3", null, { failure: { kind: "service", service: "lm", module: "generate_query", message: "down" } });
    expect([...completedExampleIds(store, run.id)].sort()).toEqual(["2hop__1", "2hop__2"]);
    expect(completedExampleIds(store, run.id, -1, { includeErrors: true }).size).toBe(3);
    expect(completedExampleIds(store, run.id, 10).size).toBe(0);
    const other = newRun("evaluate-b");
    expect(completedExampleIds(store, other.id).size).toBe(0);
  });
});

describe("views", () => {
  test("run_summary, hop_summary and failed_calls return the recorded numbers", () => {
    const run = newRun();
    record(run.id, "2hop__1", "Paris");
    record(run.id, "2hop__2", "London");
    const failing = programResult(null, { failure: { kind: "format", module: "generate_answer", message: "no answer field" } });
    const last = failing.calls[failing.calls.length - 1];
    if (last) Object.assign(last, { status: "parse_error", parsed: null, error: "no answer field" });
    recordExampleResult(store, run.id, {
      exampleId: "3hop1__3",
      nHops: 3,
      goldAnswers: ["Paris"],
      result: failing,
      score: scoreOf(failing, { ...EXAMPLE, nHops: 3 }),
    });

    const summary = store.database.query("SELECT * FROM run_summary WHERE run_id = ?").get(run.id) as Record<string, number>;
    expect(summary).toMatchObject({ n: 3, calls: 15, failed_calls: 1, format_failures: 1, lm_errors: 0, prompt_tokens: 1500, completion_tokens: 300 });
    expect(summary.em).toBeCloseTo(1 / 3, 12);
    expect(summary.recall).toBe(1);

    const hops = store.database.query("SELECT n_hops, n, em, failures FROM hop_summary WHERE run_id = ? ORDER BY n_hops").all(run.id);
    expect(hops).toEqual([
      { n_hops: 2, n: 2, em: 0.5, failures: 0 },
      { n_hops: 3, n: 1, em: 0, failures: 1 },
    ]);

    const failed = store.database.query("SELECT run_name, example_id, module, error FROM failed_calls").all();
    expect(failed).toEqual([{ run_name: "evaluate-a", example_id: "3hop1__3", module: "generate_answer", error: "no answer field" }]);

    const [listed] = listRuns(store);
    expect(listed).toMatchObject({ name: "evaluate-a", n: 3, calls: 15, failedCalls: 1, step: -1 });
  });

  test("a run without predictions still appears in run_summary with zero counts", () => {
    newRun();
    expect(listRuns(store)).toMatchObject([{ name: "evaluate-a", n: 0, calls: 0, em: null }]);
  });
});
