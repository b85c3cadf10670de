/**
 * The task worker thread (started by run.ts): runs one task of tasks.ts, sends its text output
 * to the main thread piece by piece (waiting until each piece is written), then its result or
 * its error. The compiled binary carries this file as its own entry point (scripts/build.ts).
 */
import { log } from "../log.ts";
import { carryError, type FromWorker, type StartTask, type ToWorker } from "./messages.ts";
import { runTaskHere } from "./tasks.ts";

declare const self: Worker;

let written: (() => void) | null = null;

function send(message: FromWorker): void {
  self.postMessage(message);
}

/** Hand text to the main thread and wait until it has been written. */
function emit(text: string): Promise<void> {
  if (text === "") return Promise.resolve();
  return new Promise<void>((resolve) => {
    written = resolve;
    send({ kind: "text", text });
  });
}

function run(message: StartTask): Promise<unknown> {
  switch (message.task) {
    case "query":
      return runTaskHere("query", message.input, emit);
    case "compare":
      return runTaskHere("compare", message.input, emit);
  }
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.kind === "written") {
    const resolve = written;
    written = null;
    resolve?.();
    return;
  }
  log.level = message.logLevel;
  try {
    send({ kind: "done", output: await run(message) });
  } catch (error) {
    send({ kind: "failed", error: carryError(error) });
  }
};
