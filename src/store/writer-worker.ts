/**
 * The results writer thread: receives finished examples from the main thread, writes them in
 * batched transactions (all of one example or none of it), and answers with what was committed.
 * Started by src/store/writer.ts; keeps SQLite work off the thread that drives the LM calls.
 */
import { isMusiqueError } from "../errors.ts";
import { inTransaction, openStore, type Store } from "./database.ts";
import { unpackRecord, type RecordMessage } from "./packed-rows.ts";
import { writeExampleRows } from "./results.ts";
import type { WriterReply, WriterRequest } from "./writer.ts";

declare const self: Worker;

const MAX_BATCH = 64;
const MAX_DELAY_MS = 50;

let store: Store | null = null;
let pending: RecordMessage[] = [];
let timer: ReturnType<typeof setTimeout> | null = null;

function reply(message: WriterReply): void {
  self.postMessage(message);
}

function describe(error: unknown): { message: string; hint?: string; fix?: string } {
  if (isMusiqueError(error)) return { message: error.message, ...(error.hint ? { hint: error.hint } : {}), ...(error.fix ? { fix: error.fix } : {}) };
  return { message: error instanceof Error ? error.message : String(error) };
}

function flush(): void {
  if (timer !== null) clearTimeout(timer);
  timer = null;
  const batch = pending;
  pending = [];
  if (batch.length === 0 || store === null) return;
  const open = store;
  try {
    inTransaction(open, () => {
      for (const item of batch) writeExampleRows(open, item.runId, item.rows);
    });
    reply({ kind: "committed", ids: batch.map((item) => item.id) });
  } catch (error) {
    reply({ kind: "failed", ids: batch.map((item) => item.id), error: describe(error) });
  }
}

self.onmessage = (event: MessageEvent<WriterRequest>) => {
  const request = event.data;
  if (typeof request === "string") {
    pending.push(unpackRecord(request));
    if (pending.length >= MAX_BATCH) flush();
    else if (timer === null) timer = setTimeout(flush, MAX_DELAY_MS);
    return;
  }
  switch (request.kind) {
    case "open":
      try {
        store = openStore(request.path, { notices: false });
        reply({ kind: "opened" });
      } catch (error) {
        reply({ kind: "open-failed", error: describe(error) });
      }
      return;
    case "flush":
      flush();
      reply({ kind: "flushed", token: request.token });
      return;
    case "close":
      flush();
      store?.close();
      store = null;
      reply({ kind: "closed" });
      return;
  }
};
