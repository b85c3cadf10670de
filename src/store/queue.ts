/**
 * Batched writes: pending writes run together in one transaction once `maxRows` rows are queued
 * or `maxDelayMs` after the first pending write, whichever comes first. One transaction per batch
 * instead of per row is what makes training's thousands of module-call rows cheap. Writes are
 * synchronous SQLite work only; nothing waits on the network while a transaction is open.
 */
import { inTransaction, type Store } from "./database.ts";

export interface WriteQueueOptions {
  /** Flush when this many rows are pending (default 500). */
  maxRows?: number;
  /** Flush this long after the first pending write (default 250 ms). */
  maxDelayMs?: number;
  /** Called when a timed flush fails (the error is also thrown by the next add/flush/close). */
  onError?: (error: unknown) => void;
}

interface PendingWrite {
  write: () => void;
  rows: number;
}

export class WriteQueue {
  readonly #store: Store;
  readonly #maxRows: number;
  readonly #maxDelayMs: number;
  readonly #onError: ((error: unknown) => void) | undefined;
  #pending: PendingWrite[] = [];
  #pendingRows = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #failure: unknown;
  #closed = false;
  #flushes = 0;

  constructor(store: Store, options: WriteQueueOptions = {}) {
    this.#store = store;
    this.#maxRows = Math.max(1, options.maxRows ?? 500);
    this.#maxDelayMs = Math.max(0, options.maxDelayMs ?? 250);
    this.#onError = options.onError;
  }

  /** Rows waiting to be written. */
  get pendingRows(): number {
    return this.#pendingRows;
  }

  /** Transactions committed so far. */
  get flushes(): number {
    return this.#flushes;
  }

  /**
   * Queue a write (synchronous statements against the store, e.g. writeRollout). `rows` is how
   * many rows it writes, for the size trigger.
   */
  add(write: () => void, rows = 1): void {
    this.#throwFailure();
    if (this.#closed) throw new Error("WriteQueue.add after close");
    this.#pending.push({ write, rows });
    this.#pendingRows += rows;
    if (this.#pendingRows >= this.#maxRows) {
      this.flush();
      return;
    }
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        try {
          this.flush();
        } catch (error) {
          this.#onError?.(error);
        }
      }, this.#maxDelayMs);
    }
  }

  /** Write everything pending in one transaction. On failure nothing is written and the writes stay queued. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pending.length === 0) {
      this.#throwFailure();
      return;
    }
    const batch = this.#pending;
    try {
      inTransaction(this.#store, () => {
        for (const item of batch) item.write();
      });
    } catch (error) {
      this.#failure = error;
      throw error;
    }
    this.#failure = undefined;
    this.#pending = [];
    this.#pendingRows = 0;
    this.#flushes += 1;
  }

  /** Flush and stop accepting writes. */
  close(): void {
    this.#failure = undefined;
    this.flush();
    this.#closed = true;
  }

  #throwFailure(): void {
    if (this.#failure === undefined) return;
    const failure = this.#failure;
    this.#failure = undefined;
    throw failure;
  }
}
