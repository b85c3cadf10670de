/**
 * Before a resumed run starts a new Arbor job: settle the run's earlier jobs (docs/specs/arbor.md
 * §2d). Arbor's terminate keeps vLLM serving and every GPU of the job allocated, so on the same
 * node a new initialize would fail with GPUAllocationError. For each earlier job Arbor still
 * knows: record the checkpoints it holds that the run has not (checkpoint_final of a terminate
 * that finished after musique stopped), make sure its weights are saved (terminate it if it is
 * still running; wait for a terminate already under way), then cancel it to free the GPUs. A run
 * whose steps are all trained keeps its last job serving instead, to validate with it.
 */
import { ServiceError } from "../errors.ts";
import { sleep } from "../http/retry.ts";
import { log } from "../log.ts";
import type { Store } from "../store/database.ts";
import { arborJobsOf, updateArborJob, type ArborJobRecord } from "../store/jobs.ts";
import type { ArborClient } from "./arbor.ts";
import { cancelCommand } from "./arbor-errors.ts";
import type { GrpoStatus } from "./arbor-wire.ts";
import { cancelJob, isTimeout, recordJobCheckpoints } from "./jobs.ts";
import { expectedJobId } from "./trainer-config.ts";

const SETTLED = new Set(["cancelled", "gone", "failed"]);
/** Seconds between status polls while waiting for a terminate that is already under way. */
const TERMINATE_POLL_SECONDS = 2;

export interface SettleOptions {
  store: Store;
  runId: number;
  arbor: ArborClient;
  /** Training steps completed (recorded as the step of a checkpoint_final found now). */
  stepsCompleted: number;
  /** Keep the last job serving (every step is trained) instead of cancelling it. */
  keepLast: boolean;
  /** Seconds to wait for a terminate (--request-timeout). */
  waitSeconds: number;
  signal: AbortSignal;
}

export interface Settled {
  /** The number for the next job of the run. */
  nextAttempt: number;
  /** With keepLast: the last job, still serving the trained weights (null when Arbor lost it). */
  serving: ArborJobRecord | null;
}

/** The status of a recorded job, or null when Arbor does not know it (restarted since). */
async function statusOf(arbor: ArborClient, job: ArborJobRecord, signal: AbortSignal): Promise<{ id: string; status: GrpoStatus } | null> {
  const candidates =
    job.jobId !== null
      ? [job.jobId]
      : [...new Set([expectedJobId(job.model, job.arborRunName, new Date(job.startedAt)), expectedJobId(job.model, job.arborRunName)])];
  for (const id of candidates) {
    try {
      return { id, status: await arbor.status(id, signal) };
    } catch (error) {
      if (error instanceof ServiceError && error.status === 400) continue;
      throw error;
    }
  }
  return null;
}

/** Wait (up to `seconds`) for a terminate under way to show checkpoint_final in the job's status. */
async function awaitFinal(arbor: ArborClient, id: string, seconds: number, signal: AbortSignal): Promise<GrpoStatus | null> {
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    const status = await arbor.status(id, signal);
    if (status.checkpoints.checkpoint_final || status.status === "cancelled") return status;
    await sleep(TERMINATE_POLL_SECONDS * 1000, signal);
  }
  return null;
}

/** Make an earlier job's weights safe: its status with checkpoint_final, or null if it cannot be had. */
async function secureFinal(options: SettleOptions, job: ArborJobRecord, id: string, status: GrpoStatus): Promise<GrpoStatus | null> {
  const { arbor, waitSeconds, signal } = options;
  if (status.checkpoints.checkpoint_final) return status;
  if (job.status === "lost") {
    log.warn(`earlier job ${id} lost its trainer: its weights since the last checkpoint cannot be saved`);
    return null;
  }
  if (job.status === "terminating") {
    log.info(`earlier job ${id} is still being terminated; waiting up to ${waitSeconds} s for its checkpoint_final`);
    return awaitFinal(arbor, id, waitSeconds, signal);
  }
  log.info(`terminating earlier job ${id} first, so its weights are saved as checkpoint_final`);
  updateArborJob(options.store, options.runId, job.attempt, { status: "terminating" });
  try {
    const answer = await arbor.terminate(id, AbortSignal.any([signal, AbortSignal.timeout(waitSeconds * 1000)]));
    updateArborJob(options.store, options.runId, job.attempt, { status: "terminated" });
    return answer;
  } catch (error) {
    if (!isTimeout(error)) throw error;
    log.warn(`earlier job ${id} did not finish terminating within ${waitSeconds} s (--request-timeout): its trainer is not answering`);
    return null;
  }
}

