/**
 * The JSON API of `musique view` (docs in README "musique view"): what each GET /api/… returns.
 * Shared by the server's data layer (src/view/data/) and the page code (src/view/page/), which
 * imports these types only. Steps follow one convention (docs/store.md): training steps count from
 * 1 (step N's rollouts, groups and updates), validations sit at the steps completed (0 = before
 * training), so the validation after step N is at N; hops are 1-based on screen.
 */
import type { CompareExample, Comparison } from "../report/compare.ts";
import type { ExampleDetail, RunReport } from "../report/data.ts";
import type { SeriesPoint } from "../report/training.ts";
import type { TrajectoryHop } from "../report/trajectory.ts";
import type { ValidationRecord } from "../store/training.ts";
import type { RunSummary } from "../store/runs.ts";

export type RunKindLabel = "evaluate" | "train" | "dry run" | "retrieve";

/**
 * A run on the runs page: run_summary's headline numbers (of its latest predictions: step -1
 * evaluation, N validation after N steps, null none yet), with `dataset` the data its scores were
 * measured on (a training run's validation set), plus training progress and tags.
 */
export type RunListItem = Pick<
  RunSummary,
  "name" | "status" | "startedAt" | "finishedAt" | "model" | "retriever" | "dataset" | "step" | "n" | "em" | "f1" | "recall" | "supportF1" | "reward"
> & {
  kind: RunKindLabel;
  /** Format failures and service failures among those predictions. */
  failures: number;
  /** Training runs: steps completed and planned. */
  completedSteps: number;
  plannedSteps: number | null;
  tags: string[];
  error: string | null;
};

export interface RunsPayload {
  database: string;
  runs: RunListItem[];
}

export interface RunPayload {
  report: RunReport;
  worst: ExampleDetail[];
}

interface CompletionHealth {
  calls: number;
  callsWithTokens: number;
  meanTokens: number | null;
  maxTokens: number | null;
  truncated: number;
  /** Calls that fell back to the JSONAdapter, and those it rescued (null: the database does not record it). */
  fallbackCalls: number | null;
  rescuedCalls: number | null;
}

/** One training step (the step-th: its rollouts were sampled after step − 1 steps). */
export interface StepHealth {
  step: number;
  status: string;
  rollouts: number;
  meanReward: number | null;
  groups: number;
  /** Mean over groups of the standard deviation of rewards inside the group (what GRPO learns from). */
  meanGroupSpread: number | null;
  zeroSpreadGroups: number;
  formatFailureRollouts: number;
  completion: CompletionHealth | null;
  /** Mean reward of each module's groups. */
  rewardByModule: Record<string, number>;
}

interface NotRecorded {
  recorded: false;
  /** Why, and how to get it. */
  reason: string;
}

export interface TrainingPayload {
  run: { name: string; kind: RunKindLabel; status: string; startedAt: string; finishedAt: string | null; error: string | null; model: string | null };
  plannedSteps: number | null;
  examplesPerStep: number | null;
  rolloutsPerStep: number | null;
  steps: StepHealth[];
  modules: string[];
  validations: ValidationRecord[];
  best: ValidationRecord | null;
  checkpoints: Array<{ step: number; name: string; directory: string | null }>;
  trainer: { recorded: true; series: Record<string, SeriesPoint[]> } | NotRecorded;
  /** Whether the JSONAdapter fallback is recorded (then per step in StepHealth.completion), or why not. */
  fallback: { recorded: true } | NotRecorded;
  /** Health warnings, e.g. most groups had no reward spread. */
  warnings: string[];
}

export interface GroupSummary {
  id: number;
  exampleId: string;
  module: string;
  invocation: number;
  batchId: number | null;
  rewards: number[];
  advantages: number[];
  /** True when the database had no advantages for this group and they were computed (Arbor's formula). */
  advantagesComputed: boolean;
  spread: number;
  zeroSpread: boolean;
}

interface StepRollout {
  rolloutIndex: number;
  answer: string | null;
  em: number | null;
  f1: number | null;
  reward: number | null;
  formatFailures: number;
}

export interface StepExample {
  exampleId: string;
  question: string;
  rollouts: StepRollout[];
  groups: GroupSummary[];
}

export interface StepPayload {
  step: number;
  status: string | null;
  meanReward: number | null;
  examples: StepExample[];
}

export interface GroupSample {
  messages: Array<{ role: string; content: string }>;
  completion: string;
  reward: number;
  advantage: number;
}

export interface GroupPayload {
  step: number;
  group: GroupSummary;
  samples: GroupSample[];
}

export interface RolloutPayload {
  step: number;
  exampleId: string;
  rolloutIndex: number;
  hops: TrajectoryHop[];
  failure: string | null;
}

export interface ComparePayload {
  comparison: Comparison;
  examples: Record<string, CompareExample>;
}

export interface ApiError {
  error: string;
  fix: string | null;
}

export interface StatusPayload {
  database: string;
  version: number;
}
