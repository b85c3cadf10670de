/**
 * Running the program over a list of examples and recording each result as it finishes: the one
 * path for `evaluate` and for validation during training. `--concurrency` examples run at once;
 * each finished example goes to the results writer thread (one transaction per example, keyed by
 * run + step + example, so a resume never duplicates). An error thrown by the program (what
 * `stopsRun` says stops a run: a wrong key or model, a bug) ends the run; the stop rule on
 * service failures (`FailureStop`) stops it early, leaving the examples not run missing.
 * Spec: README "Evaluate", docs/store.md (predictions).
 */
import type { RewardVersion } from "../metrics/reward-versions.ts";
import type { Example } from "../data/types.ts";
import { excerpt, InterruptedError, ServiceError } from "../errors.ts";
import { Limiter, type ConcurrencyGauge } from "../http/limit.ts";
import { scoreExample, type ExampleScore } from "../metrics/index.ts";
import { isServiceFailure, type ProgramFailure, type ProgramResult } from "../program/types.ts";
import type { ResultWriter } from "../store/writer.ts";

/** One example's program run and its score. */
export interface ExampleRun {
  example: Example;
  result: ProgramResult;
  score: ExampleScore;
}

/** Consecutive examples that fail on service errors before the run stops instead of going on. */
const MAX_CONSECUTIVE_SERVICE_FAILURES = 8;
/** Examples finished before the failure rate is judged, and the rate that stops the run. */
const FAILURE_RATE_MIN_EXAMPLES = 20;
const MAX_SERVICE_FAILURE_RATE = 0.5;

/** The services a run talks to, named in its messages. */
export interface ServiceEndpoints {
  lm: string;
  retrieval: string;
}

/** The service error that a run's service failures amount to (exit 5 when most were refusals, else 4). */
export function serviceFailureError(message: string, failures: readonly ProgramFailure[], endpoints: ServiceEndpoints, fix: string): ServiceError {
  const services = failures.filter((failure) => failure.kind === "service");
  const refused = services.filter((failure) => failure.refused === true).length;
  const last = failures.at(-1);
  const retrieval = last?.kind === "service" && last.service === "retrieval";
  return new ServiceError(message, {
    service: retrieval ? "retrieval service" : "language model",
    url: retrieval ? endpoints.retrieval : endpoints.lm,
    kind: services.length > 0 && refused * 2 > services.length ? "rejected" : "server",
    retryable: false,
    ...(last ? { cause: `${last.kind === "deadline" ? "deadline" : retrieval ? "retrieval" : "LM"}: ${excerpt(last.message)}` } : {}),
    fix,
  });
}

/**
 * The stop rule, shared by evaluate and validation during training: a run stops once
 * max(8, examples in flight) examples in a row failed on service errors (the examples in flight
 * when a service goes down all fail together, so the bound grows with the concurrency; with
 * --concurrency auto, the concurrency of the moment), or once at least max(20, 2 × examples in
 * flight) examples finished and more than half of them failed on service errors: going on would
 * mostly pay for calls whose examples end up missing anyway.
 */
class FailureStop {
  private consecutive = 0;
  private finished = 0;
  private readonly failures: ProgramFailure[] = [];

  constructor(private readonly concurrency: number | ConcurrencyGauge) {}

  private get inFlight(): number {
    return typeof this.concurrency === "number" ? this.concurrency : this.concurrency.limit;
  }

  private get inARow(): number {
    return Math.max(MAX_CONSECUTIVE_SERVICE_FAILURES, this.inFlight);
  }

  private get judgeAfter(): number {
    return Math.max(FAILURE_RATE_MIN_EXAMPLES, 2 * this.inFlight);
  }

  /** Count one finished example; returns why the run must stop, or null. */
  record(result: ProgramResult, endpoints: ServiceEndpoints, resumeCommand: string): ServiceError | null {
    this.finished += 1;
    const failure = result.failure;
    if (!failure || !isServiceFailure(failure)) {
      this.consecutive = 0;
      return null;
    }
    this.consecutive += 1;
    this.failures.push(failure);
    let why: string | null = null;
    if (this.consecutive >= this.inARow) why = `${this.consecutive} examples in a row failed on service errors`;
    else if (this.finished >= this.judgeAfter && this.failures.length > MAX_SERVICE_FAILURE_RATE * this.finished) {
      why = `${this.failures.length} of the ${this.finished} examples run so far failed on service errors`;
    }
    if (why === null) return null;
    return serviceFailureError(
      `stopped early: ${why}`,
      this.failures.slice(-this.consecutive),
      endpoints,
      `check the service, then continue with: ${resumeCommand}`,
    );
  }
}

