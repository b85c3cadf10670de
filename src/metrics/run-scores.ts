/**
 * Scores of a run: the official MuSiQue numbers (computed exactly as `musique score` computes
 * them from predictions.jsonl) plus recall, reward and failure counts, overall, per hop count
 * and per shape. Service failures are not scores: every number is over the examples that have a
 * result (`n`: ok or format failure), and `missing` counts the others next to them, by cause
 * (LM, retrieval, deadline; the rest were never run). A block with no result has null scores.
 * Used by evaluate and train (scores.json, the table) and by report, so their numbers agree;
 * nothing here reads the store (the view's page bundles it).
 */
import { goldRecordOf, officialPredictionRow, type PredictionRow } from "../data/official.ts";
import type { Example } from "../data/types.ts";
import { averageOf } from "./average.ts";
import { evaluateOfficialRecords, type PredictionRecord as OfficialPrediction } from "./official.ts";

/**
 * Whether a recorded prediction status is a result (scored): ok or format_failure. lm_error,
 * retrieval_error and deadline are examples without a result (docs/store.md).
 */
export function isResultStatus(status: string): boolean {
  return status === "ok" || status === "format_failure";
}

/** What scoring needs of a recorded prediction (store/results.ts PredictionRecord fits). */
export interface ScoredPrediction {
  exampleId: string;
  answer: string | null;
  em: number | null;
  f1: number | null;
  recall: number | null;
  supportF1: number | null;
  reward: number | null;
  status: string;
  retrievedIds: readonly string[];
}

export interface ScoreBlock {
  /** Examples with a result (scored). */
  n: number;
  /** Means over those n; null when n = 0. */
  answer_em: number | null;
  answer_f1: number | null;
  support_f1: number | null;
  recall: number | null;
  reward: number | null;
  format_failures: number;
  /** Examples without a result: lm_errors + retrieval_errors + deadlines + never run. */
  missing: number;
  lm_errors: number;
  retrieval_errors: number;
  deadlines: number;
}

export interface RunScores {
  overall: ScoreBlock;
  by_hops: Record<string, ScoreBlock>;
  by_shape: Record<string, ScoreBlock>;
}

/** The official predictions-file line for one example (official.ts writes the format). */
export function officialPrediction(exampleId: string, prediction: ScoredPrediction | undefined): PredictionRow {
  // A failed example scores 0 on every metric (DSPy's failure_score=0), support F1 included.
  const supportIdxs = prediction?.status === "ok" ? prediction.retrievedIds.map(Number).filter(Number.isInteger) : [];
  return officialPredictionRow(exampleId, prediction?.answer ?? "", supportIdxs);
}

function round(value: number, digits = 4): number {
  return Number(value.toFixed(digits));
}

function block(examples: readonly Example[], byId: ReadonlyMap<string, ScoredPrediction>): ScoreBlock {
  const statusOf = (example: Example) => byId.get(example.id)?.status;
  const count = (status: string) => examples.filter((example) => statusOf(example) === status).length;
  const withResult = examples.filter((example) => isResultStatus(statusOf(example) ?? ""));
  const failures = {
    format_failures: count("format_failure"),
    lm_errors: count("lm_error"),
    retrieval_errors: count("retrieval_error"),
    deadlines: count("deadline"),
  };
  const missing = examples.length - withResult.length;
  if (withResult.length === 0) {
    return { n: 0, answer_em: null, answer_f1: null, support_f1: null, recall: null, reward: null, ...failures, missing };
  }
  const gold = withResult.map(goldRecordOf);
  const predictions: OfficialPrediction[] = withResult.map((example) => {
    const record = officialPrediction(example.id, byId.get(example.id));
    return {
      id: record.id,
      predictedAnswer: record.predicted_answer,
      predictedSupportIdxs: record.predicted_support_idxs,
      predictedAnswerable: true,
    };
  });
  const official = evaluateOfficialRecords(gold, predictions);
  const scored = withResult.map((example) => byId.get(example.id));
  return {
    n: withResult.length,
    answer_em: official.answer_em,
    answer_f1: official.answer_f1,
    support_f1: official.support_f1,
    recall: round(averageOf(scored.map((prediction) => prediction?.recall ?? 0))),
    reward: round(averageOf(scored.map((prediction) => prediction?.reward ?? 0))),
    ...failures,
    missing,
  };
}

function groupBy(examples: readonly Example[], key: (example: Example) => string): Map<string, Example[]> {
  const groups = new Map<string, Example[]>();
  for (const example of examples) {
    const name = key(example);
    const list = groups.get(name) ?? [];
    list.push(example);
    groups.set(name, list);
  }
  return new Map([...groups.entries()].sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true })));
}

export function scoreRun(examples: readonly Example[], predictions: readonly ScoredPrediction[]): RunScores {
  const byId = new Map(predictions.map((prediction) => [prediction.exampleId, prediction]));
  const byHops: Record<string, ScoreBlock> = {};
  for (const [hops, group] of groupBy(examples, (example) => String(example.nHops))) byHops[hops] = block(group, byId);
  const byShape: Record<string, ScoreBlock> = {};
  for (const [shape, group] of groupBy(examples, (example) => example.shape)) byShape[shape] = block(group, byId);
  return { overall: block(examples, byId), by_hops: byHops, by_shape: byShape };
}

/** What a missing count is made of: "3 LM errors, 1 retrieval error, 2 past --example-timeout, 4 not run". */
export function missingCauses(score: Pick<ScoreBlock, "missing" | "lm_errors" | "retrieval_errors" | "deadlines">): string {
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;
  const notRun = score.missing - score.lm_errors - score.retrieval_errors - score.deadlines;
  return [
    score.lm_errors > 0 ? plural(score.lm_errors, "LM error") : "",
    score.retrieval_errors > 0 ? plural(score.retrieval_errors, "retrieval error") : "",
    score.deadlines > 0 ? `${score.deadlines} past --example-timeout` : "",
    notRun > 0 ? `${notRun} not run` : "",
  ]
    .filter((part) => part !== "")
    .join(", ");
}
