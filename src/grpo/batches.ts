/**
 * Feeding GRPO groups to Arbor HEAD's trainer with the batch-id protocol (arbor.md §3): poll
 * /status, and for each pending batch id the trainer asked for and has not received, POST one
 * group. Arbor assigns ids in arrival order (the id we send is required but ignored), so the
 * k-th group ever posted is batch k. `post` returns only once the trainer has asked for every
 * group of the step, so the caller never generates more than one step ahead of the trainer
 * (rollouts stay at most one step off-policy, as in Arbor's own client).
 *
 * A dead trainer does not show in /status (it keeps saying "running" with frozen pending ids):
 * Arbor's /step then never answers, because it waits on the trainer's control socket. So a step
 * unanswered for DEFAULTS.arborStepAcceptSeconds while /status still answers promptly means the
 * trainer is lost (when /status does not answer either, Arbor itself is busy, e.g. launching a
 * model, and the step keeps its full deadline). And when the trainer stops asking for batches for
 * ten times its slowest pace so far (at least DEFAULTS.arborStallFloorSeconds, at most
 * --request-timeout), it is lost too. Both are TrainerLostError: the job must be cancelled, since
 * terminate would wait on the trainer forever.
 */
import { DEFAULTS } from "../config/defaults.ts";
import { ServiceError } from "../errors.ts";
import { sleep } from "../http/retry.ts";
import type { ArborClient } from "./arbor.ts";
import { ARBOR_SERVICE } from "./arbor-errors.ts";
import type { GrpoChatData, GrpoStatus, StepRequest } from "./arbor-wire.ts";

/** Arbor refreshes pending_batch_ids about every 0.5 s. */
const STATUS_POLL_INTERVAL_MS = 500;
/** Seconds a liveness /status may take before Arbor counts as busy rather than the trainer as lost. */
const LIVENESS_STATUS_SECONDS = 10;

/** The trainer behind an Arbor job stopped answering; only cancel can end the job. */
export class TrainerLostError extends ServiceError {}

export interface BatchFeederOptions {
  arbor: ArborClient;
  jobId: string;
  pollIntervalMs?: number;
  /** The longest wait for the trainer to ask for a batch (--request-timeout). */
  stallTimeoutSeconds?: number;
  /** The least stall that counts as a lost trainer once its pace is known. */
  stallFloorSeconds?: number;
  /** How long a /step may stay unanswered while /status answers. */
  stepAcceptSeconds?: number;
  /** Groups already posted to this job (0 for a new job). */
  alreadyPosted?: number;
}

/** Where time went since the last `takeTimes` (seconds). */
export interface FeederTimes {
  /** musique had a group ready and waited for the trainer to ask for it. */
  waitingForArborSeconds: number;
  /** The trainer waited for musique's next group. */
  arborWaitingSeconds: number;
}

export interface PostedGroups {
  /** The id Arbor assigned to each group, in order. */
  batchIds: number[];
  /** Arbor's answer to the last POST. */
  lastStatus: GrpoStatus | null;
}

export class BatchFeeder {
  private posted: number;
  private readonly pollIntervalMs: number;
  private readonly stallTimeoutMs: number;
  private readonly stallFloorMs: number;
  private readonly stepAcceptMs: number;
  /** The longest time the trainer took to change its pending ids (its pace), once seen. */
  private slowestPaceMs: number | null = null;
  /** How far past the groups posted the trainer's pending ids reach while it waits (learned). */
  private reach = 0;
  /** When the polls first saw the trainer waiting for the next group (null: not waiting). */
  private arborWaitingSince: number | null = null;
  private arborWaitingMs = 0;
  private waitingForArborMs = 0;

  constructor(private readonly options: BatchFeederOptions) {
    this.posted = options.alreadyPosted ?? 0;
    this.pollIntervalMs = options.pollIntervalMs ?? STATUS_POLL_INTERVAL_MS;
    this.stallTimeoutMs = (options.stallTimeoutSeconds ?? DEFAULTS.arborStepTimeoutSeconds) * 1000;
    this.stallFloorMs = (options.stallFloorSeconds ?? DEFAULTS.arborStallFloorSeconds) * 1000;
    this.stepAcceptMs = (options.stepAcceptSeconds ?? DEFAULTS.arborStepAcceptSeconds) * 1000;
  }

