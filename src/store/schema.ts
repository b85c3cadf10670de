/**
 * The results database schema as ordered migrations. Migration i (1-based) moves the database
 * from `PRAGMA user_version` i−1 to i; never edit a released migration, append a new one.
 *
 * Conventions: times are ISO-8601 UTC text; JSON columns end in `_json`; `step = -1` marks plain
 * evaluation; training steps count from 1 and a validation's step is the steps completed (0 =
 * before training); `rollout_index = -1` marks "not a rollout", so the UNIQUE keys work (SQLite
 * treats NULLs as distinct); `hop` counts from 0 (the answer call carries the hops run).
 */
import { MIGRATION_6, MIGRATION_7, MIGRATION_8, MIGRATION_9, MIGRATION_11 } from "./schema-later.ts";
import { MIGRATION_RESULTS } from "./schema-results.ts";

const MIGRATION_1 = `
CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  kind          TEXT NOT NULL CHECK (kind IN ('evaluate', 'train', 'retrieve')),
  status        TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
  started_at    TEXT NOT NULL,
  finished_at   TEXT,
  config_json   TEXT NOT NULL,
  config_hash   TEXT NOT NULL,
  tool_version  TEXT NOT NULL,
  seed          INTEGER,
  dataset       TEXT,
  model         TEXT,
  retriever     TEXT,
  error         TEXT,
  output_dir    TEXT
);
CREATE INDEX runs_started_at ON runs (started_at);

CREATE TABLE run_examples (
  run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  example_id  TEXT NOT NULL,
  position    INTEGER NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('train', 'dev', 'test')),
  n_hops      INTEGER,
  shape       TEXT,
  PRIMARY KEY (run_id, example_id, role)
);

CREATE TABLE predictions (
  id                      INTEGER PRIMARY KEY,
  run_id                  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step                    INTEGER NOT NULL DEFAULT -1,
  example_id              TEXT NOT NULL,
  n_hops                  INTEGER,
  answer                  TEXT,
  gold_answers_json       TEXT NOT NULL,
  em                      REAL,
  f1                      REAL,
  recall                  REAL,
  support_f1              REAL,
  reward                  REAL,
  reward_components_json  TEXT,
  retrieved_ids_json      TEXT NOT NULL DEFAULT '[]',
  hops_used               INTEGER,
  status                  TEXT NOT NULL CHECK (status IN ('ok', 'format_failure', 'lm_error')),
  error                   TEXT,
  trajectory_json         TEXT,
  created_at              TEXT NOT NULL,
  UNIQUE (run_id, step, example_id)
);
CREATE INDEX predictions_run_status ON predictions (run_id, status);

CREATE TABLE module_calls (
  id                     INTEGER PRIMARY KEY,
  run_id                 INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step                   INTEGER NOT NULL DEFAULT -1,
  example_id             TEXT NOT NULL,
  rollout_index          INTEGER NOT NULL DEFAULT -1,
  module                 TEXT NOT NULL,
  hop                    INTEGER NOT NULL,
  invocation             INTEGER NOT NULL,
  request_messages_json  TEXT NOT NULL,
  raw_completion         TEXT,
  parsed_json            TEXT,
  status                 TEXT NOT NULL,
  error                  TEXT,
  finish_reason          TEXT,
  truncated              INTEGER NOT NULL DEFAULT 0,
  prompt_tokens          INTEGER,
  completion_tokens      INTEGER,
  latency_ms             REAL,
  endpoint               TEXT,
  attempts               INTEGER,
  cached                 INTEGER NOT NULL DEFAULT 0,
  created_at             TEXT NOT NULL,
  UNIQUE (run_id, step, example_id, rollout_index, module, invocation)
);
CREATE INDEX module_calls_run_module_status ON module_calls (run_id, module, status);
CREATE INDEX module_calls_run_latency ON module_calls (run_id, latency_ms);

CREATE TABLE rollouts (
  id                      INTEGER PRIMARY KEY,
  run_id                  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step                    INTEGER NOT NULL,
  example_id              TEXT NOT NULL,
  rollout_index           INTEGER NOT NULL,
  answer                  TEXT,
  em                      REAL,
  f1                      REAL,
  recall                  REAL,
  reward                  REAL,
  reward_components_json  TEXT,
  format_failures         INTEGER NOT NULL DEFAULT 0,
  trajectory_json         TEXT,
  created_at              TEXT NOT NULL,
  UNIQUE (run_id, step, example_id, rollout_index)
);

CREATE TABLE training_steps (
  run_id               INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step                 INTEGER NOT NULL,
  status               TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'skipped')),
  started_at           TEXT NOT NULL,
  finished_at          TEXT,
  mean_reward          REAL,
  reward_std           REAL,
  format_failures      INTEGER NOT NULL DEFAULT 0,
  num_groups           INTEGER NOT NULL DEFAULT 0,
  arbor_response_json  TEXT,
  metrics_json         TEXT,
  PRIMARY KEY (run_id, step)
);

CREATE TABLE groups (
  id               INTEGER PRIMARY KEY,
  run_id           INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step             INTEGER NOT NULL,
  example_id       TEXT NOT NULL,
  module           TEXT NOT NULL,
  invocation       INTEGER NOT NULL,
  batch_id         INTEGER,
  rewards_json     TEXT NOT NULL,
  advantages_json  TEXT,
  size             INTEGER NOT NULL,
  request_json     TEXT,
  response_json    TEXT,
  created_at       TEXT NOT NULL,
  UNIQUE (run_id, step, example_id, module, invocation)
);
CREATE INDEX groups_run_batch ON groups (run_id, batch_id);

CREATE TABLE validations (
  run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step        INTEGER NOT NULL,
  em          REAL,
  f1          REAL,
  recall      REAL,
  support_f1  REAL,
  reward      REAL,
  n_examples  INTEGER NOT NULL,
  is_best     INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (run_id, step)
);

CREATE TABLE checkpoints (
  id                 INTEGER PRIMARY KEY,
  run_id             INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step               INTEGER NOT NULL,
  name               TEXT NOT NULL,
  directory          TEXT,
  metadata_json      TEXT,
  arbor_record_json  TEXT,
  created_at         TEXT NOT NULL,
  UNIQUE (run_id, name)
);

CREATE TABLE lm_cache (
  key            TEXT PRIMARY KEY,
  model          TEXT NOT NULL,
  response_json  TEXT NOT NULL,
  created_at     TEXT NOT NULL
);

-- Headline numbers per run: predictions of the run's latest step (-1 for evaluation, the last
-- validation step for training) and every module call of the run.
CREATE VIEW run_summary AS
SELECT
  r.id AS run_id, r.name AS run_name, r.kind, r.status, r.started_at, r.finished_at,
  r.model, r.retriever, r.dataset,
  p.step, COALESCE(p.n, 0) AS n, p.em, p.f1, p.recall, p.support_f1, p.reward,
  COALESCE(p.format_failures, 0) AS format_failures, COALESCE(p.lm_errors, 0) AS lm_errors,
  COALESCE(c.calls, 0) AS calls, COALESCE(c.failed_calls, 0) AS failed_calls,
  COALESCE(c.prompt_tokens, 0) AS prompt_tokens, COALESCE(c.completion_tokens, 0) AS completion_tokens,
  c.mean_latency_ms
FROM runs r
LEFT JOIN (
  SELECT run_id, step, COUNT(*) AS n, AVG(em) AS em, AVG(f1) AS f1, AVG(recall) AS recall,
    AVG(support_f1) AS support_f1, AVG(reward) AS reward,
    SUM(status = 'format_failure') AS format_failures, SUM(status = 'lm_error') AS lm_errors
  FROM predictions p1
  WHERE step = (SELECT MAX(step) FROM predictions p2 WHERE p2.run_id = p1.run_id)
  GROUP BY run_id, step
) p ON p.run_id = r.id
LEFT JOIN (
  SELECT run_id, COUNT(*) AS calls, SUM(status != 'ok' OR error IS NOT NULL) AS failed_calls,
    SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens,
    AVG(latency_ms) AS mean_latency_ms
  FROM module_calls GROUP BY run_id
) c ON c.run_id = r.id;

-- Per run, step and hop count (n_hops of the example; from the id prefix when not recorded).
CREATE VIEW hop_summary AS
SELECT
  r.id AS run_id, r.name AS run_name, p.step,
  COALESCE(p.n_hops, CAST(substr(p.example_id, 1, instr(p.example_id, 'hop') - 1) AS INTEGER)) AS n_hops,
  COUNT(*) AS n, AVG(p.em) AS em, AVG(p.f1) AS f1, AVG(p.recall) AS recall,
  AVG(p.support_f1) AS support_f1, AVG(p.reward) AS reward,
  SUM(p.status != 'ok') AS failures
FROM predictions p JOIN runs r ON r.id = p.run_id
GROUP BY r.id, p.step, 4;

CREATE VIEW failed_calls AS
SELECT r.name AS run_name, m.*
FROM module_calls m JOIN runs r ON r.id = m.run_id
WHERE m.status != 'ok' OR m.error IS NOT NULL;
`;

