/**
 * Migration: service failures are not scores (docs/store.md). Runs gain the status `incomplete`
 * (every example was tried, some have no result); predictions say why an example has no result:
 * `lm_error`, `retrieval_error` or `deadline` (earlier rows were all `lm_error`: the trajectory's
 * failure, or the error text, tells which they were). The views score over the examples that
 * have a result and count the others by cause (`missing` in run_summary).
 *
 * SQLite cannot change a CHECK constraint in place, so `runs` and `predictions` are rebuilt: the
 * old table is renamed aside, the new one created under the old name (so the schema reads
 * `CREATE TABLE runs (`), the rows copied, the old table dropped. This runs with foreign keys off
 * and legacy_alter_table on (migrate() in database.ts), so the rename leaves the other tables'
 * `REFERENCES runs` alone; the views that read these tables are dropped first and created again.
 */

const SCORED = "status IN ('ok', 'format_failure')";

export const MIGRATION_RESULTS = `
DROP VIEW run_summary;
DROP VIEW hop_summary;
DROP VIEW failed_calls;

ALTER TABLE runs RENAME TO runs_before;
CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  kind          TEXT NOT NULL CHECK (kind IN ('evaluate', 'train', 'retrieve')),
  status        TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'incomplete', 'failed', 'interrupted')),
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
  output_dir    TEXT,
  uid           TEXT
);
INSERT INTO runs (id, name, kind, status, started_at, finished_at, config_json, config_hash, tool_version, seed,
  dataset, model, retriever, error, output_dir, uid)
  SELECT id, name, kind, status, started_at, finished_at, config_json, config_hash, tool_version, seed,
    dataset, model, retriever, error, output_dir, uid FROM runs_before;
DROP TABLE runs_before;
CREATE INDEX runs_started_at ON runs (started_at);
CREATE UNIQUE INDEX runs_uid ON runs (uid);

ALTER TABLE predictions RENAME TO predictions_before;
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
  status                  TEXT NOT NULL CHECK (status IN ('ok', 'format_failure', 'lm_error', 'retrieval_error', 'deadline')),
  error                   TEXT,
  trajectory_json         TEXT,
  created_at              TEXT NOT NULL,
  UNIQUE (run_id, step, example_id)
);
INSERT INTO predictions (id, run_id, step, example_id, n_hops, answer, gold_answers_json, em, f1, recall, support_f1,
  reward, reward_components_json, retrieved_ids_json, hops_used, status, error, trajectory_json, created_at)
  SELECT id, run_id, step, example_id, n_hops, answer, gold_answers_json, em, f1, recall, support_f1,
    reward, reward_components_json, retrieved_ids_json, hops_used,
    CASE
      WHEN status != 'lm_error' THEN status
      WHEN json_valid(trajectory_json) AND json_extract(trajectory_json, '$.failure.kind') = 'deadline' THEN 'deadline'
      WHEN error LIKE '%(--example-timeout)%' THEN 'deadline'
      WHEN json_valid(trajectory_json) AND json_extract(trajectory_json, '$.failure.service') = 'retrieval' THEN 'retrieval_error'
      WHEN error LIKE 'retrieval failed:%' THEN 'retrieval_error'
      ELSE 'lm_error'
    END,
    error, trajectory_json, created_at
  FROM predictions_before;
DROP TABLE predictions_before;
CREATE INDEX predictions_run_status ON predictions (run_id, status);

-- Headline numbers per run over the predictions of its latest step (-1 for evaluation, the last
-- validation step for training): n and the means count only examples with a result; missing =
-- examples of the run without one (lm_errors + retrieval_errors + deadlines + never run).
CREATE VIEW run_summary AS
SELECT
  r.id AS run_id, r.name AS run_name, r.kind, r.status, r.started_at, r.finished_at,
  r.model, r.retriever, r.dataset,
  p.step, COALESCE(p.n, 0) AS n, p.em, p.f1, p.recall, p.support_f1, p.reward,
  COALESCE(p.format_failures, 0) AS format_failures, COALESCE(p.lm_errors, 0) AS lm_errors,
  COALESCE(p.retrieval_errors, 0) AS retrieval_errors, COALESCE(p.deadlines, 0) AS deadlines,
  CASE WHEN r.kind = 'train' AND p.step IS NULL THEN 0 ELSE MAX(0,
    (SELECT COUNT(*) FROM run_examples e WHERE e.run_id = r.id AND e.role = CASE r.kind WHEN 'train' THEN 'dev' ELSE 'test' END)
    - COALESCE(p.n, 0)) END AS missing,
  COALESCE(c.calls, 0) AS calls, COALESCE(c.failed_calls, 0) AS failed_calls,
  COALESCE(c.prompt_tokens, 0) AS prompt_tokens, COALESCE(c.completion_tokens, 0) AS completion_tokens,
  c.mean_latency_ms
FROM runs r
LEFT JOIN (
  SELECT run_id, step, SUM(${SCORED}) AS n,
    AVG(CASE WHEN ${SCORED} THEN em END) AS em, AVG(CASE WHEN ${SCORED} THEN f1 END) AS f1,
    AVG(CASE WHEN ${SCORED} THEN recall END) AS recall, AVG(CASE WHEN ${SCORED} THEN support_f1 END) AS support_f1,
    AVG(CASE WHEN ${SCORED} THEN reward END) AS reward,
    SUM(status = 'format_failure') AS format_failures, SUM(status = 'lm_error') AS lm_errors,
    SUM(status = 'retrieval_error') AS retrieval_errors, SUM(status = 'deadline') AS deadlines
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

-- Per run, step and hop count (n_hops of the example; from the id prefix when not recorded):
-- n and the means over examples with a result; service_failures = recorded examples without one.
CREATE VIEW hop_summary AS
SELECT
  r.id AS run_id, r.name AS run_name, p.step,
  COALESCE(p.n_hops, CAST(substr(p.example_id, 1, instr(p.example_id, 'hop') - 1) AS INTEGER)) AS n_hops,
  SUM(p.${SCORED}) AS n,
  AVG(CASE WHEN p.${SCORED} THEN p.em END) AS em, AVG(CASE WHEN p.${SCORED} THEN p.f1 END) AS f1,
  AVG(CASE WHEN p.${SCORED} THEN p.recall END) AS recall, AVG(CASE WHEN p.${SCORED} THEN p.support_f1 END) AS support_f1,
  AVG(CASE WHEN p.${SCORED} THEN p.reward END) AS reward,
  SUM(p.status != 'ok') AS failures, SUM(p.status = 'format_failure') AS format_failures,
  SUM(NOT p.${SCORED}) AS service_failures
FROM predictions p JOIN runs r ON r.id = p.run_id
GROUP BY r.id, p.step, 4;

CREATE VIEW failed_calls AS
SELECT r.name AS run_name, m.*
FROM module_calls m JOIN runs r ON r.id = m.run_id
WHERE m.status != 'ok' OR m.error IS NOT NULL;
`;