  /** Groups posted to the job so far. */
  get postedCount(): number {
    return this.posted;
  }

  /** How long the trainer may go without asking for a batch before it counts as lost. */
  get stallLimitMs(): number {
    if (this.slowestPaceMs === null) return this.stallTimeoutMs;
    return Math.min(this.stallTimeoutMs, Math.max(this.stallFloorMs, 10 * this.slowestPaceMs));
  }

  /** Time accounting since the last call, then start again from zero. */
  takeTimes(): FeederTimes {
    const now = performance.now();
    if (this.arborWaitingSince !== null) {
      this.arborWaitingMs += now - this.arborWaitingSince;
      this.arborWaitingSince = now;
    }
    const times = { waitingForArborSeconds: this.waitingForArborMs / 1000, arborWaitingSeconds: this.arborWaitingMs / 1000 };
    this.waitingForArborMs = 0;
    this.arborWaitingMs = 0;
    return times;
  }

  /** Note a /status answer: is the trainer blocked on the next group? */
  private observe(status: GrpoStatus): void {
    const now = performance.now();
    const pending = status.pendingBatchIds;
    let waiting = false;
    if (pending.includes(this.posted)) {
      const reach = Math.max(...pending) - this.posted;
      this.reach = Math.max(this.reach, reach);
      waiting = reach >= this.reach;
    }
    if (waiting && this.arborWaitingSince === null) this.arborWaitingSince = now;
    if (!waiting) this.stopArborWaiting(now);
  }

  private stopArborWaiting(now: number): void {
    if (this.arborWaitingSince === null) return;
    this.arborWaitingMs += now - this.arborWaitingSince;
    this.arborWaitingSince = null;
  }