/**
 * Arbor jobs of a training run (one per initialize: a resume starts a new one, docs/specs/arbor.md
 * §2d) and which job wrote each checkpoint. A checkpoint row is now unique per run, job and name
 * (Arbor replaces a directory of the same name only within one job); rows from before this
 * migration keep job_id ''. `automatic` marks checkpoints HF's trainer wrote on its own
 * (save_steps) rather than ones musique asked for.
 */
const MIGRATION_2 = `
CREATE TABLE arbor_jobs (
  id                 INTEGER PRIMARY KEY,
  run_id             INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  attempt            INTEGER NOT NULL,
  arbor_run_name     TEXT NOT NULL,
  job_id             TEXT,
  base_url           TEXT NOT NULL,
  model              TEXT NOT NULL,
  start_step         INTEGER NOT NULL,
  trainer_max_steps  INTEGER NOT NULL,
  status             TEXT NOT NULL CHECK (status IN ('initializing', 'running', 'terminating', 'terminated', 'cancelled', 'lost', 'gone', 'failed')),
  groups_posted      INTEGER NOT NULL DEFAULT 0,
  note               TEXT,
  started_at         TEXT NOT NULL,
  ended_at           TEXT,
  UNIQUE (run_id, attempt)
);

CREATE TABLE checkpoints_by_job (
  id                 INTEGER PRIMARY KEY,
  run_id             INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  job_id             TEXT NOT NULL DEFAULT '',
  step               INTEGER NOT NULL,
  name               TEXT NOT NULL,
  directory          TEXT,
  global_step        INTEGER,
  automatic          INTEGER NOT NULL DEFAULT 0,
  metadata_json      TEXT,
  arbor_record_json  TEXT,
  created_at         TEXT NOT NULL,
  UNIQUE (run_id, job_id, name)
);
INSERT INTO checkpoints_by_job (run_id, job_id, step, name, directory, metadata_json, arbor_record_json, created_at)
  SELECT run_id, '', step, name, directory, metadata_json, arbor_record_json, created_at FROM checkpoints;
DROP TABLE checkpoints;
ALTER TABLE checkpoints_by_job RENAME TO checkpoints;
`;

