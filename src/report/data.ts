/**
 * Everything `musique report` shows about one run, read from the store: configuration, status,
 * scores (computed by src/metrics/run-scores.ts scoreRun, so they equal scores.json), usage, failures,
 * recall after each hop, and (for training runs) the training curves.
 */
import { camelKeys } from "../config/keys.ts";
import { idShape } from "../data/official.ts";
import type { Example } from "../data/types.ts";
import { averageOf } from "../metrics/index.ts";
import { scoreRun, type RunScores, type ScoredPrediction } from "../metrics/run-scores.ts";
import type { Store } from "../store/database.ts";
import {
  callUsageOf,
  firstRequestMessagesOf,
  latestPredictionStep,
  reportPredictionsOf,
  runExamplesOf,
  storedQuestionsOf,
  type ReportPrediction,
} from "../store/reports.ts";
import { isResultStatus } from "../metrics/run-scores.ts";
import { requireRun } from "../store/manage.ts";
import type { RunRecord } from "../store/runs.ts";
import { rolloutStepsOf, type RolloutStep } from "./rollouts.ts";
import { loadTrainingReport, type TrainingReport } from "./training.ts";
import { parseTrajectory, questionFromMessages, recallAfterEachHop, retrievedSupportingIds, type Trajectory, type TrajectoryHop } from "./trajectory.ts";

interface RecallAtHop {
  /** 1, 2, … up to the most hops any example ran. */
  hops: number[];
  overall: number[];
  /** By the examples' hop count ("2", "3", "4"). */
  byHops: Record<string, number[]>;
}

export interface RunReport {
  run: {
    name: string;
    kind: string;
    status: string;
    startedAt: string;
    finishedAt: string | null;
    durationSeconds: number | null;
    model: string | null;
    dataset: string | null;
    retriever: string | null;
    seed: number | null;
    toolVersion: string;
    error: string | null;
    outputDir: string | null;
  };
  config: Record<string, unknown>;
  /** The predictions' step: -1 for evaluation, the latest validation step for training; null if none. */
  step: number | null;
  /** Examples the run planned to score, and how many have a prediction (scores cover those). */
  examples: number;
  predicted: number;
  scores: RunScores | null;
  usage: { calls: number; promptTokens: number; completionTokens: number; totalTokens: number; cachedCalls: number; meanLatencyMs: number | null };
  /**
   * parseFailures, rescuedCalls, lmErrors and retries count module calls; the *Examples counts are
   * examples by outcome: format failures are scored, the others have no result (by their real cause).
   */
  failures: {
    parseFailures: number;
    /** Calls the JSONAdapter fallback rescued (their ChatAdapter reply broke the format). */
    rescuedCalls: number;
    lmErrors: number;
    retries: number;
    formatFailureExamples: number;
    lmErrorExamples: number;
    retrievalErrorExamples: number;
    deadlineExamples: number;
  };
  recallAtHop: RecallAtHop;
  training: TrainingReport | null;
  /** A dry run (train --dry-run): it validates nothing, so its steps' rollouts and groups stand in for scores; null otherwise. */
  dryRun: RolloutStep[] | null;
}

export interface ScoredExample {
  id: string;
  nHops: number;
  shape: string;
  prediction: ReportPrediction;
  trajectory: Trajectory;
  supportingCount: number;
  /** The supporting paragraph ids as stored with the run; null in runs recorded before they were. */
  supportingIds: string[] | null;
}

/** One example of a run as the report shows it: its scores (as scoring reads them), question, gold and trajectory. */
export interface ExampleDetail extends Pick<ScoredPrediction, "answer" | "em" | "f1" | "recall" | "supportF1" | "reward" | "status"> {
  id: string;
  nHops: number;
  shape: string;
  question: string;
  gold: string[];
  error: string | null;
  hops: TrajectoryHop[];
}

/**
 * A run's stored configuration as an object ({} if it is not one), with the options' camelCase
 * keys (stored snake_case, or camelCase by runs recorded before config files had one key style).
 */
export function parseConfig(json: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(json);
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? camelKeys(parsed) : {};
  } catch {
    return {};
  }
}

/** The run's examples with their predictions at `step`, in the run's order (examples without one are left out). */
/** An example the run planned to score: its id, hop count and shape (for examples never run). */
export interface PlannedExample {
  exampleId: string;
  nHops: number | null;
  shape: string | null;
}