  /**
   * Wait for `work` (rollouts, a validation) while polling /status to see whether the trainer
   * waits meanwhile. A failed poll is left to the next `post` to judge.
   */
  async during<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
    const done = new AbortController();
    const settled = work.then(
      () => done.abort(),
      () => done.abort(),
    );
    const polling = AbortSignal.any([signal, done.signal]);
    while (!polling.aborted) {
      // A poll under way when the work ends is not cut (no request left unanswered) nor waited for
      // (a retried poll must not hold the run up); a failed poll is left to the next post to judge.
      const poll = this.options.arbor.status(this.options.jobId, signal).then(
        (status) => {
          if (!polling.aborted) this.observe(status);
        },
        () => undefined,
      );
      await Promise.race([poll, settled]);
      await sleep(this.pollIntervalMs, polling).catch(() => undefined);
    }
    await settled;
    return work;
  }

  /** Post `groups` as the trainer asks for them; each group is exactly num_generations samples. */
  async post(groups: readonly GrpoChatData[][], metrics: Record<string, number>, signal: AbortSignal): Promise<PostedGroups> {
    const { arbor, jobId } = this.options;
    const batchIds: number[] = [];
    let lastStatus: GrpoStatus | null = null;
    let next = 0;
    let lastChange = performance.now();
    let lastPending: string | null = null;
    while (next < groups.length) {
      const polled = performance.now();
      const status = await arbor.status(jobId, signal);
      this.observe(status);
      if (status.status === "cancelled") {
        throw new ServiceError(`Arbor job ${jobId} was cancelled`, {
          service: ARBOR_SERVICE,
          url: arbor.baseUrl,
          retryable: false,
          cause: "someone cancelled the job (POST …/grpo/cancel) or Arbor stopped it",
          fix: "resume the run (musique train --resume RUN): it starts a new job",
        });
      }
      const pendingKey = status.pendingBatchIds.join(",");
      if (pendingKey !== lastPending) {
        if (lastPending !== null) this.notePace(performance.now() - lastChange);
        lastPending = pendingKey;
        lastChange = performance.now();
      }
      const wanted = status.pendingBatchIds.filter((id) => id >= this.posted);
      if (wanted.length === 0) {
        if (performance.now() - lastChange > this.stallLimitMs) throw this.stalled(status);
        await sleep(this.pollIntervalMs, signal);
        this.waitingForArborMs += performance.now() - polled;
        continue;
      }
      for (const requestedId of wanted) {
        const group = groups[next];
        if (group === undefined) break;
        lastStatus = await this.stepWatched({ job_id: jobId, model: jobId, batch_id: requestedId, batch: [...group], metrics }, signal);
        batchIds.push(this.posted);
        this.stopArborWaiting(performance.now());
        this.posted += 1;
        next += 1;
      }
      lastChange = performance.now();
    }
    return { batchIds, lastStatus };
  }

  private notePace(elapsedMs: number): void {
    this.slowestPaceMs = Math.max(this.slowestPaceMs ?? 0, elapsedMs);
  }

  /** POST /step, watching the trainer: a step that hangs while /status answers means it is lost. */
  private async stepWatched(request: StepRequest, signal: AbortSignal): Promise<GrpoStatus> {
    const { arbor } = this.options;
    const controller = new AbortController();
    const stepSignal = AbortSignal.any([signal, controller.signal]);
    const step = arbor.step(request, stepSignal);
    let settled = false;
    const watch = (async (): Promise<TrainerLostError | null> => {
      await sleep(this.stepAcceptMs, AbortSignal.any([signal, controller.signal])).catch(() => undefined);
      while (!settled && !signal.aborted) {
        const answered = await arbor
          .status(request.job_id, AbortSignal.any([signal, AbortSignal.timeout(LIVENESS_STATUS_SECONDS * 1000)]), { alongside: true })
          .then(() => true)
          .catch(() => false);
        if (settled || signal.aborted) return null;
        if (answered) return this.lostOnStep(request);
        // Arbor itself is not answering (busy, e.g. launching a model): the step keeps its deadline.
        await sleep(this.pollIntervalMs * 10, signal).catch(() => undefined);
      }
      return null;
    })();
    try {
      const result = await Promise.race([step.then((status) => ({ status })), watch.then((lost) => (lost ? { lost } : new Promise<never>(() => {})))]);
      if ("lost" in result) {
        controller.abort(result.lost);
        step.catch(() => undefined);
        throw result.lost;
      }
      return result.status;
    } finally {
      settled = true;
      controller.abort();
    }
  }

  private lostOnStep(request: StepRequest): TrainerLostError {
    return new TrainerLostError(
      `Arbor did not accept group ${this.posted} of job ${request.job_id} within ${Math.round(this.stepAcceptMs / 1000)} s, ` +
        "while its /status answers at once: the trainer process has crashed or hangs",
      {
        service: ARBOR_SERVICE,
        url: this.options.arbor.baseUrl,
        retryable: false,
        cause: "Arbor hands a group to the trainer over its control socket, which never answers once the trainer is gone (out of memory, NCCL error, killed)",
        fix: "see <storage_path>/<job_id>/logs/grpo_training.log on the Arbor machine; the job is cancelled to free its GPUs; fix the cause and resume the run",
      },
    );
  }

  private stalled(status: GrpoStatus): TrainerLostError {
    return new TrainerLostError(
      `Arbor's trainer has not asked for a batch in ${Math.round(this.stallLimitMs / 1000)} s ` +
        `(job ${status.jobId}, ${this.posted} groups posted, pending ${JSON.stringify(status.pendingBatchIds)})`,
      {
        service: ARBOR_SERVICE,
        url: this.options.arbor.baseUrl,
        retryable: false,
        cause:
          this.slowestPaceMs === null
            ? "the trainer crashed or hangs"
            : `the trainer crashed or hangs: it used to ask within ${Math.round(this.slowestPaceMs / 1000)} s`,
        fix: "see <storage_path>/<job_id>/logs/grpo_training.log on the Arbor machine; raise --request-timeout if a step is just slow; resume the run after fixing the cause",
      },
    );
  }
}
