/**
 * `--concurrency auto`: an adaptive limit on the requests in flight to one server (issue 19).
 *
 * The useful concurrency of an inference server is where more requests in flight stop buying
 * throughput: a continuous-batching server (vLLM, SGLang, TGI) decodes up to K sequences at once,
 * each a little slower as the batch grows, and queues the rest (more latency, no more
 * throughput); an API refuses with 429 above its rate. Throughput is estimated per window with
 * Little's law, X = (requests in flight) / (latency of a typical request), the latency read off
 * a line fitted through latency against completion tokens (when the server reports usage; see
 * `typicalLatency`): far less noisy than counting completions, whose lengths vary.
 *
 *   start     double the limit each window while doubling buys ≥ START_GAIN more throughput
 *             (TCP's slow start), then settle on the last doubling that paid, or on the one
 *             before when it bought almost nothing (the extra requests only queued).
 *   probe     then, in cycles of three windows (at C, at C·(1+δ), at C·(1−δ)), move down when
 *             the lower limit costs less throughput than ELASTICITY in proportion to the
 *             concurrency it gives up, else up when the higher one buys at least that much: the
 *             limit stays at the knee past which requests only wait (down is checked first: past
 *             the knee both probes measure the same throughput within the noise, and the lower
 *             latency must win; up needs both probes to agree), and follows the server when its
 *             capacity changes; moves in the same direction take growing steps (δ up to 0.5).
 *   hold      a cycle that stays where it was holds the limit for 1, 2, 4, then up to
 *             MAX_HOLD_WINDOWS windows before the next cycle (a move starts the next one at once):
 *             at the knee a down probe costs δ of a window's throughput, so probing every cycle
 *             would cost ~7 %; holding brings it to ~2 %, and the limit still follows the server.
 *   refused   on 429 or 503 (or a timeout): ×BACKOFF at once; refusals of requests sent before
 *             that cut do not cut again (they went out at the old limit), a refusal of one sent
 *             after it does, at once (a 429 comes back long before a round trip, and waiting one
 *             at a limit above an API's rate cost ~30 % of requests refused); then growth by one request
 *             per RATE_LIMITED_STEP_REQUESTS successes (AIMD, as TCP Reno), back to probing after
 *             RECOVERY_WINDOWS windows without a refusal: an API rate limit then costs ~1 % of
 *             requests. A Retry-After pauses new requests to the server (endpoints.ts).
 *
 * A window measures a cohort: the first max(MIN_COHORT, min(limit, MAX_COHORT)) requests that
 * start once the requests sent under earlier limits have (nearly) all ended, i.e. once the server
 * runs in the steady state of this limit, and it closes when 90 % of them ended (so their
 * latencies are not only those of the short requests, which end first; the slowest tenth would
 * double the window's length). A window whose requests
 * in flight stayed below its limit (not enough demand) changes nothing. Pure logic with an
 * injectable clock: tests drive it in simulated time (test/helpers/simulated-load.ts).
 */
import { addSample, cohortEnded, emptyWindow, measureWindow, type Window, type WindowMeasure } from "./limit-window.ts";

export type { WindowMeasure } from "./limit-window.ts";

/** A change of the limit, for logs and the store (concurrency_limits). */
export interface LimitChange {
  limit: number;
  previous: number;
  reason: LimitReason;
  /** Clock time of the change (ms, the limiter's clock). */
  at: number;
  /** Estimated throughput of the window that decided it (requests/s), when one did. */
  throughput: number | null;
  /** Its work per second (completion tokens/s when the server reports usage, else requests/s). */
  unitThroughput: number | null;
  /** Median latency of that window (ms). */
  latencyMs: number | null;
}

/**
 * start: slow start doubled; settled: slow start ended; up / down: a probe cycle moved the limit;
 * probe-up / probe-down: a probe window began; refused: a 429/503/timeout cut it; recovering:
 * additive growth after refusals.
 */
export type LimitReason = "start" | "settled" | "up" | "down" | "probe-up" | "probe-down" | "refused" | "recovering";

