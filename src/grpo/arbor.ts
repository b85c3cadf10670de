/**
 * Arbor HEAD client (docs/specs/arbor.md §2d, §3): initialize a GRPO job, read its status
 * (pending batch ids), post groups, checkpoint, terminate, cancel. Every request goes through the
 * one retry policy (withRetries + fetchOrThrow); errors become ServiceErrors that say what Arbor
 * refused and how to fix it (arbor-errors.ts).
 *
 * Retries: only `status` (and the probe) is idempotent. The other calls (initialize, step,
 * checkpoint, terminate, cancel) are repeated only when the request was never sent (kind
 * `unreachable`: connection refused); never after a timeout or a reset, because the first attempt
 * may still be running (a second initialize would start a second job on the same GPUs). Our
 * deadline (--arbor-timeout, --request-timeout) is the only limit on a call: no Bun idle cut.
 */
import { DEFAULTS } from "../config/defaults.ts";
import { ServiceError } from "../errors.ts";
import { fetchOrThrow, type ServiceResponse } from "../http/fetch.ts";
import { ARBOR_STATUS_LIMIT_BYTES } from "../http/limits.ts";
import { withRetries, type RetryPolicy } from "../http/retry.ts";
import { log, retryLog } from "../log.ts";
import { ARBOR_SERVICE, ARBOR_START, ARBOR_UPGRADE_COMMAND, describeArborError, type ArborOperation } from "./arbor-errors.ts";
import { parseGrpoStatus, type CheckpointRequest, type GrpoStatus, type InitializeRequest, type StepRequest } from "./arbor-wire.ts";
import { expectedJobId } from "./trainer-config.ts";

/**
 * Every Arbor request asks for its own connection. Arbor HEAD answers an error through exception
 * handlers whose exception still reaches uvicorn, which then closes the connection right after the
 * answer (seen against Arbor's real server code: after the probe's 400, 16 of 20 immediate reuses
 * failed). A pooled socket could then carry the next call — an initialize, a terminate — into a
 * reset, and a non-idempotent call is never sent again after a reset.
 */
const ARBOR_HEADERS = { "content-type": "application/json", connection: "close" };

/**
 * Arbor HEAD runs its job routes (initialize, status, step, checkpoint, terminate, cancel) in
 * AnyIO's worker threads and starts a job's vLLM and trainer with PR_SET_PDEATHSIG = SIGTERM
 * (utils/process_runner.py) from the worker that ran initialize. AnyIO retires a worker idle for
 * 10 s when another worker goes idle, and that thread's exit SIGTERMs the job's processes: two
 * calls in flight at once (a second worker) can kill the job 10 s later (seen against Arbor's real
 * server code: a status poll during a checkpoint, then the job's vLLM gone). So the client sends
 * one job call at a time; only the liveness check while a step hangs goes alongside.
 */
export interface CallOptions {
  /** Do not wait for the call in flight (the liveness check of a hung step). */
  alongside?: boolean;
}

/** Seconds between "waiting for Arbor to load the model…" lines during initialize. */
const INITIALIZE_PROGRESS_INTERVAL_SECONDS = 30;
/** Seconds the preflight probe waits: a running Arbor answers /status from memory at once. */
const PROBE_TIMEOUT_SECONDS = 10;
/** A job id no Arbor has: HEAD answers 400 KeyError for it. */
export const PROBE_JOB_ID = "musique-probe:no-such-job";

/**
 * The Arbor base URL, always ending in "/" (DSPy joins routes relative to it; without the slash
 * `v1` would be dropped). `--arbor-url http://host:7453` (no path) means `http://host:7453/v1/`.
 */
export function arborBaseUrl(options: { arborUrl?: string | undefined; port: number }): string {
  if (options.arborUrl === undefined) return `http://localhost:${options.port}/v1/`;
  const url = new URL(options.arborUrl);
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/v1/";
  else if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url.toString();
}

export interface ArborClientOptions {
  /** Base URL ending in /v1/ (see arborBaseUrl). */
  baseUrl: string;
  /** Seconds initialize may take (vLLM launch + trainer start). */
  initializeTimeoutSeconds?: number;
  /** Seconds every other call may take (checkpoint blocks until saved). */
  requestTimeoutSeconds?: number;
  maxRetries?: number;
  /** Seconds between waiting lines during initialize. */
  progressIntervalSeconds?: number;
  /** Called periodically while initialize waits (default: an info line on stderr). */
  onWaiting?: (elapsedSeconds: number) => void;
  /** Retry backoff overrides (tests). */
  retry?: Pick<RetryPolicy, "initialDelayMs" | "maxDelayMs" | "random" | "onRetry">;
}

