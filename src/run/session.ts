/**
 * The life of a run, shared by `evaluate` and `train`: open the database, find the run to resume
 * (by name, of the right kind; the log says which database and why: --db, MUSIQUE_DB or the
 * per-user default) or create a new one (a unique default name), hold its lock (a resume
 * is refused while another live process runs it: lock.ts), claim its output folder (refused when
 * it belongs to another run: output-folder.ts) and its log, record its examples and config.json,
 * run the command's work, and end with one status — completed, interrupted (Ctrl-C, SIGTERM or
 * SIGHUP: marked at once, then the work in flight is recorded and the resume command printed) or
 * failed (the resume command is printed too). Only what differs per command is passed in
 * (`SessionPlan`). Spec: README "Evaluate" / "Train" and "What happens when…"; docs/store.md.
 */
import { join } from "node:path";
import { InterruptedError, UsageError } from "../errors.ts";
import { writeJsonFile } from "../files.ts";
import { log, retryLog } from "../log.ts";
import { openStore, type Store } from "../store/database.ts";
import { describeDatabase } from "../store/location.ts";
import { requireRun } from "../store/manage.ts";
import { recordRunExamples, updateRunStatus, type RunExample, type RunKind, type RunRecord, type RunStatus } from "../store/runs.ts";
import { operationalKeys } from "../config/operational.ts";
import { newRunName, resumeOptions, startNewRun, type NewRunOptions } from "./config.ts";
import { lockRun } from "./lock.ts";
import { checkFolderFree, claimOutputFolder, ownerOf } from "./output-folder.ts";
import { teeLogTo } from "./outputs.ts";

export interface SessionOptions extends NewRunOptions {
  db: string;
  resume?: string | undefined;
}

/** How a run that went through its work ends. */
type RunOutcome = Extract<RunStatus, "completed" | "incomplete">;

export interface RunSession<O> {
  readonly store: Store;
  readonly run: RunRecord;
  /** The effective options: a resumed run's stored configuration with this call's operational flags. */
  readonly options: O;
  /** outputs/{run}/ */
  readonly directory: string;
  /** The run existed before this call (--resume). */
  readonly resumed: boolean;
  /** `musique KIND --resume RUN --db DB`. */
  readonly resumeCommand: string;
  readonly signal: AbortSignal;
  /** A file of the run's output folder. */
  file(name: string): string;
}

interface WorkResult<T> {
  outcome: RunOutcome;
  /** Stored as runs.error next to the status (e.g. what is missing). */
  note?: string | null;
  summary: T;
}

/** What differs between commands; everything else is the session's. */
export interface SessionPlan<O extends SessionOptions, P, T> {
  kind: Exclude<RunKind, "retrieve">;
  /** run.log or train.log, in the output folder. */
  logFile: string;
  /** The prefix of a default run name ({prefix}-{UTC time}-{random}). */
  namePrefix(options: O): string;
  /** Refuse to resume this run (e.g. train: already completed). */
  checkResume?(run: RunRecord): void;
  /** Before the run exists or is reopened: load data, validate, check the services. */
  prepare(options: O, store: Store): Promise<P>;
  /** The examples a new run records, in order. */
  examples(prepared: P, options: O): RunExample[];
  /** The command's work; the session sets the status from its result or its error. */
  work(session: RunSession<O>, prepared: P): Promise<WorkResult<T>>;
  /** How far a stopped run got, for the interrupted message ("12/30 examples recorded"). */
  progress(session: RunSession<O>): string;
}

/** The run named by --resume, checked to be of this command's kind. */
function runToResume(store: Store, name: string, kind: RunKind): RunRecord {
  const run = requireRun(store, name);
  if (run.kind !== kind) {
    throw new UsageError(`run "${run.name}" is a ${run.kind} run`, { fix: `resume it with musique ${run.kind} --resume ${run.name}` });
  }
  return run;
}

