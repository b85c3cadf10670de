/**
 * A training step's rollouts, started when the loop asks, possibly while the step before is still
 * being posted to Arbor (issue 19 item 3; loop.ts decides when). At most one step is held ahead. A
 * failure or a stop abandons it: its rollouts stop with the run's signal or with `abandon`.
 */
import type { ScoredRun } from "./rollouts.ts";

/** One step's rollouts, done, and how long they took. */
export interface RolledStep {
  step: number;
  rollouts: ScoredRun[][];
  seconds: number;
}

export class RolloutsAhead {
  private next: Promise<RolledStep> | null = null;
  private readonly stop = new AbortController();
  private readonly signal: AbortSignal;

  /** `roll` runs one step's rollouts under the given signal. */
  constructor(
    private readonly roll: (step: number, signal: AbortSignal) => Promise<ScoredRun[][]>,
    signal: AbortSignal,
  ) {
    this.signal = AbortSignal.any([signal, this.stop.signal]);
  }

  /** Start `step`'s rollouts now, to be taken later. */
  startAhead(step: number): void {
    this.next = this.begin(step);
  }

  /** `step`'s rollouts: those started ahead, or started now. */
  take(step: number): Promise<RolledStep> {
    const started = this.next;
    this.next = null;
    return started ?? this.begin(step);
  }

  /** Stop rollouts started ahead and wait until they have stopped. */
  async abandon(): Promise<void> {
    this.stop.abort();
    await this.next?.catch(() => undefined);
    this.next = null;
  }

  private begin(step: number): Promise<RolledStep> {
    const started = performance.now();
    const rolling = this.roll(step, this.signal).then((rollouts) => ({ step, rollouts, seconds: (performance.now() - started) / 1000 }));
    rolling.catch(() => undefined); // taken later: a failure meanwhile is not unhandled
    return rolling;
  }
}
