/**
 * The step numbering migration (docs/store.md "Conventions"): a database written when training
 * steps counted from 0 is renumbered so that step N is the N-th step and the validation after it
 * shares its number; validations, evaluation rows and checkpoints keep theirs.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { MIGRATIONS } from "../../src/store/schema.ts";
import { openStore } from "../../src/store/database.ts";
import { temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory();
afterAll(() => directory.remove());

/** The migration that renumbers the steps: the first that touches training_steps after creating it. */
const RENUMBERING = MIGRATIONS.findIndex((migration) => migration.includes("UPDATE training_steps SET step"));

/** A database at the schema just before the renumbering, holding a 3-step run counted from 0. */
function databaseBeforeRenumbering(path: string): void {
  const raw = new Database(path, { create: true });
  for (const migration of MIGRATIONS.slice(0, RENUMBERING)) raw.run(migration);
  raw.run(`PRAGMA user_version = ${RENUMBERING}`);
  const at = "2025-01-01T00:00:00.000Z";
  raw.run(
    `INSERT INTO runs (id, name, kind, status, started_at, config_json, config_hash, tool_version, uid)
     VALUES (1, 'old', 'train', 'completed', '${at}', '{}', 'h', 'test', 'u1'), (2, 'plain', 'evaluate', 'completed', '${at}', '{}', 'h', 'test', 'u2')`,
  );
  for (const step of [0, 1, 2]) {
    raw.run(`INSERT INTO training_steps (run_id, step, status, started_at) VALUES (1, ${step}, 'completed', '${at}')`);
    raw.run(
      `INSERT INTO rollouts (run_id, step, example_id, rollout_index, reward, format_failures, created_at) VALUES (1, ${step}, 'e', 0, ${step}, 0, '${at}')`,
    );
    raw.run(
      `INSERT INTO groups (run_id, step, example_id, module, invocation, rewards_json, size, created_at) VALUES (1, ${step}, 'e', 'm', 0, '[${step}]', 1, '${at}')`,
    );
    raw.run(
      `INSERT INTO module_calls (run_id, step, example_id, rollout_index, module, hop, invocation, request_messages_json, status, created_at)
       VALUES (1, ${step}, 'e', 0, 'm', 0, 0, '[]', 'ok', '${at}')`,
    );
  }
  // The validations before training and after the third step, with their predictions and calls.
  for (const step of [0, 3]) {
    raw.run(`INSERT INTO validations (run_id, step, n_examples, created_at) VALUES (1, ${step}, 1, '${at}')`);
    raw.run(`INSERT INTO predictions (run_id, step, example_id, gold_answers_json, status, created_at) VALUES (1, ${step}, 'd', '[]', 'ok', '${at}')`);
    raw.run(
      `INSERT INTO module_calls (run_id, step, example_id, rollout_index, module, hop, invocation, request_messages_json, status, created_at)
       VALUES (1, ${step}, 'd', -1, 'm', 0, 0, '[]', 'ok', '${at}')`,
    );
  }
  raw.run(`INSERT INTO predictions (run_id, step, example_id, gold_answers_json, status, created_at) VALUES (2, -1, 'x', '[]', 'ok', '${at}')`);
  raw.run(
    `INSERT INTO module_calls (run_id, step, example_id, rollout_index, module, hop, invocation, request_messages_json, status, created_at)
     VALUES (2, -1, 'x', -1, 'm', 0, 0, '[]', 'ok', '${at}')`,
  );
  raw.close();
}

function column(database: Database, sql: string): number[] {
  return (database.query(sql).all() as { step: number }[]).map((row) => row.step);
}

describe("step numbering migration", () => {
  test("training rows counted from 0 become steps 1–3; validations, evaluation rows and their calls keep their numbers", () => {
    expect(RENUMBERING).toBeGreaterThan(0);
    const path = directory.database("old.db");
    databaseBeforeRenumbering(path);
    openStore(path).close();
    const database = new Database(path, { readonly: true });
    try {
      expect(column(database, "SELECT step FROM training_steps ORDER BY step")).toEqual([1, 2, 3]);
      expect(column(database, "SELECT step FROM rollouts ORDER BY step")).toEqual([1, 2, 3]);
      expect(column(database, "SELECT step FROM groups ORDER BY step")).toEqual([1, 2, 3]);
      // Each rollout keeps its own reward: the renumbering moved rows, it did not mix them.
      expect(database.query("SELECT step, reward FROM rollouts ORDER BY step").all()).toEqual([
        { step: 1, reward: 0 },
        { step: 2, reward: 1 },
        { step: 3, reward: 2 },
      ]);
      expect(column(database, "SELECT step FROM module_calls WHERE rollout_index >= 0 ORDER BY step")).toEqual([1, 2, 3]);
      expect(column(database, "SELECT step FROM validations ORDER BY step")).toEqual([0, 3]);
      expect(column(database, "SELECT step FROM predictions WHERE run_id = 1 ORDER BY step")).toEqual([0, 3]);
      expect(column(database, "SELECT step FROM module_calls WHERE rollout_index = -1 AND run_id = 1 ORDER BY step")).toEqual([0, 3]);
      expect(column(database, "SELECT step FROM module_calls WHERE run_id = 2")).toEqual([-1]);
      // The README's query now pairs the last step with the validation that followed it.
      const joined = database
        .query("SELECT s.step, v.step AS validated FROM training_steps s LEFT JOIN validations v ON v.run_id = s.run_id AND v.step = s.step ORDER BY s.step")
        .all();
      expect(joined).toEqual([
        { step: 1, validated: null },
        { step: 2, validated: null },
        { step: 3, validated: 3 },
      ]);
    } finally {
      database.close();
    }
  });
});
