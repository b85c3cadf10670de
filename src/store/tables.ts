/**
 * Each table of the results database declared once, as the row a query returns when it selects
 * the columns under their camelCase names (`SELECT example_id AS exampleId …`): one row type per
 * table (docs/store.md "Tables"; the SQL is in schema.ts). Repository functions type their queries
 * with these (`query<Pick<PredictionRow, "exampleId" | "answer">, [number]>`), so no query result
 * is cast. Columns ending in Json hold JSON text; json.ts reads them.
 */
import type { PredictionStatus } from "./results.ts";
import type { ExampleRole, RunKind, RunStatus } from "./runs.ts";

export interface RunRow {
  id: number;
  /** NULL only in a row no musique wrote (every migration and createRun set it). */
  uid: string | null;
  name: string;
  kind: RunKind;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  configJson: string;
  configHash: string;
  toolVersion: string;
  seed: number | null;
  dataset: string | null;
  model: string | null;
  retriever: string | null;
  error: string | null;
  outputDir: string | null;
}

export interface RunExampleRow {
  runId: number;
  exampleId: string;
  position: number;
  role: ExampleRole;
  nHops: number | null;
  shape: string | null;
  /** The question (NULL in runs recorded before it was stored). */
  question: string | null;
  /** The supporting paragraph ids (idx as strings), JSON (NULL before it was stored). */
  supportingIdsJson: string | null;
}

export interface PredictionRow {
  id: number;
  runId: number;
  step: number;
  exampleId: string;
  nHops: number | null;
  answer: string | null;
  goldAnswersJson: string;
  em: number | null;
  f1: number | null;
  recall: number | null;
  supportF1: number | null;
  reward: number | null;
  rewardComponentsJson: string | null;
  retrievedIdsJson: string;
  hopsUsed: number | null;
  status: PredictionStatus;
  error: string | null;
  /** trajectory.ts StoredTrajectory. */
  trajectoryJson: string | null;
  createdAt: string;
}

export interface ModuleCallRow {
  id: number;
  runId: number;
  step: number;
  exampleId: string;
  rolloutIndex: number;
  module: string;
  hop: number;
  invocation: number;
  requestMessagesJson: string;
  rawCompletion: string | null;
  parsedJson: string | null;
  status: string;
  error: string | null;
  finishReason: string | null;
  truncated: number;
  promptTokens: number | null;
  completionTokens: number | null;
  latencyMs: number | null;
  endpoint: string | null;
  attempts: number | null;
  cached: number;
  createdAt: string;
  adapter: string;
  adapterAttemptsJson: string | null;
}

export interface RolloutRow {
  id: number;
  runId: number;
  step: number;
  exampleId: string;
  rolloutIndex: number;
  answer: string | null;
  em: number | null;
  f1: number | null;
  recall: number | null;
  reward: number | null;
  rewardComponentsJson: string | null;
  formatFailures: number;
  /** trajectory.ts StoredTrajectory. */
  trajectoryJson: string | null;
  createdAt: string;
}

export interface TrainingStepRow {
  runId: number;
  step: number;
  status: "running" | "completed" | "failed" | "skipped";
  startedAt: string;
  finishedAt: string | null;
  meanReward: number | null;
  rewardStd: number | null;
  formatFailures: number;
  numGroups: number;
  arborResponseJson: string | null;
  metricsJson: string | null;
  /** Where the step's time went (NULL before migration 9; the waits are NULL for dry runs). */
  rolloutSeconds: number | null;
  waitingForArborSeconds: number | null;
  arborWaitingSeconds: number | null;
}

export interface GroupRow {
  id: number;
  runId: number;
  step: number;
  exampleId: string;
  module: string;
  invocation: number;
  batchId: number | null;
  rewardsJson: string;
  advantagesJson: string | null;
  size: number;
  requestJson: string | null;
  responseJson: string | null;
  createdAt: string;
}

export interface ValidationRow {
  runId: number;
  step: number;
  em: number | null;
  f1: number | null;
  recall: number | null;
  supportF1: number | null;
  reward: number | null;
  nExamples: number;
  /** 1 for the run's best validation, else 0. */
  isBest: number;
  createdAt: string;
}

export interface CheckpointRow {
  id: number;
  runId: number;
  /** The Arbor job that wrote it ('' for rows recorded before jobs were tracked). */
  jobId: string;
  step: number;
  name: string;
  directory: string | null;
  globalStep: number | null;
  automatic: number;
  metadataJson: string | null;
  arborRecordJson: string | null;
  createdAt: string;
}

export interface ArborJobRow {
  id: number;
  runId: number;
  attempt: number;
  arborRunName: string;
  jobId: string | null;
  baseUrl: string;
  model: string;
  startStep: number;
  trainerMaxSteps: number;
  status: "initializing" | "running" | "terminating" | "terminated" | "cancelled" | "lost" | "gone" | "failed";
  groupsPosted: number;
  note: string | null;
  startedAt: string;
  endedAt: string | null;
}

export interface RunTagRow {
  runId: number;
  tag: string;
  createdAt: string;
}

export interface RunLockRow {
  runId: number;
  pid: number;
  host: string;
  acquiredAt: string;
  heartbeatAt: string;
}

export interface LmCacheRow {
  key: string;
  model: string;
  /** A ChatResult as JSON. */
  responseJson: string;
  createdAt: string;
}

export interface TrainerLogRow {
  id: number;
  runId: number;
  jobId: string;
  /** HF's `step`: the trainer's optimizer step (one group each). */
  globalStep: number;
  /** The musique step that posted the group; null when none of the job's groups has that batch id. */
  step: number | null;
  loss: number | null;
  kl: number | null;
  gradNorm: number | null;
  learningRate: number | null;
  /** The log_history entry as HF wrote it. */
  entryJson: string;
  createdAt: string;
}

export interface TrainerLogReadRow {
  runId: number;
  jobId: string;
  /** The trainer_state.json read or looked for; null when Arbor reported no folder. */
  path: string | null;
  entries: number;
  /** Why nothing could be read (what was missing and how to get it); null when it was read. */
  problem: string | null;
  readAt: string;
}

export interface ConcurrencyLimitRow {
  id: number;
  runId: number;
  /** The base URL (credentials redacted). */
  endpoint: string;
  /** ISO 8601 time of the change. */
  at: string;
  /** Requests in flight allowed from then on. */
  concurrency: number;
  previous: number | null;
  /** fixed | initial | start | settled | up | down | probe-up | probe-down | refused | recovering. */
  reason: string;
  /** What the measuring window saw: requests and completion tokens per second, median latency. */
  requestsPerSecond: number | null;
  tokensPerSecond: number | null;
  latencyP50Ms: number | null;
}
