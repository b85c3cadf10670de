/**
 * A counting semaphore: at most `limit` tasks run at once; the rest wait in FIFO order. The limit
 * is a number, or a gauge whose limit moves (`--concurrency auto`: the examples in flight follow
 * the servers' adaptive limits, src/lm/endpoints.ts); waiting tasks start as soon as it grows.
 */

/** A limit that changes over time, and tells when it did. */
export interface ConcurrencyGauge {
  readonly limit: number;
  subscribe(listener: () => void): () => void;
}

export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly gauge: ConcurrencyGauge | null;
  private readonly fixed: number;
  private readonly unsubscribe: () => void;

  constructor(limit: number | ConcurrencyGauge) {
    if (typeof limit === "number") {
      if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a whole number ≥ 1, got ${limit}`);
      this.fixed = limit;
      this.gauge = null;
      this.unsubscribe = () => {};
    } else {
      this.fixed = 0;
      this.gauge = limit;
      this.unsubscribe = limit.subscribe(() => this.startWaiting());
    }
  }

  /** Tasks allowed at once now (at least 1). */
  get limit(): number {
    return this.gauge === null ? this.fixed : Math.max(1, Math.floor(this.gauge.limit));
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A waiting task is counted as active by the one that wakes it.
    if (this.active >= this.limit || this.waiting.length > 0) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.startWaiting();
    }
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.active < this.limit) {
      this.active++;
      this.waiting.shift()?.();
    }
  }

  /** Stop following the gauge (the limiter is no longer used). */
  close(): void {
    this.unsubscribe();
  }
}