export interface AdaptiveLimitOptions {
  /** Upper bound (--max-concurrency). */
  max: number;
  /** The first limit (default INITIAL_LIMIT, at most `max`). */
  initial?: number;
  /** Lower bound (default 1). */
  min?: number;
  now?: () => number;
  /** Called on every change of the limit. */
  onChange?: (change: LimitChange) => void;
}

/** First limit: one that any server takes without queueing much (DSPy's num_threads default is 8). */
export const INITIAL_LIMIT = 8;
/** Slow start goes on while a doubling buys at least this much more throughput. */
const START_GAIN = 0.07;
/** Below this gain the last doubling bought nothing: settle on the limit before it. */
const START_FLAT = 0.03;
/** Relative size of a probe step (δ); it grows ×1.5 per move in the same direction, up to MAX_PROBE_STEP. */
const PROBE_STEP = 0.25;
const MAX_PROBE_STEP = 0.5;
/** Throughput elasticity that makes concurrency worth it: ×(1+δ) concurrency must buy ×(1+δ)^e. */
const ELASTICITY = 0.1;
/** Most windows a limit is held between probe cycles that found nothing to change. */
const MAX_HOLD_WINDOWS = 8;
/** Multiplicative decrease on a refusal. */
export const BACKOFF = 0.9;
/** After refusals, one more request in flight per this many successes. */
const RATE_LIMITED_STEP_REQUESTS = 100;
/** Windows without a refusal after which probing starts again. */
const RECOVERY_WINDOWS = 30;
/** A window starts measuring once at most this share of its limit is older requests. */
const DRAINED_SHARE = 0.2;
/** A window whose average in flight is below this share of its limit was short of demand. */
const DEMAND_SHARE = 0.85;

type Phase =
  | { kind: "start"; previous: WindowMeasure | null }
  | { kind: "probe"; step: 0 | 1 | 2; base: WindowMeasure | null; up: WindowMeasure | null }
  | { kind: "hold"; remaining: number }
  | { kind: "recovering"; successes: number; windows: number };

/** A request in flight: when and under which window it started, and whether it is in the cohort. */
export interface Ticket {
  readonly startedAt: number;
  readonly window: number;
  readonly cohort: boolean;
}

export class AdaptiveLimit {
  private value: number;
  private readonly max: number;
  private readonly min: number;
  private readonly now: () => number;
  private inFlight = 0;
  private lastAccount: number;
  private window: Window;
  private phase: Phase = { kind: "start", previous: null };
  /** The limit a probe cycle returns to, the probe step, and the last move. */
  private base: number;
  private step = PROBE_STEP;
  private lastMove: "up" | "down" | null = null;
  /** Windows the next stay holds the limit (doubles per stay, up to MAX_HOLD_WINDOWS; 1 after a move). */
  private hold = 1;
  /** When the last refusal cut the limit (requests sent before it do not cut again). */
  private lastCutAt = Number.NEGATIVE_INFINITY;
  /** Units of every measured request so far: their mean is the typical request's size. */
  private unitsSeen = 0;
  private samplesSeen = 0;
  /** The last window measured (for logs). */
  last: WindowMeasure | null = null;

  constructor(private readonly options: AdaptiveLimitOptions) {
    this.max = Math.max(1, Math.floor(options.max));
    this.min = Math.min(this.max, Math.max(1, Math.floor(options.min ?? 1)));
    this.now = options.now ?? (() => performance.now());
    this.value = clamp(Math.floor(options.initial ?? INITIAL_LIMIT), this.min, this.max);
    this.base = this.value;
    this.lastAccount = this.now();
    this.window = this.newWindow(0, this.lastAccount);
  }

  /** Requests allowed in flight now. */
  get limit(): number {
    return this.value;
  }

  get phaseName(): Phase["kind"] {
    return this.phase.kind;
  }

  /** A request starts (the caller checked that fewer than `limit` are in flight). */
  start(): Ticket {
    const now = this.now();
    this.account(now);
    this.inFlight += 1;
    const window = this.window;
    const cohort = window.startedAt !== null && window.started < window.cohortSize;
    if (cohort) window.started += 1;
    return { startedAt: now, window: window.number, cohort };
  }

  /** A request succeeded after `latencyMs`, having produced `units` of work (tokens; 1 when unknown). */
  succeeded(ticket: Ticket, latencyMs: number, units = 1): void {
    if (this.phase.kind === "recovering") this.recover();
    this.finish(ticket, { latencyMs, units });
  }