export function scoredExamplesOf(store: Store, run: RunRecord, step: number): { plannedIds: string[]; plannedRows: PlannedExample[]; scored: ScoredExample[] } {
  const predictions = reportPredictionsOf(store, run.id, step);
  const byId = new Map(predictions.map((prediction) => [prediction.exampleId, prediction]));
  const role = run.kind === "train" ? "dev" : "test";
  let planned = runExamplesOf(store, run.id, role);
  if (planned.length === 0) planned = runExamplesOf(store, run.id, role === "dev" ? "test" : "dev");
  const rows =
    planned.length > 0
      ? planned
      : predictions.map((prediction, position) => ({ exampleId: prediction.exampleId, position, nHops: prediction.nHops, shape: null, supportingIds: null }));
  const scored: ScoredExample[] = [];
  for (const row of rows) {
    const prediction = byId.get(row.exampleId);
    if (!prediction) continue;
    const fromId = idShape(row.exampleId);
    const nHops = row.nHops ?? prediction.nHops ?? fromId?.hops ?? 2;
    scored.push({
      id: row.exampleId,
      nHops,
      shape: row.shape ?? fromId?.shape ?? `${nHops}hop`,
      prediction,
      trajectory: parseTrajectory(prediction.trajectoryJson),
      supportingCount: row.supportingIds?.length ?? nHops,
      supportingIds: row.supportingIds,
    });
  }
  return { plannedIds: rows.map((row) => row.exampleId), plannedRows: rows, scored };
}

/**
 * Supporting ids for scoring: as stored with the run; for runs recorded before they were stored,
 * ids with the same overlap with the retrieved ids (the supporting ones the trajectory shows, plus
 * placeholders that no paragraph has).
 */
function supportingIdsFor(item: ScoredExample): string[] {
  if (item.supportingIds !== null) return item.supportingIds;
  const { prediction } = item;
  const supportingIds = [...retrievedSupportingIds(prediction.retrievedIds, item.trajectory, prediction.recall, item.supportingCount)];
  for (let placeholder = 1; supportingIds.length < item.supportingCount; placeholder++) supportingIds.push(String(-placeholder));
  return supportingIds;
}

/** What scoreRun needs of an example, from the store: gold answers as scored, hop count, shape, supporting ids. */
function exampleForScoring(item: ScoredExample): Example {
  const { prediction } = item;
  const supportingIds = supportingIdsFor(item);
  return {
    id: item.id,
    question: "",
    answer: prediction.goldAnswers[0] ?? "",
    answerAliases: prediction.goldAnswers.slice(1),
    answers: prediction.goldAnswers,
    paragraphs: [],
    supportingIds,
    nHops: item.nHops,
    shape: item.shape,
    decomposition: [],
    answerable: true,
  };
}

function scoredPrediction(item: ScoredExample): ScoredPrediction {
  const { prediction } = item;
  return {
    exampleId: item.id,
    answer: prediction.answer,
    em: prediction.em,
    f1: prediction.f1,
    recall: prediction.recall,
    supportF1: prediction.supportF1,
    reward: prediction.reward,
    status: prediction.status,
    retrievedIds: prediction.retrievedIds,
  };
}

/** An example that was never run: only what grouping needs (it is counted as missing, never scored). */
function plannedOnly(row: PlannedExample): Example {
  const fromId = idShape(row.exampleId);
  const nHops = row.nHops ?? fromId?.hops ?? 2;
  return {
    id: row.exampleId,
    question: "",
    answer: "",
    answerAliases: [],
    answers: [],
    paragraphs: [],
    supportingIds: [],
    nHops,
    shape: row.shape ?? fromId?.shape ?? `${nHops}hop`,
    decomposition: [],
    answerable: true,
  };
}

/** The run's scores over every planned example: those without a prediction count as missing. */
function scoresOf(scored: readonly ScoredExample[], planned: readonly PlannedExample[] = []): RunScores | null {
  if (scored.length === 0) return null;
  const recorded = new Set(scored.map((item) => item.id));
  const examples = [...scored.map(exampleForScoring), ...planned.filter((row) => !recorded.has(row.exampleId)).map(plannedOnly)];
  return scoreRun(examples, scored.map(scoredPrediction));
}

function recallAtHopOf(scored: readonly ScoredExample[]): RecallAtHop {
  const maxHops = Math.max(1, ...scored.map((item) => item.trajectory.hops.length));
  const hops = Array.from({ length: maxHops }, (_, index) => index + 1);
  const curves = scored.map((item) => ({
    key: String(item.nHops),
    curve: recallAfterEachHop(item.trajectory, item.supportingCount, item.prediction.recall, maxHops),
  }));
  const average = (list: typeof curves) => hops.map((_, index) => averageOf(list.map((entry) => entry.curve[index] ?? 0)));
  const keys = [...new Set(curves.map((entry) => entry.key))].sort((a, b) => Number(a) - Number(b));
  return {
    hops,
    overall: average(curves),
    byHops: Object.fromEntries(keys.map((key) => [key, average(curves.filter((entry) => entry.key === key))])),
  };
}

