/**
 * Scores of a run: the official MuSiQue numbers (computed exactly as `musique score` computes
 * them from predictions.jsonl) plus recall, reward and failure counts, overall, per hop count
 * and per shape.
 */
import type { Example } from "../data/types.ts";
import type { PredictionRecord } from "../store/results.ts";
import type { RewardVersion } from "../metrics/reward-versions.ts";
import { rewardFootnote } from "../metrics/reward.ts";
import { hopLabel, shapesWorthShowing } from "../text/labels.ts";
import { formatTable, type Row } from "../text/table.ts";
import { averageOf, evaluateOfficialRecords, type GoldRecord, type PredictionRecord as OfficialPrediction } from "../metrics/index.ts";

/** What scoring needs of a recorded prediction (store/results.ts PredictionRecord fits). */
export type ScoredPrediction = Pick<
  PredictionRecord,
  "exampleId" | "answer" | "em" | "f1" | "recall" | "supportF1" | "reward" | "status" | "retrievedIds"
>;

export interface ScoreBlock {
  n: number;
  answer_em: number;
  answer_f1: number;
  support_f1: number;
  recall: number;
  reward: number;
  format_failures: number;
  lm_errors: number;
}

export interface RunScores {
  overall: ScoreBlock;
  by_hops: Record<string, ScoreBlock>;
  by_shape: Record<string, ScoreBlock>;
}

/** The official predictions-file record for one example. */
export function officialPrediction(exampleId: string, prediction: ScoredPrediction | undefined): {
  id: string;
  predicted_answer: string;
  predicted_support_idxs: number[];
  predicted_answerable: boolean;
} {
  return {
    id: exampleId,
    predicted_answer: prediction?.answer ?? "",
    // A failed example scores 0 on every metric (DSPy's failure_score=0), support F1 included.
    predicted_support_idxs:
      prediction?.status === "ok" ? prediction.retrievedIds.map(Number).filter(Number.isInteger) : [],
    predicted_answerable: true,
  };
}

/** The official gold record of an example (what gold.jsonl holds, aligned with predictions.jsonl). */
export function officialGold(example: Example): Record<string, unknown> {
  return {
    id: example.id,
    paragraphs: example.paragraphs.map((paragraph) => ({
      idx: paragraph.idx,
      title: paragraph.title,
      paragraph_text: paragraph.text,
      is_supporting: paragraph.isSupporting,
    })),
    question: example.question,
    question_decomposition: example.decomposition.map((step) => ({
      id: step.id,
      question: step.question,
      answer: step.answer,
      paragraph_support_idx: step.paragraphSupportIdx,
    })),
    answer: example.answer,
    answer_aliases: example.answerAliases,
    answerable: example.answerable,
  };
}

function round(value: number, digits = 4): number {
  return Number(value.toFixed(digits));
}

function block(examples: readonly Example[], byId: ReadonlyMap<string, ScoredPrediction>): ScoreBlock {
  const gold: GoldRecord[] = examples.map((example) => ({
    id: example.id,
    answers: example.answers,
    supportIdxs: example.supportingIds.map(Number),
    answerable: example.answerable,
  }));
  const predictions: OfficialPrediction[] = examples.map((example) => {
    const record = officialPrediction(example.id, byId.get(example.id));
    return {
      id: record.id,
      predictedAnswer: record.predicted_answer,
      predictedSupportIdxs: record.predicted_support_idxs,
      predictedAnswerable: true,
    };
  });
  const official = evaluateOfficialRecords(gold, predictions);
  const scored = examples.map((example) => byId.get(example.id));
  return {
    n: examples.length,
    answer_em: official.answer_em,
    answer_f1: official.answer_f1,
    support_f1: official.support_f1,
    recall: round(averageOf(scored.map((prediction) => prediction?.recall ?? 0))),
    reward: round(averageOf(scored.map((prediction) => prediction?.reward ?? 0))),
    format_failures: scored.filter((prediction) => prediction?.status === "format_failure").length,
    lm_errors: scored.filter((prediction) => prediction?.status === "lm_error").length,
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

/**
 * A table like DSPy's Evaluate summary, in labelled sections: overall, by hop count ("2 hops"),
 * and by shape only for hop counts with several shapes (a lone "2hop" row would repeat "2 hops");
 * a footnote says what `reward` is.
 */
export function scoresTable(scores: RunScores, reward?: RewardVersion): string {
  const columns = ["", "n", "EM", "F1", "support F1", "recall", "reward", "format fail", "LM errors"];
  const row = (label: string, score: ScoreBlock) => [
    label,
    String(score.n),
    score.answer_em.toFixed(3),
    score.answer_f1.toFixed(3),
    score.support_f1.toFixed(3),
    score.recall.toFixed(3),
    score.reward.toFixed(3),
    String(score.format_failures),
    String(score.lm_errors),
  ];
  const rows: Row[] = [row("overall", scores.overall), { section: "by hop count" }];
  for (const [hops, score] of Object.entries(scores.by_hops)) rows.push(row(hopLabel(hops), score));
  const shapes = new Set(shapesWorthShowing(Object.keys(scores.by_shape)));
  if (shapes.size > 0) rows.push({ section: "by shape" });
  for (const [shape, score] of Object.entries(scores.by_shape)) if (shapes.has(shape)) rows.push(row(shape, score));
  return formatTable(columns, rows, { footnotes: ["", ...rewardFootnote(reward)] });
}
