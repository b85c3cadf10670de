/**
 * One Arbor GRPO job of a training run, from initialize to its end (docs/specs/arbor.md §2d, §4):
 * recorded in the store before initialize is sent (arbor_jobs), with a run name unique per job
 * (`<run>-r<attempt>`, so a resume never reuses a job id), every checkpoint recorded with the job
 * that wrote it (requested ones, terminate's checkpoint_final, and HF's own save_steps ones), and
 * one way to end it: terminate (saves checkpoint_final; vLLM keeps serving the job on all its
 * GPUs) or cancel (frees the GPUs). A job whose trainer stopped answering is cancelled, never
 * terminated: terminate would wait on the trainer forever.
 */
import { DEFAULTS } from "../config/defaults.ts";
import { InterruptedError, ServiceError } from "../errors.ts";
import { log } from "../log.ts";
import type { Store } from "../store/database.ts";
import { recordArborJobStart, updateArborJob, type ArborJobRecord, type ArborJobStatus } from "../store/jobs.ts";
import { checkpointsOf, recordCheckpoint, stepOfBatch } from "../store/training.ts";
import type { ArborClient } from "./arbor.ts";
import { cancelCommand } from "./arbor-errors.ts";
import { TrainerLostError } from "./batches.ts";
import type { CheckpointRecord, GrpoStatus, InitializeRequest } from "./arbor-wire.ts";
import { gpuShortage } from "./gpu-messages.ts";
import { harvestTrainerLog } from "./trainer-log.ts";
import { expectedJobId, HF_SAVE_STEPS } from "./trainer-config.ts";

/** How long stopping a job may wait for Arbor: within the shutdown grace after a signal, with time left to record. */
const STOP_WAIT_SECONDS = Math.max(10, DEFAULTS.shutdownGraceSeconds - 30);

export interface JobStart {
  store: Store;
  runId: number;
  arbor: ArborClient;
  attempt: number;
  arborRunName: string;
  /** Training steps completed before this job. */
  startStep: number;
  request: InitializeRequest;
  signal: AbortSignal;
}

