/**
 * Arbor jobs of a training run (docs/store.md `arbor_jobs`, docs/specs/arbor.md §2d): one row per
 * initialize, written before the request is sent so that a job musique started is never
 * forgotten (a resume finds it, makes its checkpoint safe and cancels it to free its GPUs).
 */
import { guarded, now, type Store } from "./database.ts";
import type { ArborJobRow } from "./tables.ts";

/**
 * initializing: sent, no answer yet · running · terminating: terminate sent, no answer ·
 * terminated: terminate answered (vLLM still serves the job and holds its GPUs) · cancelled:
 * GPUs freed · lost: the trainer stopped answering · gone: Arbor no longer knows the job
 * (restarted) · failed: initialize failed.
 */
export type ArborJobStatus = ArborJobRow["status"];

/**
 * A job as recorded: its run and attempt, the run_name musique sent (`<run>-r<attempt>`, part of
 * Arbor's job id), Arbor's job id once initialize answered, what it started from (--model or a
 * checkpoint directory) and the training steps completed then, its status and groups posted.
 */
export type ArborJobRecord = Omit<ArborJobRow, "id">;

const JOB_COLUMNS = `j.run_id AS runId, j.attempt, j.arbor_run_name AS arborRunName, j.job_id AS jobId, j.base_url AS baseUrl,
  j.model, j.start_step AS startStep, j.trainer_max_steps AS trainerMaxSteps, j.status, j.groups_posted AS groupsPosted,
  j.note, j.started_at AS startedAt, j.ended_at AS endedAt`;

export type NewArborJob = Pick<ArborJobRecord, "runId" | "attempt" | "arborRunName" | "baseUrl" | "model" | "startStep" | "trainerMaxSteps">;

/** Record a job about to be initialized (status initializing). */
export function recordArborJobStart(store: Store, job: NewArborJob): void {
  guarded(store, () =>
    store.database
      .query(
        `INSERT INTO arbor_jobs (run_id, attempt, arbor_run_name, base_url, model, start_step, trainer_max_steps, status, started_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'initializing', ?)
         ON CONFLICT (run_id, attempt) DO UPDATE SET arbor_run_name = excluded.arbor_run_name, base_url = excluded.base_url,
           model = excluded.model, start_step = excluded.start_step, trainer_max_steps = excluded.trainer_max_steps,
           status = 'initializing', job_id = NULL, groups_posted = 0, note = NULL, started_at = excluded.started_at, ended_at = NULL`,
      )
      .run(job.runId, job.attempt, job.arborRunName, job.baseUrl, job.model, job.startStep, job.trainerMaxSteps, now()),
  );
}

export interface ArborJobUpdate {
  status?: ArborJobStatus;
  jobId?: string;
  groupsPosted?: number;
  note?: string | null;
}

const ENDED: readonly ArborJobStatus[] = ["terminated", "cancelled", "lost", "gone", "failed"];

/** Update a job's status, id, posted-group count or note; an ending status stamps ended_at. */
export function updateArborJob(store: Store, runId: number, attempt: number, update: ArborJobUpdate): void {
  const ended = update.status !== undefined && ENDED.includes(update.status) ? now() : null;
  guarded(store, () =>
    store.database
      .query(
        `UPDATE arbor_jobs SET status = COALESCE(?, status), job_id = COALESCE(?, job_id),
           groups_posted = COALESCE(?, groups_posted), note = CASE WHEN ? THEN ? ELSE note END,
           ended_at = COALESCE(?, ended_at)
         WHERE run_id = ? AND attempt = ?`,
      )
      .run(
        update.status ?? null,
        update.jobId ?? null,
        update.groupsPosted ?? null,
        update.note === undefined ? 0 : 1,
        update.note ?? null,
        ended,
        runId,
        attempt,
      ),
  );
}

/** Every Arbor job of a run, first attempt first. */
export function arborJobsOf(store: Store, runId: number): ArborJobRecord[] {
  return guarded(store, () =>
    store.database.query<ArborJobRecord, [number]>(`SELECT ${JOB_COLUMNS} FROM arbor_jobs j WHERE j.run_id = ? ORDER BY j.attempt`).all(runId),
  );
}

/**
 * Jobs at `baseUrl` (of any run in this database) that may still hold GPUs: not cancelled, not
 * gone and not failed (an initialize that never answered included: Arbor keeps its GPUs). For the message when Arbor has no free GPUs.
 */
export function jobsHoldingGpus(store: Store, baseUrl: string): Array<ArborJobRecord & { runName: string }> {
  return guarded(store, () =>
    store.database
      .query<ArborJobRecord & { runName: string }, [string]>(
        `SELECT ${JOB_COLUMNS}, r.name AS runName FROM arbor_jobs j JOIN runs r ON r.id = j.run_id
         WHERE j.base_url = ? AND (j.job_id IS NOT NULL OR j.status = 'initializing') AND j.status NOT IN ('cancelled', 'gone', 'failed')
         ORDER BY j.started_at`,
      )
      .all(baseUrl),
  );
}
