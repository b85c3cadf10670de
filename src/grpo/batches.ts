/**
 * Feeding GRPO groups to Arbor HEAD's trainer with the batch-id protocol (arbor.md §3): poll
 * /status, and for each pending batch id the trainer asked for and has not received, POST one
 * group. Arbor assigns ids in arrival order (the id we send is required but ignored), so the
 * k-th group ever posted is batch k. `post` returns only once the trainer has asked for every
 * group of the step, so the caller never generates more than one step ahead of the trainer
 * (rollouts stay at most one step off-policy, as in Arbor's own client).
 */
import { DEFAULTS } from "../config/defaults.ts";
import { ServiceError } from "../errors.ts";
import { sleep } from "../http/retry.ts";
import type { ArborClient } from "./arbor.ts";
import { ARBOR_SERVICE } from "./arbor-errors.ts";
import type { GrpoChatData, GrpoStatus } from "./arbor-wire.ts";

/** Arbor refreshes pending_batch_ids about every 0.5 s. */
export const STATUS_POLL_INTERVAL_MS = 500;

export interface BatchFeederOptions {
  arbor: ArborClient;
  jobId: string;
  pollIntervalMs?: number;
  /** Seconds without the trainer asking for a new batch before giving up. */
  stallTimeoutSeconds?: number;
  /** Groups already posted to this job (0 for a new job). */
  alreadyPosted?: number;
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

  constructor(private readonly options: BatchFeederOptions) {
    this.posted = options.alreadyPosted ?? 0;
    this.pollIntervalMs = options.pollIntervalMs ?? STATUS_POLL_INTERVAL_MS;
    this.stallTimeoutMs = (options.stallTimeoutSeconds ?? DEFAULTS.arborStepTimeoutSeconds) * 1000;
  }

  /** Groups posted to the job so far. */
  get postedCount(): number {
    return this.posted;
  }

  /** Post `groups` as the trainer asks for them; each group is exactly num_generations samples. */
  async post(groups: readonly GrpoChatData[][], metrics: Record<string, number>, signal: AbortSignal): Promise<PostedGroups> {
    const { arbor, jobId } = this.options;
    const batchIds: number[] = [];
    let lastStatus: GrpoStatus | null = null;
    let next = 0;
    let lastProgress = performance.now();
    let lastPending = "";
    while (next < groups.length) {
      const status = await arbor.status(jobId, signal);
      if (status.status === "cancelled") {
        throw new ServiceError(`Arbor job ${jobId} was cancelled`, {
          service: ARBOR_SERVICE,
          url: arbor.baseUrl,
          retryable: false,
          cause: "someone cancelled the job (POST …/grpo/cancel) or Arbor stopped it",
          fix: "start a new training run",
        });
      }
      const wanted = status.pendingBatchIds.filter((id) => id >= this.posted);
      const pendingKey = status.pendingBatchIds.join(",");
      if (pendingKey !== lastPending) {
        lastPending = pendingKey;
        lastProgress = performance.now();
      }
      if (wanted.length === 0) {
        if (performance.now() - lastProgress > this.stallTimeoutMs) throw this.stalled(status);
        await sleep(this.pollIntervalMs, signal);
        continue;
      }
      for (const requestedId of wanted) {
        const group = groups[next];
        if (group === undefined) break;
        lastStatus = await arbor.step({ job_id: jobId, model: jobId, batch_id: requestedId, batch: [...group], metrics }, signal);
        batchIds.push(this.posted);
        this.posted += 1;
        next += 1;
      }
      lastProgress = performance.now();
    }
    return { batchIds, lastStatus };
  }

  private stalled(status: GrpoStatus): ServiceError {
    return new ServiceError(
      `Arbor's trainer has not asked for a batch in ${Math.round(this.stallTimeoutMs / 1000)} s ` +
        `(job ${status.jobId}, ${this.posted} groups posted, pending ${JSON.stringify(status.pendingBatchIds)})`,
      {
        service: ARBOR_SERVICE,
        url: this.options.arbor.baseUrl,
        retryable: false,
        cause: "the trainer crashed or hangs, or it reached its max_steps",
        fix: "see <storage_path>/<job_id>/logs/grpo_training.log on the Arbor machine; raise --request-timeout if a step is just slow",
      },
    );
  }
}
