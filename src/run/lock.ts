/**
 * One process per run: a run's lock (pid, host, heartbeat in the database's run_locks table) is
 * taken when the run starts or resumes and refreshed every HEARTBEAT_SECONDS. `--resume` of a run
 * whose holder is alive is refused (exit 2: it would run the same examples twice, at twice the LM
 * cost). The holder counts as gone — and a resume goes ahead — once its process no longer exists
 * on this host (a kill -9 or a crash: at once), or its heartbeat is older than STALE_SECONDS (a
 * process on another host, or a pid reused by another program). Spec: README "What happens when…".
 */
import { hostname } from "node:os";
import { UsageError } from "../errors.ts";
import { log } from "../log.ts";
import type { Store } from "../store/database.ts";
import { refreshRunLock, releaseRunLock, takeRunLock, type RunLock, type RunRecord } from "../store/runs.ts";

const HEARTBEAT_SECONDS = 5;
export const STALE_SECONDS = 60;

/** Whether a process with this pid exists on this machine (signal 0 only checks). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === "EPERM"; // exists, owned by someone else
  }
}

/** Whether the lock's holder may still be running the run. */
export function holderAlive(lock: RunLock, now = Date.now()): boolean {
  const silentFor = now - Date.parse(lock.heartbeatAt);
  if (!(silentFor < STALE_SECONDS * 1000)) return false;
  return lock.host !== hostname() || processExists(lock.pid);
}

function seconds(since: string): string {
  return `${Math.max(0, Math.round((Date.now() - Date.parse(since)) / 1000))} s`;
}

export interface HeldLock {
  release(): void;
}

/** Take the run's lock for this process, or refuse while another live process holds it. */
export function lockRun(store: Store, run: RunRecord, resumeCommand: string): HeldLock {
  const owner = { pid: process.pid, host: hostname() };
  const holder = takeRunLock(store, run.id, owner, (lock) => holderAlive(lock));
  if (holder) {
    throw new UsageError(
      `run "${run.name}" is being run by another musique (pid ${holder.pid} on ${holder.host}, started ${seconds(holder.acquiredAt)} ago, last seen ${seconds(holder.heartbeatAt)} ago)`,
      {
        cause: "resuming it now would run the same examples twice (and pay for them twice)",
        fix: `wait for that process to finish, or stop it (Ctrl-C there, or kill ${holder.pid} on ${holder.host}) and run again: ${resumeCommand}; a process that died leaves no lock behind on this host, and one on another host after ${STALE_SECONDS} s`,
      },
    );
  }
  const heartbeat = setInterval(() => {
    try {
      refreshRunLock(store, run.id, owner);
    } catch (error) {
      log.debug(`could not refresh the lock of ${run.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }, HEARTBEAT_SECONDS * 1000);
  heartbeat.unref();
  return {
    release: () => {
      clearInterval(heartbeat);
      try {
        releaseRunLock(store, run.id, owner);
      } catch (error) {
        log.debug(`could not release the lock of ${run.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  };
}