export interface RunExamplesOptions {
  runId: number;
  /** -1 for evaluation; the number of completed GRPO steps for a validation. */
  step: number;
  examples: readonly Example[];
  /** Runs the program on one example (evaluate: the served model with the cache; validation: the job). */
  program: (example: Example, signal: AbortSignal) => Promise<ProgramResult>;
  reward: RewardVersion;
  /** Examples in flight: a number, or a gauge that follows the LM endpoints (--concurrency auto: run/concurrency.ts). */
  concurrency: number | ConcurrencyGauge;
  writer: ResultWriter;
  signal: AbortSignal;
  endpoints: ServiceEndpoints;
  resumeCommand: string;
  /** Called as each example finishes (progress). */
  onResult?: (run: ExampleRun) => void;
}

export interface ExampleRuns {
  /** Every example that finished (service failures included), in the order of `examples`. */
  runs: ExampleRun[];
  /** Why the stop rule ended the run early (the examples not run are missing), or null. */
  stopped: ServiceError | null;
}

/**
 * Run and record every example; resolves once all that finished are committed. On Ctrl-C it
 * records what finished (an example abandoned mid-call is not a result and is not recorded), then
 * throws the interruption. When the stop rule fires it stops starting examples and returns why.
 * Throws the first fatal error (a refused key or model, a bug, a failed write).
 */
export async function runExamples(options: RunExamplesOptions): Promise<ExampleRuns> {
  const limiter = new Limiter(options.concurrency);
  const stop = new FailureStop(options.concurrency);
  const runs: ExampleRun[] = [];
  const recorded: Array<Promise<void>> = [];
  let fatal: unknown;
  let stopped: ServiceError | null = null;
  const abortRun = new AbortController();
  const signal = AbortSignal.any([options.signal, abortRun.signal]);
  const fail = (error: unknown) => {
    fatal ??= error;
    abortRun.abort(error);
  };

  await Promise.all(
    options.examples.map((example) =>
      limiter.run(async () => {
        if (signal.aborted) return;
        let result: ProgramResult;
        try {
          result = await options.program(example, signal);
        } catch (error) {
          if (!signal.aborted) fail(error);
          return;
        }
        // Abandoned mid-call (Ctrl-C or the stop rule): not a result, and not recorded.
        if (signal.aborted && isServiceFailure(result.failure)) return;
        const score = scoreExample(example, result, options.reward);
        // Committed by the writer thread within milliseconds; the slot is free for the next example.
        recorded.push(
          options.writer
            .record(options.runId, { exampleId: example.id, step: options.step, nHops: example.nHops, goldAnswers: example.answers, result, score })
            .catch(fail),
        );
        const run = { example, result, score };
        runs.push(run);
        const stopping = stop.record(result, options.endpoints, options.resumeCommand);
        if (stopping && !stopped && !fatal) {
          stopped = stopping;
          abortRun.abort(stopping);
        }
        options.onResult?.(run);
      }),
    ),
  );
  limiter.close();
  await options.writer.flush();
  await Promise.all(recorded);
  if (fatal) throw fatal;
  if (options.signal.aborted) throw options.signal.reason ?? new InterruptedError();
  const order = new Map(options.examples.map((example, index) => [example.id, index]));
  return { runs: runs.sort((a, b) => (order.get(a.example.id) ?? 0) - (order.get(b.example.id) ?? 0)), stopped };
}

/**
 * Run examples for a measurement that cannot do without results (validation during training):
 * the stop rule's reason is thrown, and so is a pass in which no example has a result.
 */
export async function runAllExamples(options: RunExamplesOptions): Promise<ExampleRun[]> {
  const { runs, stopped } = await runExamples(options);
  if (stopped) throw stopped;
  const failures = runs.flatMap((run) => (run.result.failure && isServiceFailure(run.result.failure) ? [run.result.failure] : []));
  if (runs.length > 0 && failures.length === runs.length) {
    throw serviceFailureError(
      `all ${runs.length} examples failed on service errors`,
      failures,
      options.endpoints,
      `check the service, then continue with: ${options.resumeCommand}`,
    );
  }
  return runs;
}
