/**
 * The results database's later migrations (6 onwards, but 10: schema-results.ts), in the
 * conventions of schema.ts, which lists every migration in order. Never edit a released
 * migration; append a new one.
 */
/**
 * One step numbering (docs/store.md "Conventions"): training steps count from 1 — step N's row,
 * rollouts, groups and rollout module calls are recorded under N, and the validation after it
 * under N too (validations already counted steps completed, 0 = before training). Before this,
 * training rows counted from 0, so the validation after step s was at s + 1. In two passes through
 * negative numbers (-2, -3, …: never a real step, -1 being plain evaluation), because SQLite checks
 * UNIQUE keys row by row and s → s + 1 would collide with the next step mid-update.
 */
export const MIGRATION_6 = `
UPDATE training_steps SET step = -step - 2;
UPDATE training_steps SET step = -step - 1;
UPDATE rollouts SET step = -step - 2;
UPDATE rollouts SET step = -step - 1;
UPDATE groups SET step = -step - 2;
UPDATE groups SET step = -step - 1;
UPDATE module_calls SET step = -step - 2 WHERE rollout_index >= 0 AND step >= 0;
UPDATE module_calls SET step = -step - 1 WHERE rollout_index >= 0 AND step <= -2;
`;

/**
 * What Arbor's trainer logged (HF's `log_history`, read from a checkpoint's trainer_state.json
 * where musique can read it): one row per optimizer step of a job with loss, KL, grad norm and
 * learning rate as columns, the whole entry as JSON, and the musique step whose group it trained
 * (NULL when no group of the job has that batch id). `trainer_log_reads` keeps, per job, the last
 * attempt to read it and why nothing could be read, so reports can say why metrics are missing.
 */
export const MIGRATION_7 = `
CREATE TABLE trainer_logs (
  id             INTEGER PRIMARY KEY,
  run_id         INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  job_id         TEXT NOT NULL,
  global_step    INTEGER NOT NULL,
  step           INTEGER,
  loss           REAL,
  kl             REAL,
  grad_norm      REAL,
  learning_rate  REAL,
  entry_json     TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  UNIQUE (run_id, job_id, global_step)
);
CREATE INDEX trainer_logs_run_step ON trainer_logs (run_id, step);

CREATE TABLE trainer_log_reads (
  run_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  job_id    TEXT NOT NULL,
  path      TEXT,
  entries   INTEGER NOT NULL,
  problem   TEXT,
  read_at   TEXT NOT NULL,
  PRIMARY KEY (run_id, job_id)
);
`;

/**
 * The concurrency each LM endpoint got over a run (issue 19, src/store/concurrency.ts): with
 * `--concurrency auto` one row per change of an endpoint's adaptive limit, with the reason and
 * what the window that decided it measured; with a fixed --concurrency one row per endpoint.
 */
export const MIGRATION_8 = `
CREATE TABLE concurrency_limits (
  id                   INTEGER PRIMARY KEY,
  run_id               INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  endpoint             TEXT NOT NULL,
  at                   TEXT NOT NULL,
  concurrency          INTEGER NOT NULL,
  previous             INTEGER,
  reason               TEXT NOT NULL,
  requests_per_second  REAL,
  tokens_per_second    REAL,
  latency_p50_ms       REAL
);
CREATE INDEX concurrency_limits_run ON concurrency_limits (run_id, endpoint, at);
`;

/**
 * Where a training step's time went (issue 19 item 3): its rollouts, musique waiting for Arbor's
 * trainer to ask for its groups, and the trainer waiting for musique's groups (seen from the
 * /status polls; src/grpo/batches.ts). NULL for steps recorded before, and the waits for dry runs.
 */
export const MIGRATION_9 = `
ALTER TABLE training_steps ADD COLUMN rollout_seconds REAL;
ALTER TABLE training_steps ADD COLUMN waiting_for_arbor_seconds REAL;
ALTER TABLE training_steps ADD COLUMN arbor_waiting_seconds REAL;
`;

/**
 * What reports used to reconstruct (from placeholder ids and a regex over the stored prompt) is
 * stored: each run example's question and supporting paragraph ids (JSON list of idx strings).
 * NULL in runs recorded before this migration; reports fall back to the old reconstruction there.
 */
export const MIGRATION_11 = `
ALTER TABLE run_examples ADD COLUMN question TEXT;
ALTER TABLE run_examples ADD COLUMN supporting_ids_json TEXT;
`;