interface CallSpec {
  operation: ArborOperation;
  route: string;
  body: unknown;
  jobId?: string;
  idempotent: boolean;
  timeoutSeconds: number;
  timeoutFlag: string;
  maxRetries?: number;
}

export class ArborClient {
  readonly baseUrl: string;
  private readonly initializeTimeoutSeconds: number;
  private readonly requestTimeoutSeconds: number;
  private readonly maxRetries: number;
  private readonly progressIntervalSeconds: number;
  private readonly onWaiting: (elapsedSeconds: number) => void;
  private readonly retry: ArborClientOptions["retry"];
  /** The job call in flight (see CallOptions): the next one starts when it has settled. */
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(options: ArborClientOptions) {
    this.baseUrl = options.baseUrl.endsWith("/") ? options.baseUrl : options.baseUrl + "/";
    this.initializeTimeoutSeconds = options.initializeTimeoutSeconds ?? DEFAULTS.arborInitializeTimeoutSeconds;
    this.requestTimeoutSeconds = options.requestTimeoutSeconds ?? DEFAULTS.arborStepTimeoutSeconds;
    this.maxRetries = options.maxRetries ?? DEFAULTS.maxRetries;
    this.progressIntervalSeconds = options.progressIntervalSeconds ?? INITIALIZE_PROGRESS_INTERVAL_SECONDS;
    this.onWaiting = options.onWaiting ?? ((elapsed) => log.info(`waiting for Arbor to load the model… (${Math.round(elapsed)}s)`));
    this.retry = options.retry;
  }

  /** Launch vLLM and the trainer for a new GRPO job; blocks for minutes. */
  async initialize(request: InitializeRequest, signal?: AbortSignal): Promise<GrpoStatus> {
    const started = performance.now();
    const timer = setInterval(() => this.onWaiting((performance.now() - started) / 1000), this.progressIntervalSeconds * 1000);
    try {
      return await this.call(
        {
          operation: "initialize",
          route: "fine_tuning/grpo/initialize",
          body: request,
          idempotent: false,
          timeoutSeconds: this.initializeTimeoutSeconds,
          timeoutFlag: "--arbor-timeout",
          // For the timeout message: the id to cancel if the job started after all.
          ...(request.run_name === undefined ? {} : { jobId: expectedJobId(request.inference_config.model, request.run_name) }),
        },
        signal,
      );
    } finally {
      clearInterval(timer);
    }
  }

  /** The job's state, checkpoints and pending batch ids (cheap; served from Arbor's memory). */
  status(jobId: string, signal?: AbortSignal, options: CallOptions = {}): Promise<GrpoStatus> {
    return this.call(this.spec("status", { job_id: jobId }, jobId, true), signal, options);
  }

  /** Submit one group (exactly num_generations samples) for a pending batch id. */
  step(request: StepRequest, signal?: AbortSignal): Promise<GrpoStatus> {
    return this.call(this.spec("step", request, request.job_id, false), signal);
  }

  /** Save the current weights as <storage>/<job>/checkpoints/<name>; blocks until saved. */
  checkpoint(jobId: string, checkpointName: string, metadata?: Record<string, unknown>, signal?: AbortSignal): Promise<GrpoStatus> {
    const body: CheckpointRequest = { job_id: jobId, checkpoint_name: checkpointName };
    if (metadata !== undefined) body.metadata = metadata;
    return this.call(this.spec("checkpoint", body, jobId, false), signal);
  }

  /** Save checkpoint_final and stop the trainer; vLLM keeps serving the job id. */
  terminate(jobId: string, signal?: AbortSignal): Promise<GrpoStatus> {
    return this.call(this.spec("terminate", { job_id: jobId }, jobId, false), signal);
  }

  /** Kill the trainer and vLLM and free the GPUs (no final checkpoint). */
  cancel(jobId: string, signal?: AbortSignal): Promise<GrpoStatus> {
    return this.call(this.spec("cancel", { job_id: jobId }, jobId, false), signal);
  }

  private spec(operation: ArborOperation, body: unknown, jobId: string, idempotent: boolean): CallSpec {
    return {
      operation,
      route: `fine_tuning/grpo/${operation}`,
      body,
      jobId,
      idempotent,
      timeoutSeconds: this.requestTimeoutSeconds,
      timeoutFlag: "--request-timeout",
    };
  }

