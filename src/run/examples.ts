/**
 * Running the program over a list of examples and recording each result as it finishes: the one
 * path for `evaluate` and for validation during training. `--concurrency` examples run at once;
 * each finished example goes to the results writer thread (one transaction per example, keyed by
 * run + step + example, so a resume never duplicates). An error thrown by the program (a refused
 * request, a bug) stops the run; so does the stop rule on service failures (see `FailureStop`).
 * Spec: README "Evaluate", docs/store.md (predictions).
 */
import type { RewardVersion } from "../metrics/reward-versions.ts";
import type { Example } from "../data/types.ts";
import { InterruptedError, ServiceError } from "../errors.ts";
import { Limiter, type ConcurrencyGauge } from "../http/limit.ts";
import { scoreExample, type ExampleScore } from "../metrics/index.ts";
import { isServiceFailure, type ProgramResult } from "../program/types.ts";
import type { ResultWriter } from "../store/writer.ts";

/** One example's program run and its score. */
export interface ExampleRun {
  example: Example;
  result: ProgramResult;
  score: ExampleScore;
}

/** Consecutive examples that fail on service errors before the run stops instead of going on. */
export const MAX_CONSECUTIVE_SERVICE_FAILURES = 8;

/** The services a run talks to, named in the message when the stop rule ends it. */
export interface ServiceEndpoints {
  lm: string;
  retrieval: string;
}

/**
 * The stop rule: a run stops once max(8, examples in flight) examples in a row failed on service
 * errors (the examples in flight when a service goes down all fail together, so the bound grows
 * with the concurrency; with --concurrency auto, the concurrency of the moment).
 */
export class FailureStop {
  private consecutive = 0;

  constructor(private readonly concurrency: number | ConcurrencyGauge) {}

  private get limit(): number {
    const inFlight = typeof this.concurrency === "number" ? this.concurrency : this.concurrency.limit;
    return Math.max(MAX_CONSECUTIVE_SERVICE_FAILURES, inFlight);
  }

  /** Count one finished example; returns why the run must stop, or null. */
  record(result: ProgramResult, endpoints: ServiceEndpoints, resumeCommand: string): ServiceError | null {
    this.consecutive = isServiceFailure(result.failure) ? this.consecutive + 1 : 0;
    if (this.consecutive < this.limit) return null;
    const failure = result.failure;
    const retrieval = failure?.kind === "service" && failure.service === "retrieval";
    return new ServiceError(`stopping: ${this.consecutive} examples in a row failed on service errors`, {
      service: retrieval ? "retrieval service" : "language model",
      url: retrieval ? endpoints.retrieval : endpoints.lm,
      retryable: false,
      cause: failure?.message,
      fix: `check the server, then continue with: ${resumeCommand}`,
    });
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

/**
 * Run and record every example; resolves (in the order of `examples`) once all are committed.
 * On Ctrl-C it records what finished (an example abandoned mid-call is not a result and is not
 * recorded), then throws the interruption. Throws the first fatal error (a refused request, the
 * stop rule, a failed write).
 */
export async function runExamples(options: RunExamplesOptions): Promise<ExampleRun[]> {
  const limiter = new Limiter(options.concurrency);
  const stop = new FailureStop(options.concurrency);
  const runs: ExampleRun[] = [];
  const recorded: Array<Promise<void>> = [];
  let fatal: unknown;
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
        if (signal.aborted && isServiceFailure(result.failure)) return; // abandoned mid-call: not a result
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
        if (stopping && !fatal) fail(stopping);
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
  return runs.sort((a, b) => (order.get(a.example.id) ?? 0) - (order.get(b.example.id) ?? 0));
}
