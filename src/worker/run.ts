/**
 * Run a task of tasks.ts on a worker thread so that Ctrl-C (the command's abort signal) can stop
 * it at once, even while SQLite or a tight loop holds the worker: the main thread stays free to
 * handle the signal, stops the worker and rejects with InterruptedError (exit 130). Text the task
 * emits is written with `write`, one piece at a time (the worker waits for each), so memory stays
 * bounded whatever the size of the output. Where no worker can be started the task runs inline.
 */
import { InterruptedError } from "../errors.ts";
import { log } from "../log.ts";
import { restoreError, type FromWorker, type StartTask, type ToWorker } from "./messages.ts";
import { runTaskHere, type Emit, type TaskInput, type TaskName, type TaskOutput } from "./tasks.ts";

export interface RunTaskOptions {
  signal: AbortSignal;
  /** Where emitted text goes (default: stdout, waiting for it to drain). */
  write?: Emit;
}

/** Write to stdout, waiting while its buffer is full. */
async function writeStdout(text: string): Promise<void> {
  if (process.stdout.write(text)) return;
  await new Promise<void>((resolve) => process.stdout.once("drain", () => resolve()));
}

/**
 * Where the worker's code is. From source: next to this file. In a compiled binary (scripts/build.ts
 * passes entry.ts as an entry point) entry points live under the bundle root, the common folder of
 * the entry points (src/): "./worker/entry.ts".
 */
function workerEntry(): string {
  return import.meta.url.includes("$bunfs") ? "./worker/entry.ts" : new URL("./entry.ts", import.meta.url).href;
}

function interrupted(task: TaskName, signal: AbortSignal): InterruptedError {
  const reason = signal.reason instanceof Error ? signal.reason.message : "interrupted";
  return new InterruptedError(`${task} stopped before it finished (${reason})`, { fix: "run it again; nothing was changed" });
}

/** Run task `task` on `input` on a worker thread (inline where there is none); see the header. */
export async function runTask<K extends TaskName>(task: K, input: TaskInput<K>, options: RunTaskOptions): Promise<TaskOutput<K>> {
  const write = options.write ?? writeStdout;
  if (options.signal.aborted) throw interrupted(task, options.signal);
  let worker: Worker;
  try {
    worker = new Worker(workerEntry());
  } catch (error) {
    log.debug(`no worker thread (${error instanceof Error ? error.message : String(error)}); running ${task} here, Ctrl-C waits for it`);
    return runTaskHere(task, input, write);
  }
  log.debug(`${task} runs on a worker thread (Ctrl-C stops it)`);
  try {
    const output = await new Promise<unknown>((resolve, reject) => {
      options.signal.addEventListener("abort", () => reject(interrupted(task, options.signal)), { once: true });
      worker.onerror = (event) => reject(new Error(`the ${task} worker thread failed: ${event.message}`));
      worker.onmessage = async (event: MessageEvent<FromWorker>) => {
        const message = event.data;
        if (message.kind === "text") {
          try {
            await write(message.text);
            worker.postMessage({ kind: "written" } satisfies ToWorker);
          } catch (error) {
            reject(error);
          }
        } else if (message.kind === "done") resolve(message.output);
        else reject(restoreError(message.error));
      };
      // {task: K, input: TaskInput<K>} is StartTask's member for K; TypeScript cannot follow a generic K there.
      const start = { kind: "start", task, input, logLevel: log.level } as StartTask;
      worker.postMessage(start satisfies ToWorker);
    });
    // The worker ran task K on `input`: its output is task K's output.
    return output as TaskOutput<K>;
  } finally {
    worker.terminate();
  }
}