  /** A request ended without a measure (a failure that says nothing about load, or the caller gave up). */
  ended(ticket: Ticket): void {
    this.finish(ticket, null);
  }

  /** The server refused for load (429, 503) or did not answer in time: back off at once. */
  refused(ticket: Ticket): void {
    this.finish(ticket, null);
    const now = this.now();
    // The requests already in flight were sent at the old limit: their refusals say nothing new.
    // One sent after the cut went out with fewer in flight than the new limit, so it is too high.
    if (ticket.startedAt <= this.lastCutAt) return;
    this.lastCutAt = now;
    this.phase = { kind: "recovering", successes: 0, windows: 0 };
    this.hold = 1;
    this.set(Math.floor(Math.min(this.value, this.inFlight + 1) * BACKOFF), "refused", this.last);
    this.base = this.value;
  }

  private finish(ticket: Ticket, sample: { latencyMs: number; units: number } | null): void {
    const now = this.now();
    this.account(now);
    this.inFlight = Math.max(0, this.inFlight - 1);
    const window = this.window;
    if (ticket.window < window.number) {
      window.older = Math.max(0, window.older - 1);
      this.maybeBegin(now);
      return;
    }
    if (!ticket.cohort || ticket.window !== window.number) return;
    if (sample !== null) {
      this.unitsSeen += addSample(window, sample.latencyMs, sample.units);
      this.samplesSeen += 1;
    }
    window.ended += 1;
    if (cohortEnded(window)) this.closeWindow(now);
  }

  private recover(): void {
    if (this.phase.kind !== "recovering") return;
    this.phase.successes += 1;
    if (this.phase.successes < RATE_LIMITED_STEP_REQUESTS) return;
    this.phase.successes = 0;
    if (this.value < this.max) this.set(this.value + 1, "recovering", null);
    this.base = this.value;
  }

  private newWindow(number: number, now: number): Window {
    const window = emptyWindow(number, this.value, this.inFlight);
    this.window = window;
    this.maybeBegin(now);
    return window;
  }

  /** Begin measuring once older requests have drained and in flight is within the limit. */
  private maybeBegin(now: number): void {
    const window = this.window;
    if (window.startedAt !== null) return;
    if (window.older > DRAINED_SHARE * window.limit || this.inFlight > window.limit) return;
    window.startedAt = now;
    this.lastAccount = now;
  }

  private account(now: number): void {
    if (this.window.startedAt !== null) this.window.inFlightArea += this.inFlight * (now - this.lastAccount);
    this.lastAccount = now;
  }

  private measure(now: number): WindowMeasure | null {
    return measureWindow(this.window, now, this.inFlight, this.unitsSeen / this.samplesSeen);
  }

  private closeWindow(now: number): void {
    // The first window saw every request start at once: a transient, not the steady state.
    const measured = this.window.number === 0 ? null : this.measure(now);
    this.newWindow(this.window.number + 1, now);
    if (measured === null) return;
    this.last = measured;
    const demanded = measured.averageInFlight >= DEMAND_SHARE * measured.limit;
    switch (this.phase.kind) {
      case "start":
        return this.afterStartWindow(measured, demanded);
      case "probe":
        return this.afterProbeWindow(measured, demanded);
      case "hold":
        // The last window held measures the base of the next cycle.
        this.phase.remaining -= 1;
        if (this.phase.remaining > 0) return;
        this.phase = { kind: "probe", step: 0, base: null, up: null };
        return this.afterProbeWindow(measured, demanded);
      case "recovering":
        this.phase.windows += 1;
        if (this.phase.windows >= RECOVERY_WINDOWS) this.phase = { kind: "probe", step: 0, base: null, up: null };
        return;
    }
  }

  private afterStartWindow(measured: WindowMeasure, demanded: boolean): void {
    if (this.phase.kind !== "start" || !demanded) return;
    const previous = this.phase.previous;
    const gain = previous === null ? Number.POSITIVE_INFINITY : measured.unitThroughput / previous.unitThroughput - 1;
    if (gain >= START_GAIN && this.value < this.max) {
      this.phase = { kind: "start", previous: measured };
      this.set(this.value * 2, "start", measured);
      return;
    }
    const settled = previous !== null && gain < START_FLAT ? previous.limit : this.value;
    this.phase = { kind: "probe", step: 0, base: null, up: null };
    this.base = settled;
    this.set(settled, "settled", measured, true);
  }

