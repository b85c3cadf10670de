/**
 * CPU time per thread of this process (Linux /proc/self/task), for the pipeline suite's "where
 * the time went": the main thread (the program, retrieval, metrics and the LM client's JS), the
 * results writer thread (SQLite), Bun's HTTP client thread (sockets, HTTP parsing), and the rest
 * (JIT compiler, garbage collector helpers). Null where /proc is not readable (not Linux).
 */
import { readdirSync, readFileSync } from "node:fs";

export interface ThreadCpu {
  main: number;
  writer: number;
  http: number;
  other: number;
}

/** Clock ticks per second of /proc's utime and stime (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU milliseconds so far, by thread group; null without /proc. */
export function threadCpu(): ThreadCpu | null {
  let tasks: string[];
  try {
    tasks = readdirSync("/proc/self/task");
  } catch {
    return null;
  }
  const total: ThreadCpu = { main: 0, writer: 0, http: 0, other: 0 };
  for (const task of tasks) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${task}/stat`, "utf8");
    } catch {
      continue; // the thread ended
    }
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
    if (Number(task) === process.pid) total.main += ms;
    else if (name.startsWith("Worker")) total.writer += ms;
    else if (name.startsWith("HTTP Client")) total.http += ms;
    else total.other += ms;
  }
  return total;
}

/** What each group used between two snapshots. */
export function threadCpuSince(before: ThreadCpu | null): ThreadCpu | null {
  const after = threadCpu();
  if (before === null || after === null) return null;
  return { main: after.main - before.main, writer: after.writer - before.writer, http: after.http - before.http, other: after.other - before.other };
}
