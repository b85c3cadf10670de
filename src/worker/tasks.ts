/**
 * Long synchronous work that musique runs on a worker thread so that Ctrl-C can stop it
 * (bun:sqlite and the bootstrap loop block the thread they run on, and with it the SIGINT
 * handler). Each task is a plain function of its input; `emit` hands text to the main thread,
 * which writes it to stdout and answers when the text is written (so output never piles up).
 *   query    one read-only SQL statement, its output streamed (src/store/query.ts)
 *   compare  the paired-bootstrap comparison of runs with its flipped examples (src/report/compare.ts)
 */
import type { QueryFormat } from "../config/defaults.ts";
import { compareRunsDetailed, type DetailedComparison } from "../report/compare.ts";
import { openReadOnly, streamReadOnlyQuery } from "../store/index.ts";

export type Emit = (text: string) => Promise<void>;

interface TaskTypes {
  query: { input: { path: string; sql: string; format: QueryFormat; crlf: boolean; maxWidth: number }; output: { rows: number } };
  compare: { input: { path: string; runs: string[]; resamples: number; seed: number }; output: DetailedComparison };
}

export type TaskName = keyof TaskTypes;
export type TaskInput<K extends TaskName> = TaskTypes[K]["input"];
export type TaskOutput<K extends TaskName> = TaskTypes[K]["output"];

const TASKS: { [K in TaskName]: (input: TaskInput<K>, emit: Emit) => Promise<TaskOutput<K>> } = {
  query: async (input, emit) => {
    const store = openReadOnly(input.path);
    try {
      return { rows: await streamReadOnlyQuery(store, input.sql, input.format, emit, { crlf: input.crlf, maxWidth: input.maxWidth }) };
    } finally {
      store.close();
    }
  },
  compare: async (input) => {
    const store = openReadOnly(input.path);
    try {
      return compareRunsDetailed(store, input.runs, { resamples: input.resamples, seed: input.seed });
    } finally {
      store.close();
    }
  },
};

/** Run task `name` on this thread. */
export function runTaskHere<K extends TaskName>(name: K, input: TaskInput<K>, emit: Emit): Promise<TaskOutput<K>> {
  const task: (input: TaskInput<K>, emit: Emit) => Promise<TaskOutput<K>> = TASKS[name];
  return task(input, emit);
}