  private afterProbeWindow(measured: WindowMeasure, demanded: boolean): void {
    if (this.phase.kind !== "probe") return;
    if (!demanded) {
      // Not enough demand to learn anything: back to the base limit, and the cycle starts again.
      this.phase = { kind: "probe", step: 0, base: null, up: null };
      if (this.value !== this.base) this.set(this.base, "settled", measured);
      return;
    }
    const up = Math.min(this.max, Math.max(this.base + 1, Math.round(this.base * (1 + this.step))));
    const down = Math.max(this.min, Math.min(this.base - 1, Math.round(this.base * (1 - this.step))));
    if (this.phase.step === 0) {
      this.phase = { kind: "probe", step: 1, base: measured, up: null };
      if (up > this.base) this.set(up, "probe-up", measured);
      else this.afterProbeWindow(measured, demanded);
      return;
    }
    if (this.phase.step === 1) {
      const upMeasure = up > this.base && measured.limit === up ? measured : null;
      this.phase = { kind: "probe", step: 2, base: this.phase.base, up: upMeasure };
      if (down < this.base) this.set(down, "probe-down", measured);
      else this.decide(null);
      return;
    }
    this.decide(measured.limit === down && down < this.base ? measured : null);
  }

  /** End of a probe cycle: move to the probe that was worth it, or stay. */
  private decide(downMeasure: WindowMeasure | null): void {
    if (this.phase.kind !== "probe") return;
    const { base, up } = this.phase;
    this.phase = { kind: "probe", step: 0, base: null, up: null };
    let next = this.base;
    let reason: LimitReason = "settled";
    let measured = base;
    // Down first: where more concurrency only queues, both probes measure the same throughput
    // within the noise, and the lower limit (less latency) must win. Up only when both probes
    // agree that the limit is below the knee (less lost throughput, more bought it).
    if (base !== null && downMeasure !== null && !worthMore(downMeasure, base)) {
      next = downMeasure.limit;
      reason = "down";
      measured = downMeasure;
    } else if (base !== null && up !== null && worthMore(base, up) && (downMeasure === null || worthMore(downMeasure, base))) {
      next = up.limit;
      reason = "up";
      measured = up;
    }
    // Moving on in the same direction takes bigger steps (far from the knee it gets there sooner).
    const move = reason === "up" || reason === "down" ? reason : null;
    this.step = move !== null && move === this.lastMove ? Math.min(MAX_PROBE_STEP, this.step * 1.5) : PROBE_STEP;
    this.lastMove = move;
    if (move === null) {
      this.phase = { kind: "hold", remaining: this.hold };
      this.hold = Math.min(MAX_HOLD_WINDOWS, 2 * this.hold);
    } else {
      this.hold = 1;
    }
    this.base = next;
    // A move is reported even when the limit already is there (the down probe's own limit).
    this.set(next, reason, measured, move !== null);
  }

  /** Set the limit and start a new window; `announce` reports it even when unchanged. */
  private set(limit: number, reason: LimitReason, measured: WindowMeasure | null, announce = false): void {
    const previous = this.value;
    this.value = clamp(Math.round(limit), this.min, this.max);
    this.newWindow(this.window.number + 1, this.now());
    if (this.value === previous && !announce) return;
    this.options.onChange?.({
      limit: this.value,
      previous,
      reason,
      at: this.now(),
      throughput: measured?.throughput ?? null,
      unitThroughput: measured?.unitThroughput ?? null,
      latencyMs: measured?.medianLatencyMs ?? null,
    });
  }
}

/** Whether the higher of two limits buys throughput in proportion ≥ ELASTICITY to its extra concurrency. */
function worthMore(lower: WindowMeasure, higher: WindowMeasure): boolean {
  if (higher.limit <= lower.limit || lower.unitThroughput <= 0) return false;
  return higher.unitThroughput / lower.unitThroughput >= (higher.limit / lower.limit) ** ELASTICITY;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
