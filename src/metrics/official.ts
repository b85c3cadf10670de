/**
 * MuSiQue's official evaluation (evaluate_v1.0.py): predictions aligned line by line with the gold
 * records → {answer_f1, answer_em, support_f1}, means over the answerable questions,
 * rounded to 3 decimals the way Python's round() does. `detailed` adds a per-hop-count breakdown.
 */
import type { GoldRecord, PredictionRecord } from "../data/official.ts";
import { DataError } from "../errors.ts";
import { exactMatch, f1Score } from "./answer.ts";
import { pythonRound } from "../text/python.ts";
import { supportF1 } from "./retrieval.ts";

export type { GoldRecord, PredictionRecord } from "../data/official.ts";

interface OfficialScores {
  answer_f1: number;
  answer_em: number;
  support_f1: number;
}

interface HopScores extends OfficialScores {
  count: number;
}

export interface OfficialEvaluation extends OfficialScores {
  /** With `detailed`: "2", "3", "4" (the hop count of the id prefix, GoldRecord.hops) → scores and question count. */
  by_hops?: Record<string, HopScores>;
}

/**
 * The by_hops key of a gold record: its hop count from the id prefix ("2" from "2hop__…", "3" from
 * "3hop1__…", the key scores.json uses too; GoldRecord.hops, src/data/official.ts idShape); "other"
 * for an id without a hop prefix.
 */
function hopKey(record: GoldRecord): string {
  return record.hops === null ? "other" : String(record.hops);
}

interface Accumulator {
  em: number;
  f1: number;
  support: number;
  count: number;
}

function means(total: Accumulator): OfficialScores {
  const mean = (sum: number) => (total.count > 0 ? pythonRound(sum / total.count, 3) : 0);
  return { answer_f1: mean(total.f1), answer_em: mean(total.em), support_f1: mean(total.support) };
}

function alignmentError(gold: readonly GoldRecord[], predictions: readonly PredictionRecord[]): DataError | null {
  let first = -1;
  for (let i = 0; i < Math.max(gold.length, predictions.length); i++) {
    if (gold[i]?.id !== predictions[i]?.id) {
      first = i;
      break;
    }
  }
  if (first < 0) return null;
  const goldIds = new Set(gold.map((record) => record.id));
  const predictedIds = new Set(predictions.map((record) => record.id));
  const missing = [...goldIds].filter((id) => !predictedIds.has(id)).length;
  const extra = [...predictedIds].filter((id) => !goldIds.has(id)).length;
  const predicted = predictions[first]?.id;
  const expected = gold[first]?.id;
  const where =
    predicted === undefined
      ? `predictions end after ${predictions.length} lines; gold line ${first + 1} has id ${expected}`
      : expected === undefined
        ? `prediction line ${first + 1} has id ${predicted} but the gold file ends after ${gold.length} lines`
        : `prediction line ${first + 1} has id ${predicted}, gold line ${first + 1} has id ${expected}`;
  return new DataError(`predictions do not line up with the gold file: ${where}`, {
    cause: `${missing} gold id(s) missing from the predictions, ${extra} extra prediction id(s), ${gold.length} gold vs ${predictions.length} prediction lines`,
    fix: "write exactly one prediction per gold question, in the gold file's order",
  });
}

export function evaluateOfficialRecords(
  gold: readonly GoldRecord[],
  predictions: readonly PredictionRecord[],
  options: { detailed?: boolean } = {},
): OfficialEvaluation {
  const mismatch = alignmentError(gold, predictions);
  if (mismatch) throw mismatch;
  const total: Accumulator = { em: 0, f1: 0, support: 0, count: 0 };
  const byHops = new Map<string, Accumulator>();
  gold.forEach((goldRecord, index) => {
    const prediction = predictions[index];
    if (!prediction || !goldRecord.answerable) return;
    const em = exactMatch(prediction.predictedAnswer, goldRecord.answers);
    const f1 = f1Score(prediction.predictedAnswer, goldRecord.answers);
    const support = supportF1(prediction.predictedSupportIdxs, goldRecord.supportIdxs);
    const key = hopKey(goldRecord);
    const hop = byHops.get(key) ?? { em: 0, f1: 0, support: 0, count: 0 };
    byHops.set(key, hop);
    for (const accumulator of [total, hop]) {
      accumulator.em += em;
      accumulator.f1 += f1;
      accumulator.support += support;
      accumulator.count += 1;
    }
  });
  const result: OfficialEvaluation = means(total);
  if (options.detailed) {
    result.by_hops = Object.fromEntries(
      [...byHops.entries()]
        .sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))
        .map(([key, accumulator]) => [key, { ...means(accumulator), count: accumulator.count }]),
    );
  }
  return result;
}