/**
 * Which process is running a run (docs/store.md `run_locks`): taken when a run starts or resumes,
 * refreshed every few seconds (heartbeat_at), removed when it ends. A `--resume` of a run whose
 * holder is alive is refused; the lock of a process that is gone (or silent for a minute) is stale.
 */
const MIGRATION_3 = `
CREATE TABLE run_locks (
  run_id        INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  pid           INTEGER NOT NULL,
  host          TEXT NOT NULL,
  acquired_at   TEXT NOT NULL,
  heartbeat_at  TEXT NOT NULL
);
`;

/**
 * DSPy's JSONAdapter fallback (program.md §5): `adapter` is the adapter whose attempt stands
 * (chat, json_schema or json_object; the row's request, reply, parsed outputs and status are that
 * attempt's), and `adapter_attempts_json` lists every attempt of the call in order ({adapter,
 * response_format, messages, raw_completion, parsed, status, error, finish_reason, tokens,
 * latency, attempts, cached}); NULL when the ChatAdapter's reply was the only one. A rescued call
 * is `status = 'ok' AND adapter != 'chat'`.
 */
const MIGRATION_4 = `
ALTER TABLE module_calls ADD COLUMN adapter TEXT NOT NULL DEFAULT 'chat';
ALTER TABLE module_calls ADD COLUMN adapter_attempts_json TEXT;
CREATE INDEX module_calls_run_adapter ON module_calls (run_id, adapter, status);
`;

/**
 * Run management (README "Managing runs"): every run gets a `uid` that survives renames and
 * copies between databases (import recognises a run it already holds by it), and runs carry tags.
 */
const MIGRATION_5 = `
ALTER TABLE runs ADD COLUMN uid TEXT;
UPDATE runs SET uid = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX runs_uid ON runs (uid);

CREATE TABLE run_tags (
  run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  tag         TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
);
CREATE INDEX run_tags_tag ON run_tags (tag);
`;

/** Ordered migrations; the schema version is their count. */
export const MIGRATIONS: readonly string[] = [
  MIGRATION_1,
  MIGRATION_2,
  MIGRATION_3,
  MIGRATION_4,
  MIGRATION_5,
  MIGRATION_6,
  MIGRATION_7,
  MIGRATION_8,
  MIGRATION_9,
  MIGRATION_RESULTS,
  MIGRATION_11,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
