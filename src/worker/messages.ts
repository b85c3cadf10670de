/**
 * What the main thread and a task worker (entry.ts) say to each other, and errors carried across
 * the thread boundary: a MusiqueError keeps its message, cause, fix and exit code; any other
 * error its message and stack (reported as a bug, exit 1).
 */
import { ExitCode, MusiqueError, isMusiqueError, type ExitCodeValue } from "../errors.ts";
import type { TaskInput, TaskName } from "./tasks.ts";

/** Start task K with its input (one member per task, so `task` narrows `input`). */
export type StartTask = { [K in TaskName]: { kind: "start"; task: K; input: TaskInput<K>; logLevel: number } }[TaskName];

export type ToWorker = StartTask | { kind: "written" };

export type FromWorker = { kind: "text"; text: string } | { kind: "done"; output: unknown } | { kind: "failed"; error: CarriedError };

export interface CarriedError {
  message: string;
  hint?: string | undefined;
  fix?: string | undefined;
  exitCode?: number | undefined;
  stack?: string | undefined;
}

export function carryError(error: unknown): CarriedError {
  if (isMusiqueError(error)) return { message: error.message, hint: error.hint, fix: error.fix, exitCode: error.exitCode };
  if (error instanceof Error) return { message: error.message, stack: error.stack };
  return { message: String(error) };
}

const EXIT_CODES: readonly number[] = Object.values(ExitCode);

function isExitCode(code: number | undefined): code is ExitCodeValue {
  return code !== undefined && EXIT_CODES.includes(code);
}

export function restoreError(carried: CarriedError): Error {
  if (isExitCode(carried.exitCode)) {
    return new MusiqueError(carried.message, carried.exitCode, {
      ...(carried.hint ? { cause: carried.hint } : {}),
      ...(carried.fix ? { fix: carried.fix } : {}),
    });
  }
  const error = new Error(carried.message);
  if (carried.stack) error.stack = carried.stack;
  return error;
}
