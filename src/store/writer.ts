/**
 * The single writer of example results: a worker thread (writer-worker.ts) that batches finished
 * examples into transactions, so SQLite work does not hold up the thread driving the LM calls.
 * `record` resolves once the example is committed (and rejects with a StoreError if it was not);
 * `close` flushes first. Where no worker can be started, writes happen inline, one transaction
 * per example.
 */
import { StoreError } from "../errors.ts";
import { log } from "../log.ts";
import type { Store } from "./database.ts";
import { packRecord } from "./packed-rows.ts";
import { exampleRows, recordExampleResult, type ExampleResult } from "./results.ts";

/** A string is a packed record (packed-rows.ts); the rest are commands. */
export type WriterRequest = string | { kind: "open"; path: string } | { kind: "flush"; token: number } | { kind: "close" };

export type WriterReply =
  | { kind: "opened" }
  | { kind: "open-failed"; error: SerializedError }
  | { kind: "committed"; ids: number[] }
  | { kind: "failed"; ids: number[]; error: SerializedError }
  | { kind: "flushed"; token: number }
  | { kind: "closed" };

interface SerializedError {
  message: string;
  hint?: string;
  fix?: string;
}

function toStoreError(error: SerializedError): StoreError {
  return new StoreError(error.message, { ...(error.hint ? { cause: error.hint } : {}), ...(error.fix ? { fix: error.fix } : {}) });
}

export interface ResultWriter {
  record(runId: number, example: ExampleResult): Promise<void>;
  /** Wait until everything recorded so far is committed. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Inline writer: one transaction per example on the caller's thread. */
export function inlineWriter(store: Store): ResultWriter {
  return {
    record: async (runId, example) => recordExampleResult(store, runId, example),
    flush: async () => {},
    close: async () => {},
  };
}

class WorkerWriter implements ResultWriter {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private readonly flushes = new Map<number, () => void>();
  private closed: (() => void) | null = null;

  constructor(private readonly worker: Worker) {
    worker.onmessage = (event: MessageEvent<WriterReply>) => this.handle(event.data);
    worker.onerror = (event) => this.fail(new StoreError(`the results writer stopped: ${event.message}`, { fix: "resume the run" }));
  }

  /** The thread died: nothing pending will be committed. */
  private fail(error: StoreError): void {
    for (const entry of this.waiting.values()) entry.reject(error);
    this.waiting.clear();
    for (const resolve of this.flushes.values()) resolve();
    this.flushes.clear();
    this.closed?.();
  }

  private handle(message: WriterReply): void {
    if (message.kind === "committed") {
      for (const id of message.ids) this.settle(id)?.resolve();
    } else if (message.kind === "failed") {
      const error = toStoreError(message.error);
      for (const id of message.ids) this.settle(id)?.reject(error);
    } else if (message.kind === "flushed") {
      this.flushes.get(message.token)?.();
      this.flushes.delete(message.token);
    } else if (message.kind === "closed") {
      this.closed?.();
    }
  }

  private settle(id: number): { resolve: () => void; reject: (error: Error) => void } | undefined {
    const entry = this.waiting.get(id);
    this.waiting.delete(id);
    return entry;
  }

  record(runId: number, example: ExampleResult): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // A record crosses as one string (packed-rows.ts): the cheapest thing to post.
      this.worker.postMessage(packRecord(id, runId, exampleRows(example)));
    });
  }

  flush(): Promise<void> {
    const token = this.nextId++;
    return new Promise<void>((resolve) => {
      this.flushes.set(token, resolve);
      this.worker.postMessage({ kind: "flush", token } satisfies WriterRequest);
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.closed = resolve;
      this.worker.postMessage({ kind: "close" } satisfies WriterRequest);
    });
    this.worker.terminate();
  }
}

/**
 * Where the worker's code is. From source: next to this file. In a compiled binary (scripts/build.ts
 * passes writer-worker.ts as a second entry point) entry points live under the bundle root, which
 * is the common folder of the entry points (src/): "./store/writer-worker.ts".
 */
function workerEntry(): string {
  return import.meta.url.includes("$bunfs") ? "./store/writer-worker.ts" : new URL("./writer-worker.ts", import.meta.url).href;
}

/** Start the writer thread on the database at `path` (already migrated by the caller's openStore). */
export async function startResultWriter(path: string, fallback: Store): Promise<ResultWriter> {
  let worker: Worker;
  try {
    worker = new Worker(workerEntry());
  } catch (error) {
    log.debug(`no writer thread (${error instanceof Error ? error.message : String(error)}); writing inline`);
    return inlineWriter(fallback);
  }
  const opened = await new Promise<WriterReply>((resolve) => {
    worker.onmessage = (event: MessageEvent<WriterReply>) => resolve(event.data);
    worker.onerror = (event) => resolve({ kind: "open-failed", error: { message: event.message } });
    worker.postMessage({ kind: "open", path } satisfies WriterRequest);
  });
  if (opened.kind === "open-failed") {
    worker.terminate();
    throw toStoreError(opened.error);
  }
  return new WorkerWriter(worker);
}