/** Set the status on the way out; a failure to do so must not hide the error that ended the run. */
function finalStatus(store: Store, runId: number, status: RunStatus, note: string | null): void {
  try {
    updateRunStatus(store, runId, status, note);
  } catch (error) {
    log.debug(`could not mark the run ${status}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Run a command's work as one run: open/resume, outputs, status transitions, resume hint. */
export async function runSession<O extends SessionOptions, P, T>(requested: O, signal: AbortSignal, plan: SessionPlan<O, P, T>): Promise<T> {
  const store = openStore(requested.db);
  try {
    const existing = requested.resume ? runToResume(store, requested.resume, plan.kind) : null;
    if (existing) plan.checkResume?.(existing);
    // Refused at once (before data is loaded) while another live process runs it.
    let lock = existing ? lockRun(store, existing, resumeCommandOf(plan.kind, existing.name, store)) : null;
    try {
      const options = existing ? resumeOptions(existing.configJson, requested) : requested;
      if (existing) log.info(`resuming ${existing.name} (${existing.status}); keeping its configuration except ${operationalKeys.join(", ")}`);
      const prepared = await plan.prepare(options, store);
      let run = existing;
      if (!run) {
        const name = newRunName(store, plan.namePrefix(options), options.runName);
        checkFolderFree(join(options.outputDir, name));
        run = startNewRun(store, plan.kind, name, options);
        lock = lockRun(store, run, resumeCommandOf(plan.kind, name, store));
      }
      return await withRun(store, run, existing !== null, { ...options, runName: run.name }, signal, plan, prepared);
    } finally {
      lock?.release();
    }
  } finally {
    store.close();
  }
}

function resumeCommandOf(kind: RunKind, name: string, store: Store): string {
  return `musique ${kind} --resume ${name} --db ${store.path}`;
}

async function withRun<O extends SessionOptions, P, T>(
  store: Store,
  run: RunRecord,
  resumed: boolean,
  options: O,
  signal: AbortSignal,
  plan: SessionPlan<O, P, T>,
  prepared: P,
): Promise<T> {
  const resumeCommand = resumeCommandOf(plan.kind, run.name, store);
  const directory = join(options.outputDir, run.name);
  try {
    claimOutputFolder(directory, ownerOf(store.path, run), resumed, run.outputDir);
  } catch (error) {
    // A resumed run refused someone else's folder is not itself failed.
    if (!(resumed && error instanceof UsageError)) finalStatus(store, run.id, "failed", message(error));
    throw error;
  }
  const session: RunSession<O> = {
    store,
    run,
    options,
    directory,
    resumed,
    resumeCommand,
    signal,
    file: (name) => join(directory, name),
  };
  const stopTee = teeLogTo(session.file(plan.logFile));
  log.info(describeDatabase(store.path));
  // A stop signal marks the run interrupted at once, in case a scheduler's SIGKILL follows soon.
  const markInterrupted = () => finalStatus(store, run.id, "interrupted", message(signal.reason));
  try {
    if (!resumed) recordRunExamples(store, run.id, plan.examples(prepared, options));
    updateRunStatus(store, run.id, "running");
    signal.addEventListener("abort", markInterrupted, { once: true });
    writeJsonFile(session.file("config.json"), JSON.parse(run.configJson), "--output-dir");
    const result = await plan.work(session, prepared);
    if (signal.aborted) throw signal.reason ?? new InterruptedError();
    updateRunStatus(store, run.id, result.outcome, result.note ?? null);
    return result.summary;
  } catch (error) {
    if (error instanceof InterruptedError || signal.aborted) {
      finalStatus(store, run.id, "interrupted", message(error));
      log.warn(`interrupted: ${plan.progress(session)}. Resume with:\n  ${resumeCommand}`);
      throw new InterruptedError(`${plan.kind} run ${run.name} interrupted`, { fix: resumeCommand });
    }
    finalStatus(store, run.id, "failed", message(error));
    log.warn(`${plan.kind} run ${run.name} failed; after fixing the cause, continue with:\n  ${resumeCommand}`);
    throw error;
  } finally {
    signal.removeEventListener("abort", markInterrupted);
    retryLog.finish(); // the retry summary goes into run.log too
    stopTee();
  }
}
