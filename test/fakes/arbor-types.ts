/** The fake Arbor's types (arbor.ts): routes, faults, recorded requests, jobs, options, handle. */
import type { GpuPool, TrainerConfig } from "./arbor-trainer.ts";
import type { FakeResponder } from "./openai.ts";
import type { FaultSchedule } from "./schedule.ts";

export type ArborRoute = "initialize" | "status" | "step" | "checkpoint" | "terminate" | "cancel" | "chat";

export interface ArborFault {
  route: ArborRoute;
  /** Answer with this status and body instead of handling the request (200 + null = a chat failure; a string body is sent as text/plain). */
  status?: number;
  body?: unknown;
  /** Wait this long first (then fail with `status`, or handle normally without it). */
  delayMs?: number;
  /** How many requests this fault applies to (default 1). */
  times?: number;
  /** Close the connection without an answer (after `delayMs`). */
  reset?: boolean;
}

export interface ArborRecordedRequest {
  method: string;
  path: string;
  body: unknown;
  at: number;
}

interface FakeCheckpoint {
  checkpoint_name: string;
  checkpoint_dir: string;
  global_step: number;
  requested: true;
  metadata: Record<string, unknown> | null;
  timestamp: number;
}

interface FakeGroup {
  /** The id the fake assigned (arrival order). */
  assignedBatchId: number;
  /** The id the client sent (HEAD ignores it). */
  requestedBatchId: number;
  batch: unknown[];
  metrics: Record<string, unknown> | null;
}

/** running (training or waiting) · finished (left its loop at max_steps) · crashed · stopped (terminate or cancel). */
export type FakeTrainerState = "running" | "finished" | "crashed" | "stopped";

export interface FakeJob {
  id: string;
  model: string;
  request: Record<string, unknown>;
  trainer: TrainerConfig;
  numGenerations: number;
  maxSteps: number;
  /** Groups the trainer trains before leaving its loop (HF's epoch / accumulation arithmetic). */
  groupsBeforeExit: number;
  status: "running" | "cancelled" | "created";
  terminated: boolean;
  trainerState: FakeTrainerState;
  vllmRunning: boolean;
  /** Pending ids as the last status poll saw them before the trainer stopped answering. */
  frozenPending: number[] | null;
  groups: FakeGroup[];
  /** When each group arrived (ms since the epoch). */
  receivedAt: number[];
  /** With `trainStepMs`: when the trainer finished (or will finish) training each group, in ms since the epoch. */
  trainedAt: number[];
  /** With `trainStepMs`: when the trainer began waiting for its first group (initialize's answer). */
  readyAt: number;
  checkpoints: Record<string, FakeCheckpoint>;
  lastCheckpoint: string | null;
}

export interface FakeArborOptions {
  legacy?: boolean;
  /** Initialize blocks this long (vLLM + trainer launch). */
  initializeDelayMs?: number;
  storagePath?: string;
  /** Write each checkpoint folder under storagePath as HF's trainer does (weights, trainer_state.json with log_history). */
  writeCheckpoints?: boolean;
  /** Size of the pending-batch-id window (HEAD: current + one ahead = 2). */
  pendingWindow?: number;
  /**
   * Milliseconds the trainer takes per group (one optimizer step). Without it the trainer consumes
   * each group at once; with it, groups queue: the trainer asks for ids only `pendingWindow` past the
   * groups it has trained, and `trainerTimes` says how long it waited for musique between groups.
   */
  trainStepMs?: number;
  /** GPUs the fake NVML reports (default 64). */
  gpus?: number;
  faults?: ArborFault[];
  /** Seeded random faults (test/fakes/schedule.ts), drawn per request among its route's faults. */
  schedule?: FaultSchedule<ArborFault>;
  responder?: FakeResponder;
  now?: () => Date;
}

export interface FakeArbor {
  url: string;
  baseUrl: string;
  port: number;
  requests: ArborRecordedRequest[];
  jobs: Map<string, FakeJob>;
  gpus: GpuPool;
  inject(...faults: ArborFault[]): void;
  requestsTo(route: ArborRoute): ArborRecordedRequest[];
  /** The trainer process of a job dies (out of memory, killed). */
  crashTrainer(jobId: string): void;
  /** With `trainStepMs`: how the job's trainer spent its time from its first group to its last. */
  trainerTimes(jobId: string): FakeTrainerTimes;
  /** The most job calls (every route but chat) that were in flight at once. */
  mostJobCallsInFlight(): number;
  /** Requests that never got an answer (Arbor waiting on a trainer that is gone). */
  hanging(): ArborRecordedRequest[];
  stop(): Promise<void>;
}

/** Where a timed trainer's time went (ms), from its first group's arrival to the end of its last group. */
interface FakeTrainerTimes {
  groups: number;
  /** Waiting for musique's first group after initialize answered (nothing to overlap with yet). */
  beforeFirstGroupMs: number;
  /** From the first group's arrival to the end of training the last group. */
  spanMs: number;
  /** Within the span: waiting for musique's next group. */
  waitingMs: number;
}