/** A ServiceError that means "no answer in time" (the call may still be running in Arbor). */
export function isTimeout(error: unknown): boolean {
  if (!(error instanceof ServiceError)) return false;
  const kind = (error as { kind?: unknown }).kind;
  return kind === "timeout" || (kind === undefined && error.status === undefined && /did not answer/.test(error.message));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ArborJob {
  /** The trainer stopped answering (a step or the batch feed stalled): only cancel can end the job. */
  trainerLost = false;
  private status: ArborJobStatus = "running";

  private constructor(
    private readonly store: Store,
    private readonly runId: number,
    private readonly arbor: ArborClient,
    readonly attempt: number,
    readonly startStep: number,
    readonly jobId: string,
    /** The model name rollouts sample from (the job id). */
    readonly currentModel: string,
  ) {}

  /** Record the job, then initialize it (minutes: Arbor launches vLLM and the trainer). */
  static async start(start: JobStart): Promise<ArborJob> {
    const { store, runId, arbor, attempt, request } = start;
    recordArborJobStart(store, {
      runId,
      attempt,
      arborRunName: start.arborRunName,
      baseUrl: arbor.baseUrl,
      model: request.model,
      startStep: start.startStep,
      trainerMaxSteps: request.trainer_config.max_steps ?? -1,
    });
    let status: GrpoStatus;
    try {
      status = await arbor.initialize(request, start.signal);
    } catch (error) {
      // A timeout or an interrupt leaves the job possibly coming up in Arbor: keep "initializing",
      // so the resume (or the GPU message) looks for it. Anything else: Arbor refused it.
      if (error instanceof InterruptedError || start.signal.aborted) {
        const id = expectedJobId(request.model, start.arborRunName);
        log.warn(
          `Arbor goes on starting job ${id} and will hold its GPUs: the resume settles it once it is up, or cancel it: ${cancelCommand(arbor.baseUrl, id)}`,
        );
      } else if (!isTimeout(error)) {
        updateArborJob(store, runId, attempt, { status: "failed", note: describe(error) });
      }
      const shortage = error instanceof ServiceError ? gpuShortage(error, store, arbor.baseUrl, request) : null;
      throw shortage ?? error;
    }
    updateArborJob(store, runId, attempt, { status: "running", jobId: status.jobId });
    return new ArborJob(store, runId, arbor, attempt, start.startStep, status.jobId, status.currentModel);
  }

  /** Take over a job recorded earlier (a resume whose steps are all trained validates with it). */
  static attach(store: Store, arbor: ArborClient, record: ArborJobRecord): ArborJob {
    if (record.jobId === null) throw new Error(`Arbor job ${record.arborRunName} has no job id`);
    const job = new ArborJob(store, record.runId, arbor, record.attempt, record.startStep, record.jobId, record.jobId);
    job.status = record.status;
    job.trainerLost = record.status === "lost";
    return job;
  }

  /** Record the groups posted to this job so far (after each step). */
  notePosted(groups: number): void {
    updateArborJob(this.store, this.runId, this.attempt, { groupsPosted: groups });
  }

  /** Ask Arbor to save the current weights as `name`; records and returns Arbor's record. */
  async checkpoint(name: string, step: number, metadata: Record<string, unknown>, signal: AbortSignal): Promise<CheckpointRecord | null> {
    const status = await this.arbor.checkpoint(this.jobId, name, metadata, signal);
    const record = status.checkpoints[name] ?? null;
    recordCheckpoint(this.store, this.runId, {
      jobId: this.jobId,
      step,
      name,
      directory: record?.directory ?? null,
      globalStep: record?.globalStep ?? null,
      metadata,
      arborRecord: record,
    });
    harvestTrainerLog(this.store, this.runId, { jobId: this.jobId, startStep: this.startStep }, { name, directory: record?.directory ?? null });
    return record;
  }

  /** The normal end: terminate (Arbor saves checkpoint_final; vLLM keeps serving the job). */
  async finish(stepsCompleted: number, signal: AbortSignal): Promise<CheckpointRecord | null> {
    this.setStatus("terminating");
    const status = await this.arbor.terminate(this.jobId, signal);
    this.setStatus("terminated");
    return recordJobCheckpoints(this.store, this.runId, this.jobId, this.startStep, status, stepsCompleted);
  }

  /**
   * End the job after a failure or a stop signal, within STOP_WAIT_SECONDS: terminate (keeps what
   * was learned) or cancel (frees the GPUs at once); a lost trainer is always cancelled. Never
   * throws: the error that stopped the run is the one to report.
   */
  async stop(how: "terminate" | "cancel", stepsCompleted: number): Promise<void> {
    if (this.trainerLost && how === "terminate") {
      log.warn(`Arbor's trainer for job ${this.jobId} stopped answering, so terminate would wait forever: cancelling the job to free its GPUs`);
      how = "cancel";
    }
    if (how === "terminate") {
      log.warn(`asking Arbor to terminate job ${this.jobId} (saves checkpoint_final; vLLM keeps serving it)`);
      this.setStatus("terminating");
      try {
        const status = await this.arbor.terminate(this.jobId, AbortSignal.timeout(STOP_WAIT_SECONDS * 1000));
        this.setStatus("terminated");
        const final = recordJobCheckpoints(this.store, this.runId, this.jobId, this.startStep, status, stepsCompleted);
        if (final) log.info(`Arbor saved ${final.name} at ${final.directory}`);
        log.warn(
          `job ${this.jobId} still holds its GPUs (vLLM serves the final weights); the resume cancels it, or: ${cancelCommand(this.arbor.baseUrl, this.jobId)}`,
        );
      } catch (error) {
        if (isTimeout(error) || error instanceof InterruptedError) {
          log.warn(
            `Arbor has not finished terminating job ${this.jobId} within ${STOP_WAIT_SECONDS} s (saving checkpoint_final can take minutes); ` +
              "it goes on without musique: the resume records checkpoint_final, then cancels the job to free its GPUs",
          );
        } else {
          log.warn(`could not terminate Arbor job ${this.jobId}: ${describe(error)}; free its GPUs with: ${cancelCommand(this.arbor.baseUrl, this.jobId)}`);
        }
      }
      return;
    }
    await this.cancel();
  }

  /** Cancel the job (kills vLLM and the trainer, frees the GPUs; no checkpoint). Never throws. */
  async cancel(): Promise<void> {
    log.warn(`cancelling Arbor job ${this.jobId} (frees its GPUs; nothing more is saved)`);
    const outcome = await cancelJob(this.arbor, this.jobId);
    if (outcome !== "failed") this.setStatus(outcome);
  }

  private setStatus(status: ArborJobStatus, note?: string): void {
    this.status = status;
    updateArborJob(this.store, this.runId, this.attempt, { status, ...(note === undefined ? {} : { note }) });
  }

  /** Arbor answered terminate with an error: the job is still running as it was. */
  terminateRefused(reason: string): void {
    this.setStatus("running", `terminate refused: ${reason}`);
  }

  /** Mark the trainer lost (the job then ends with cancel). */
  markTrainerLost(reason: string): void {
    this.trainerLost = true;
    this.setStatus("lost", reason);
  }

  get state(): ArborJobStatus {
    return this.status;
  }
}

/** Cancel a job by id: "cancelled", "gone" when Arbor does not know it, or "failed" (logged). */
export async function cancelJob(arbor: ArborClient, jobId: string): Promise<"cancelled" | "gone" | "failed"> {
  try {
    await arbor.cancel(jobId, AbortSignal.timeout(STOP_WAIT_SECONDS * 1000));
    return "cancelled";
  } catch (error) {
    if (error instanceof ServiceError && error.status === 404) return "gone";
    log.warn(`could not cancel Arbor job ${jobId}: ${describe(error)}; restart Arbor to free its GPUs`);
    return "failed";
  }
}

/**
 * Record every checkpoint in a status answer that this job wrote (once per name), and the ones
 * HF saved on its own every HF_SAVE_STEPS optimizer steps up to checkpoint_final. `step` is the
 * number of training steps completed, recorded for checkpoint_final. Returns checkpoint_final.
 */
export function recordJobCheckpoints(store: Store, runId: number, jobId: string, startStep: number, status: GrpoStatus, step: number): CheckpointRecord | null {
  const known = new Set(
    checkpointsOf(store, runId)
      .filter((record) => record.jobId === jobId)
      .map((record) => record.name),
  );
  for (const record of Object.values(status.checkpoints)) {
    if (known.has(record.name) && record.name !== "checkpoint_final") continue;
    const metadataStep = typeof record.metadata?.step === "number" ? record.metadata.step : null;
    recordCheckpoint(store, runId, {
      jobId,
      step: metadataStep ?? step,
      name: record.name,
      directory: record.directory,
      globalStep: record.globalStep,
      metadata: record.metadata,
      arborRecord: record,
    });
  }
  const final = status.checkpoints.checkpoint_final ?? null;
  if (final && final.globalStep !== null) recordAutomaticCheckpoints(store, runId, jobId, startStep, status, final);
  // The final checkpoint's log holds every optimizer step of the job.
  if (final) harvestTrainerLog(store, runId, { jobId, startStep }, final);
  return final;
}

/**
 * HF's trainer saves `checkpoint-<N>` every HF_SAVE_STEPS optimizer steps (one group each) into
 * the job's checkpoints folder; a requested checkpoint at the same optimizer step takes that
 * folder over (Arbor renames it). Record the rest, with the training step whose group N ended.
 */
/**
 * Steps completed once the job's trainer has trained batch `batchId`: the step that posted it
 * (this job's steps are startStep + 1, …) if it was that step's last group, else one less (the
 * step was under way); startStep when no step posted it.
 */
function stepsCompletedAtBatch(store: Store, runId: number, startStep: number, batchId: number): number {
  const step = stepOfBatch(store, runId, startStep + 1, batchId);
  if (step === null) return startStep;
  return stepOfBatch(store, runId, startStep + 1, batchId + 1) === step ? step - 1 : step;
}

function recordAutomaticCheckpoints(store: Store, runId: number, jobId: string, startStep: number, status: GrpoStatus, final: CheckpointRecord): void {
  const lastStep = final.globalStep ?? 0;
  const folder = final.directory.slice(0, final.directory.lastIndexOf("/"));
  const named = new Set(Object.values(status.checkpoints).map((record) => record.globalStep));
  for (let saved = HF_SAVE_STEPS; saved <= lastStep; saved += HF_SAVE_STEPS) {
    if (named.has(saved)) continue;
    recordCheckpoint(store, runId, {
      jobId,
      step: stepsCompletedAtBatch(store, runId, startStep, saved - 1),
      name: `checkpoint-${saved}`,
      directory: `${folder}/checkpoint-${saved}`,
      globalStep: saved,
      automatic: true,
      metadata: { written_by: `HF Trainer save_steps=${HF_SAVE_STEPS} (not requested by musique)` },
    });
  }
}

/** End the job after a failure or a stop signal (never throws; the original error is reported). */
export async function stopJob(job: ArborJob, error: unknown, how: "terminate" | "cancel", stepsCompleted: number): Promise<void> {
  if (error instanceof TrainerLostError) job.markTrainerLost(error.message);
  if (job.state === "terminating") {
    // The final terminate itself failed.
    if (isTimeout(error)) {
      log.warn(`Arbor did not finish terminating job ${job.jobId} in time: its trainer is not answering; cancelling the job to free its GPUs`);
      await job.cancel();
    } else if (error instanceof ServiceError && error.status !== undefined) {
      job.terminateRefused(error.message);
      log.warn(`Arbor refused to terminate job ${job.jobId}; the resume terminates it again (no new job is needed)`);
    } else {
      log.warn(`Arbor goes on terminating job ${job.jobId} without musique; the resume records checkpoint_final, then cancels the job`);
    }
    return;
  }
  if (job.state === "running" || job.state === "lost") await job.stop(how, stepsCompleted);
}