/**
 * The last job of a fully trained run, kept to validate with: a running one is terminated by the
 * loop after the validation (so a better score can still be checkpointed); a terminate under way
 * is awaited; a job whose terminate never finished has a trainer that no longer answers ("lost":
 * the loop validates with its vLLM, then cancels it).
 */
async function keepServing(options: SettleOptions, job: ArborJobRecord, id: string): Promise<ArborJobRecord> {
  const { store, runId, arbor, waitSeconds, signal } = options;
  if (job.status !== "terminating") return { ...job, jobId: id };
  const final = await awaitFinal(arbor, id, waitSeconds, signal);
  if (final) recordJobCheckpoints(store, runId, id, job.startStep, final, options.stepsCompleted);
  const status = final ? "terminated" : "lost";
  updateArborJob(store, runId, job.attempt, { status });
  return { ...job, jobId: id, status };
}

/** Settle every earlier Arbor job of the run; see the file header. */
export async function settlePreviousJobs(options: SettleOptions): Promise<Settled> {
  const { store, runId, arbor, signal } = options;
  const jobs = arborJobsOf(store, runId);
  const nextAttempt = (jobs.at(-1)?.attempt ?? 0) + 1;
  let serving: ArborJobRecord | null = null;
  for (const [index, job] of jobs.entries()) {
    if (SETTLED.has(job.status)) continue;
    const found = await statusOf(arbor, job, signal);
    if (!found && job.status === "initializing") {
      // Arbor registers a job only when its initialize returns: it may still be starting.
      const id = expectedJobId(job.model, job.arborRunName);
      updateArborJob(store, runId, job.attempt, { note: "unknown to Arbor at a resume: still starting, or its trainer died" });
      log.warn(
        `earlier job ${id} (its initialize never answered) is not known to Arbor: it may still be starting and holding GPUs — ` +
          `wait for it (the next --resume settles it) or cancel it with \`${cancelCommand(arbor.baseUrl, id)}\` — or its trainer died and only an Arbor restart frees its GPUs`,
      );
      continue;
    }
    if (!found) {
      updateArborJob(store, runId, job.attempt, { status: "gone", note: "Arbor no longer knows this job (restarted)" });
      log.info(`earlier job ${job.jobId ?? job.arborRunName} is gone from Arbor (restarted since); its recorded checkpoints stay usable`);
      continue;
    }
    const { id, status } = found;
    if (job.jobId === null) updateArborJob(store, runId, job.attempt, { jobId: id });
    recordJobCheckpoints(store, runId, id, job.startStep, status, options.stepsCompleted);
    if (status.status === "cancelled") {
      updateArborJob(store, runId, job.attempt, { status: "cancelled" });
      continue;
    }
    if (options.keepLast && index === jobs.length - 1) {
      serving = await keepServing(options, job, id);
      continue;
    }
    const secured = await secureFinal(options, job, id, status);
    if (secured) {
      const final = recordJobCheckpoints(store, runId, id, job.startStep, secured, options.stepsCompleted);
      if (final) log.info(`earlier job ${id}: ${final.name} recorded at ${final.directory}`);
    }
    log.info(`cancelling earlier job ${id} to free its GPUs`);
    const outcome = await cancelJob(arbor, id);
    if (outcome !== "failed") updateArborJob(store, runId, job.attempt, { status: outcome });
  }
  return { nextAttempt, serving };
}
