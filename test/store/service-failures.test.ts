/**
 * Service failures are not scores (docs/store.md): predictions record why an example has no
 * result (lm_error, retrieval_error, deadline), resume runs them again, the views score over the
 * examples with a result and count the others, and a database written before this is migrated
 * (statuses relabelled by their real cause, every row kept).
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import {
  MIGRATIONS,
  SCHEMA_VERSION,
  completedExampleIds,
  createRun,
  openStore,
  recordExampleResult,
  recordRunExamples,
  updateRunStatus,
} from "../../src/store/index.ts";
import { MIGRATION_RESULTS } from "../../src/store/schema-results.ts";
import { EXAMPLE, programResult, scoreOf, temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory();
afterAll(() => directory.remove());

const FAILURES = [
  ["2hop__2", { kind: "service", service: "lm", module: "generate_query", message: "the LM failed" }],
  ["2hop__3", { kind: "service", service: "retrieval", module: "extract_information", message: "retrieval failed: rerank down" }],
  ["2hop__4", { kind: "deadline", module: "extract_information", message: "did not finish within 1 s (--example-timeout)" }],
] as const;

describe("examples without a result", () => {
  test("are recorded by their real cause, run again on resume, and left out of run_summary's scores (counted as missing)", () => {
    const store = openStore(directory.database("causes.db"));
    const run = createRun(store, { name: "evaluate-x", kind: "evaluate", config: {}, toolVersion: "test" });
    recordRunExamples(
      store,
      run.id,
      ["2hop__1", "2hop__2", "2hop__3", "2hop__4", "2hop__5"].map((exampleId, position) => ({ exampleId, position, role: "test" as const, nHops: 2 })),
    );
    const ok = programResult("Paris");
    recordExampleResult(store, run.id, { exampleId: "2hop__1", nHops: 2, goldAnswers: EXAMPLE.answers, result: ok, score: scoreOf(ok) });
    for (const [exampleId, failure] of FAILURES) {
      const result = programResult(null, { failure: { ...failure } });
      recordExampleResult(store, run.id, { exampleId, nHops: 2, goldAnswers: EXAMPLE.answers, result, score: scoreOf(result) });
    }
    updateRunStatus(store, run.id, "incomplete", "4 examples have no result");

    const statuses = store.database.query("SELECT example_id, status FROM predictions ORDER BY example_id").all();
    expect(statuses).toEqual([
      { example_id: "2hop__1", status: "ok" },
      { example_id: "2hop__2", status: "lm_error" },
      { example_id: "2hop__3", status: "retrieval_error" },
      { example_id: "2hop__4", status: "deadline" },
    ]);
    expect([...completedExampleIds(store, run.id)]).toEqual(["2hop__1"]);
    const summary = store.database.query("SELECT status, n, em, f1, lm_errors, retrieval_errors, deadlines, missing FROM run_summary").get();
    expect(summary).toEqual({ status: "incomplete", n: 1, em: 1, f1: 1, lm_errors: 1, retrieval_errors: 1, deadlines: 1, missing: 4 });
    const hops = store.database.query("SELECT n, em, service_failures FROM hop_summary").all();
    expect(hops).toEqual([{ n: 1, em: 1, service_failures: 3 }]);
    store.close();
  });
});

describe("migrating a database written before results and failures were told apart", () => {
  test("relabels old lm_error rows by their real cause and keeps every row and reference", () => {
    const path = directory.database("old.db");
    const raw = new Database(path);
    raw.run("PRAGMA journal_mode = WAL");
    for (const [index, migration] of MIGRATIONS.slice(0, MIGRATIONS.indexOf(MIGRATION_RESULTS)).entries()) {
      raw.run(migration);
      raw.run(`PRAGMA user_version = ${index + 1}`);
    }
    raw.run(
      `INSERT INTO runs (id, name, kind, status, started_at, config_json, config_hash, tool_version)
       VALUES (7, 'old-run', 'evaluate', 'completed', '2026-01-01T00:00:00.000Z', '{}', 'h', 'old')`,
    );
    const prediction = raw.query(
      `INSERT INTO predictions (run_id, step, example_id, answer, gold_answers_json, em, f1, status, error, trajectory_json, created_at)
       VALUES (7, -1, ?, ?, '["Paris"]', ?, ?, ?, ?, ?, 'now')`,
    );
    prediction.run("2hop__1", "Paris", 1, 1, "ok", null, '{"hops":[],"failure":null}');
    prediction.run("2hop__2", null, 0, 0, "lm_error", "HTTP 503", '{"hops":[],"failure":{"kind":"service","service":"lm"}}');
    prediction.run(
      "2hop__3",
      null,
      0,
      0,
      "lm_error",
      "retrieval failed: rerank down",
      '{"hops":[],"failure":{"kind":"service","module":"extract_information"}}',
    );
    prediction.run("2hop__4", null, 0, 0, "lm_error", "did not finish within 9 s (--example-timeout)", null);
    raw.run(
      `INSERT INTO module_calls (run_id, example_id, module, hop, invocation, request_messages_json, status, created_at)
       VALUES (7, '2hop__2', 'generate_query', 1, 0, '[]', 'lm_error', 'now')`,
    );
    // A table added before this migration that references runs (migration 7's trainer_logs).
    raw.run(`INSERT INTO trainer_logs (run_id, job_id, global_step, entry_json, created_at) VALUES (7, 'job', 1, '{}', 'now')`);
    raw.close();

    const store = openStore(path);
    const version = store.database.query("PRAGMA user_version").get() as { user_version: number };
    expect(version.user_version).toBe(SCHEMA_VERSION);
    expect(store.database.query("SELECT example_id, status FROM predictions ORDER BY example_id").all()).toEqual([
      { example_id: "2hop__1", status: "ok" },
      { example_id: "2hop__2", status: "lm_error" },
      { example_id: "2hop__3", status: "retrieval_error" },
      { example_id: "2hop__4", status: "deadline" },
    ]);
    expect(store.database.query("SELECT id, name, status FROM runs").all()).toEqual([{ id: 7, name: "old-run", status: "completed" }]);
    expect(store.database.query("SELECT COUNT(*) AS n FROM module_calls WHERE run_id = 7").get()).toEqual({ n: 1 });
    expect(store.database.query("SELECT n, missing FROM run_summary").get()).toEqual({ n: 1, missing: 0 });
    expect(store.database.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });
    expect(store.database.query("PRAGMA foreign_key_check").all()).toEqual([]);
    expect(store.database.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    // The new status is accepted; deleting the run still cascades to its rows.
    updateRunStatus(store, 7, "incomplete");
    store.database.run("DELETE FROM runs WHERE id = 7");
    expect(store.database.query("SELECT COUNT(*) AS n FROM predictions").get()).toEqual({ n: 0 });
    expect(store.database.query("SELECT COUNT(*) AS n FROM trainer_logs").get()).toEqual({ n: 0 });
    store.close();
  });
});