  private call(spec: CallSpec, signal?: AbortSignal, options: CallOptions = {}): Promise<GrpoStatus> {
    if (options.alongside) return this.send(spec, signal);
    const sent = this.inFlight.then(
      () => this.send(spec, signal),
      () => this.send(spec, signal),
    );
    this.inFlight = sent.catch(() => undefined);
    return sent;
  }

  private async send(spec: CallSpec, signal?: AbortSignal): Promise<GrpoStatus> {
    const url = new URL(spec.route, this.baseUrl).toString();
    const context = {
      operation: spec.operation,
      baseUrl: this.baseUrl,
      url,
      idempotent: spec.idempotent,
      timeoutFlag: spec.timeoutFlag,
      ...(spec.jobId === undefined ? {} : { jobId: spec.jobId }),
    };
    const policy: RetryPolicy = {
      maxRetries: spec.maxRetries ?? this.maxRetries,
      ...this.retry,
      // A call that is not safe to repeat is sent again only if it never left (refused connection).
      retryWhen: spec.idempotent ? (error) => error.retryable : (error) => error.kind === "unreachable",
      onRetry: this.retry?.onRetry ?? retryLog.onRetry,
    };
    const { value } = await withRetries(
      async () => {
        let response: ServiceResponse;
        try {
          response = await fetchOrThrow(
            url,
            {
              method: "POST",
              headers: ARBOR_HEADERS,
              body: JSON.stringify(spec.body),
              timeoutMs: spec.timeoutSeconds * 1000,
              service: ARBOR_SERVICE,
              timeoutFlag: spec.timeoutFlag,
              fix: `start Arbor with ${ARBOR_START}`,
              maxBodyBytes: ARBOR_STATUS_LIMIT_BYTES,
            },
            signal,
          );
          return await this.readStatus(response, spec.operation);
        } catch (error) {
          throw error instanceof ServiceError ? describeArborError(error, context) : error;
        }
      },
      policy,
      signal,
    );
    return value;
  }

  private async readStatus(response: ServiceResponse, operation: ArborOperation): Promise<GrpoStatus> {
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const parsed = parseGrpoStatus(body);
    if (parsed.ok) return parsed.status;
    throw response.malformed(`something that is not a GRPO status to ${operation}`, text, {
      cause: `${parsed.problem} — the server is not Arbor HEAD, or a different Arbor version`,
      fix: `check the URL, and ${ARBOR_UPGRADE_COMMAND}`,
    });
  }
}

export type ArborProbeResult = { state: "running"; baseUrl: string } | { state: "legacy" | "down" | "unexpected"; baseUrl: string; error: ServiceError };

/**
 * Is a HEAD Arbor listening at `baseUrl`? Arbor has no health route and no /v1/models, so ask for
 * the status of a job that does not exist: 400 (KeyError) means HEAD Arbor is there; 404 means an
 * Arbor older than the batch-id protocol; a refused connection means nothing is running.
 */
export async function probeArbor(baseUrl: string, options: { timeoutSeconds?: number; signal?: AbortSignal } = {}): Promise<ArborProbeResult> {
  const base = baseUrl.endsWith("/") ? baseUrl : baseUrl + "/";
  const url = new URL("fine_tuning/grpo/status", base).toString();
  const context = {
    operation: "probe" as const,
    baseUrl: base,
    url,
    idempotent: true,
    timeoutFlag: "--arbor-timeout",
  };
  try {
    await fetchOrThrow(
      url,
      {
        method: "POST",
        headers: ARBOR_HEADERS,
        body: JSON.stringify({ job_id: PROBE_JOB_ID }),
        timeoutMs: (options.timeoutSeconds ?? PROBE_TIMEOUT_SECONDS) * 1000,
        service: ARBOR_SERVICE,
        timeoutFlag: "--arbor-timeout",
        fix: `start Arbor with ${ARBOR_START}`,
        maxBodyBytes: ARBOR_STATUS_LIMIT_BYTES,
      },
      options.signal,
    ).then((response) => response.discard());
    return { state: "running", baseUrl: base };
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    if (error.status === 400) return { state: "running", baseUrl: base };
    const described = describeArborError(error, context);
    if (error.status === 404) return { state: "legacy", baseUrl: base, error: described };
    if (error.kind === "unreachable") {
      return { state: "down", baseUrl: base, error: described };
    }
    return { state: "unexpected", baseUrl: base, error: described };
  }
}

/** probeArbor, throwing the explanatory ServiceError unless a HEAD Arbor answers. */
export async function requireArbor(baseUrl: string, options: { timeoutSeconds?: number; signal?: AbortSignal } = {}): Promise<void> {
  const result = await probeArbor(baseUrl, options);
  if (result.state !== "running") throw result.error;
}
