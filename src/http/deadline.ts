/**
 * Our own limits on one HTTP attempt, the only ones that apply (fetch.ts switches Bun's socket idle
 * cut off with `timeout: false`): a whole-call deadline (`--request-timeout`, `--arbor-timeout`,
 * `--rerank-timeout`: headers and body) and/or an idle limit (`HF_HUB_DOWNLOAD_TIMEOUT`: no byte
 * for that long). `signal` aborts the request when either passes or the caller's signal aborts;
 * `expired` says which of ours did.
 */

export interface DeadlineSettings {
  /** The whole attempt, from sending the request to the last byte of the answer (ms). */
  totalMs?: number | undefined;
  /** The longest silence: no byte of the answer for this long (ms). */
  idleMs?: number | undefined;
}

export class Deadline {
  readonly signal: AbortSignal;
  expired: "total" | "idle" | undefined;
  private readonly controller = new AbortController();
  private totalTimer: ReturnType<typeof setTimeout> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly onCallerAbort: () => void;

  constructor(
    readonly settings: DeadlineSettings,
    private readonly callerSignal?: AbortSignal,
  ) {
    this.signal = this.controller.signal;
    this.onCallerAbort = () => this.controller.abort(callerSignal?.reason);
    if (callerSignal?.aborted) this.onCallerAbort();
    else callerSignal?.addEventListener("abort", this.onCallerAbort, { once: true });
    if (settings.totalMs !== undefined) this.totalTimer = this.arm(settings.totalMs, "total");
    this.touch();
  }

  private arm(ms: number, which: "total" | "idle"): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      if (this.controller.signal.aborted) return;
      this.expired = which;
      this.controller.abort(new DOMException(`${which} limit passed`, "TimeoutError"));
    }, ms);
    timer.unref();
    return timer;
  }

  /** Bytes arrived: the idle limit starts again. */
  touch(): void {
    if (this.settings.idleMs === undefined || this.expired !== undefined) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = this.arm(this.settings.idleMs, "idle");
  }

  /** True when the caller (not one of our limits) stopped the attempt. */
  get callerAborted(): boolean {
    return this.callerSignal?.aborted === true;
  }

  /** Seconds of the limit that passed (for messages). */
  expiredSeconds(): number {
    const ms = this.expired === "idle" ? this.settings.idleMs : this.settings.totalMs;
    return (ms ?? 0) / 1000;
  }

  dispose(): void {
    clearTimeout(this.totalTimer);
    clearTimeout(this.idleTimer);
    this.callerSignal?.removeEventListener("abort", this.onCallerAbort);
  }
}