export function loadRunReport(store: Store, name: string): RunReport {
  const run = requireRun(store, name);
  const step = latestPredictionStep(store, run.id);
  const { plannedIds, plannedRows, scored } = step === null ? { plannedIds: [], plannedRows: [], scored: [] } : scoredExamplesOf(store, run, step);
  const usage = callUsageOf(store, run.id);
  const finished = run.finishedAt ? Date.parse(run.finishedAt) : Number.NaN;
  const durationMs = finished - Date.parse(run.startedAt);
  const config = parseConfig(run.configJson);
  const training = run.kind === "train" ? loadTrainingReport(store, run, config) : null;
  return {
    run: {
      name: run.name,
      kind: run.kind,
      status: run.status,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      durationSeconds: Number.isFinite(durationMs) ? durationMs / 1000 : null,
      model: run.model,
      dataset: run.dataset,
      retriever: run.retriever,
      seed: run.seed,
      toolVersion: run.toolVersion,
      error: run.error,
      outputDir: run.outputDir,
    },
    config,
    step,
    examples: plannedIds.length,
    predicted: scored.length,
    scores: scoresOf(scored, plannedRows),
    usage: {
      calls: usage.calls,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      totalTokens: usage.promptTokens + usage.completionTokens,
      cachedCalls: usage.cachedCalls,
      meanLatencyMs: usage.meanLatencyMs,
    },
    failures: {
      parseFailures: usage.parseFailures,
      rescuedCalls: usage.rescuedCalls,
      lmErrors: usage.lmErrors,
      retries: usage.retries,
      formatFailureExamples: scored.filter((item) => item.prediction.status === "format_failure").length,
      lmErrorExamples: scored.filter((item) => item.prediction.status === "lm_error").length,
      retrievalErrorExamples: scored.filter((item) => item.prediction.status === "retrieval_error").length,
      deadlineExamples: scored.filter((item) => item.prediction.status === "deadline").length,
    },
    recallAtHop: recallAtHopOf(scored.filter((item) => isResultStatus(item.prediction.status))),
    training,
    dryRun:
      training && config.dryRun === true
        ? rolloutStepsOf(
            store,
            run.id,
            training.rewardCurve.map((point) => point.step),
          )
        : null,
  };
}

/**
 * The question of each example: as stored with the run; for runs recorded before it was stored,
 * read from the first prompt the program sent at `step`.
 */
export function questionsOf(store: Store, runId: number, step: number, exampleIds: readonly string[]): Map<string, string> {
  const questions = storedQuestionsOf(store, runId, exampleIds);
  const missing = exampleIds.filter((id) => !questions.has(id));
  if (missing.length === 0) return questions;
  for (const [id, messages] of firstRequestMessagesOf(store, runId, step, missing)) questions.set(id, questionFromMessages(messages));
  return questions;
}

/** The `limit` worst examples (lowest F1, then lowest reward) with their trajectories and questions. */
export function worstExamples(store: Store, name: string, limit: number): ExampleDetail[] {
  const run = requireRun(store, name);
  const step = latestPredictionStep(store, run.id);
  if (step === null) return [];
  const { scored } = scoredExamplesOf(store, run, step);
  const worst = [...scored]
    .sort((a, b) => (a.prediction.f1 ?? 0) - (b.prediction.f1 ?? 0) || (a.prediction.reward ?? 0) - (b.prediction.reward ?? 0) || a.id.localeCompare(b.id))
    .slice(0, limit);
  const questions = questionsOf(
    store,
    run.id,
    step,
    worst.map((item) => item.id),
  );
  return worst.map((item) => ({
    id: item.id,
    nHops: item.nHops,
    shape: item.shape,
    question: questions.get(item.id) ?? "",
    answer: item.prediction.answer,
    gold: item.prediction.goldAnswers,
    em: item.prediction.em,
    f1: item.prediction.f1,
    recall: item.prediction.recall,
    supportF1: item.prediction.supportF1,
    reward: item.prediction.reward,
    status: item.prediction.status,
    error: item.prediction.error ?? item.trajectory.failure,
    hops: item.trajectory.hops,
  }));
}
