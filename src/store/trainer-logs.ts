/**
 * The trainer's own log in the store (docs/store.md `trainer_logs`, `trainer_log_reads`): HF's
 * log_history entries of each Arbor job (loss, KL, grad norm, learning rate and the rest as
 * JSON), each under the musique step whose group it trained, and per job the last attempt to
 * read them with the reason when it failed. Upserts keyed by run, job and optimizer step, so
 * reading a later checkpoint's longer history again never duplicates a row.
 */
import { guarded, inTransaction, now, type Store } from "./database.ts";
import type { TrainerLogReadRow, TrainerLogRow } from "./tables.ts";

/** One log_history entry to store: its columns, and the entry itself (stored as entry_json). */
export type TrainerLogEntry = Pick<TrainerLogRow, "globalStep" | "step" | "loss" | "kl" | "gradNorm" | "learningRate"> & {
  /** The entry as HF wrote it. */
  entry: Record<string, unknown>;
};

export type TrainerLogRead = Omit<TrainerLogReadRow, "runId">;

/** Store a job's log entries and the outcome of reading them, in one transaction. */
export function recordTrainerLog(store: Store, runId: number, read: Omit<TrainerLogRead, "readAt">, entries: readonly TrainerLogEntry[]): void {
  inTransaction(store, () => {
    const insert = store.database.query(
      `INSERT INTO trainer_logs (run_id, job_id, global_step, step, loss, kl, grad_norm, learning_rate, entry_json, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, job_id, global_step) DO UPDATE SET step = excluded.step, loss = excluded.loss, kl = excluded.kl,
         grad_norm = excluded.grad_norm, learning_rate = excluded.learning_rate, entry_json = excluded.entry_json`,
    );
    const stamp = now();
    for (const entry of entries) {
      insert.run(runId, read.jobId, entry.globalStep, entry.step, entry.loss, entry.kl, entry.gradNorm, entry.learningRate, JSON.stringify(entry.entry), stamp);
    }
    store.database
      .query(
        `INSERT INTO trainer_log_reads (run_id, job_id, path, entries, problem, read_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, job_id) DO UPDATE SET path = excluded.path, entries = excluded.entries, problem = excluded.problem, read_at = excluded.read_at`,
      )
      .run(runId, read.jobId, read.path, read.entries, read.problem, stamp);
  });
}

/** The last read of each job's log, oldest job first. */
export function trainerLogReadsOf(store: Store, runId: number): TrainerLogRead[] {
  return guarded(store, () =>
    store.database
      .query<TrainerLogRead, [number]>(
        "SELECT job_id AS jobId, path, entries, problem, read_at AS readAt FROM trainer_log_reads WHERE run_id = ? ORDER BY rowid",
      )
      .all(runId),
  );
}

/** Per musique step: the mean loss, KL, grad norm and learning rate of its optimizer steps, and how many were logged. */
export type TrainerStepMetrics = Pick<TrainerLogRow, "loss" | "kl" | "gradNorm" | "learningRate"> & { step: number; entries: number };

export function trainerMetricsByStep(store: Store, runId: number): TrainerStepMetrics[] {
  return guarded(store, () =>
    store.database
      .query<TrainerStepMetrics, [number]>(
        `SELECT step, COUNT(*) AS entries, AVG(loss) AS loss, AVG(kl) AS kl, AVG(grad_norm) AS gradNorm, AVG(learning_rate) AS learningRate
         FROM trainer_logs WHERE run_id = ? AND step IS NOT NULL GROUP BY step ORDER BY step`,
      )
      .all(runId),
  );
}
