/**
 * The trainer's own metrics (issue 17 item 3): Arbor's trainer is HF's Trainer, which logs loss,
 * grad norm, learning rate and the trainer's metrics (kl, reward, …) every `logging_steps`
 * optimizer steps into `log_history`, and writes it into every checkpoint folder as
 * trainer_state.json. The folders Arbor reports are paths on the Arbor machine: when musique can
 * read one (it runs on that node, or the storage is mounted at the same path) the entries go to
 * the store under the musique step whose group each optimizer step trained (one group per
 * optimizer step: batch id = step − 1); otherwise the store keeps exactly why not, and the log
 * says it once per job. Called after each checkpoint a job saves (jobs.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { log } from "../log.ts";
import type { Store } from "../store/database.ts";
import { recordTrainerLog, trainerLogReadsOf, type TrainerLogEntry } from "../store/trainer-logs.ts";
import { stepOfBatch } from "../store/training.ts";

/** HF's file in each checkpoint folder. */
const TRAINER_STATE_FILE = "trainer_state.json";

/** How to get the metrics when this machine cannot read the trainer's log. */
const HOW_TO_GET_THEM =
  "run musique train on the node where Arbor runs (or where its storage_path is mounted at the same path), " +
  "or pass --report-to wandb|tensorboard to have the trainer send loss, KL, grad norm and learning rate there";

export interface TrainerLogJob {
  jobId: string;
  /** Training steps completed before the job started: its groups belong to steps startStep + 1, … */
  startStep: number;
}

type Parsed = { entries: Record<string, unknown>[] } | { problem: string };

function numberOf(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function record(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** Python's json writes NaN and Infinity (a diverged grad norm) as bare words: read them as null. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(text.replace(/\b(?:NaN|-?Infinity)\b/g, "null"));
  }
}

function readState(directory: string | null, checkpoint: string): Parsed & { path: string | null } {
  if (directory === null)
    return { path: null, problem: `Arbor reported no folder for checkpoint ${checkpoint}, so the trainer's log (${TRAINER_STATE_FILE}) cannot be found` };
  const path = join(directory, TRAINER_STATE_FILE);
  if (!existsSync(directory)) {
    return { path, problem: `the trainer's log ${path} is on the Arbor machine, which this machine (${hostname()}) cannot read: ${HOW_TO_GET_THEM}` };
  }
  if (!existsSync(path)) return { path, problem: `${directory} holds no ${TRAINER_STATE_FILE} (HF's trainer writes it with every checkpoint it saves)` };
  let state: unknown;
  try {
    state = parseJson(readFileSync(path, "utf8"));
  } catch (error) {
    return { path, problem: `${path} cannot be read as JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const history = record(state)?.log_history;
  if (!Array.isArray(history))
    return { path, problem: `${path} has no log_history: the trainer logged nothing (a real HF trainer logs every logging_steps optimizer steps)` };
  const entries = history.map(record).filter((entry): entry is Record<string, unknown> => entry !== null && numberOf(entry.step) !== null);
  const useful = entries.filter((entry) => ["loss", "kl", "grad_norm", "learning_rate"].some((key) => key in entry));
  // A checkpoint saved before any optimizer step (the baseline's "best") has an empty history: nothing is missing.
  if (useful.length === 0 && history.length > 0) {
    return {
      path,
      problem: `${path} has ${history.length} log_history entries, none with loss, KL, grad norm or learning rate (the trainer logs every logging_steps optimizer steps)`,
    };
  }
  return { path, entries: useful };
}

/** A problem without the checkpoint folder it names, to tell whether two checkpoints failed alike. */
function withoutFolder(problem: string, path: string | null): string {
  return path === null ? problem : problem.replaceAll(dirname(path), "");
}

/**
 * Read the trainer's log from a checkpoint folder of `job` and store it; returns the entries
 * stored (0 when it could not be read: the store and the log say why).
 */
export function harvestTrainerLog(store: Store, runId: number, job: TrainerLogJob, checkpoint: { name: string; directory: string | null }): number {
  const state = readState(checkpoint.directory, checkpoint.name);
  if ("problem" in state) {
    const before = trainerLogReadsOf(store, runId).find((read) => read.jobId === job.jobId);
    recordTrainerLog(store, runId, { jobId: job.jobId, path: state.path, entries: before?.entries ?? 0, problem: state.problem }, []);
    // Once per job and reason (every checkpoint of a remote Arbor says the same of its own folder).
    if (!before?.problem || withoutFolder(before.problem, before.path) !== withoutFolder(state.problem, state.path))
      log.warn(`trainer metrics (loss, KL, grad norm, learning rate) of job ${job.jobId} not recorded: ${state.problem}`);
    return 0;
  }
  const entries: TrainerLogEntry[] = state.entries.map((entry) => {
    const globalStep = numberOf(entry.step) ?? 0;
    return {
      globalStep,
      step: stepOfBatch(store, runId, job.startStep + 1, globalStep - 1),
      loss: numberOf(entry.loss),
      kl: numberOf(entry.kl),
      gradNorm: numberOf(entry.grad_norm),
      learningRate: numberOf(entry.learning_rate),
      entry,
    };
  });
  recordTrainerLog(store, runId, { jobId: job.jobId, path: state.path, entries: entries.length, problem: null }, entries);
  if (entries.length > 0)
    log.info(`trainer metrics: ${entries.length} optimizer steps of job ${job.jobId} (loss, KL, grad norm, learning rate) read from ${state.path}`);
  return entries.length;
}
