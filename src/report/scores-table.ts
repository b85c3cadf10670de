/**
 * The score table people read after `evaluate` and in `report`: like DSPy's Evaluate summary, in
 * labelled sections — overall, by hop count ("2 hops"), and by shape only for hop counts with
 * several shapes (a lone "2hop" row would repeat "2 hops"). Scores are over the examples with a
 * result (n); `missing` stands next to them (service failures are not scores: metrics/run-scores.ts).
 */
import type { RewardVersion } from "../metrics/reward-versions.ts";
import { rewardFootnote } from "../metrics/reward.ts";
import type { RunScores, ScoreBlock } from "../metrics/run-scores.ts";
import { hopLabel, shapesWorthShowing } from "../text/labels.ts";
import { formatTable, type Row } from "../text/table.ts";

function number(value: number | null): string {
  return value === null ? "-" : value.toFixed(3);
}

export function scoresTable(scores: RunScores, reward?: RewardVersion): string {
  const columns = ["", "n", "EM", "F1", "support F1", "recall", "reward", "format fail", "missing"];
  const row = (label: string, score: ScoreBlock) => [
    label,
    String(score.n),
    number(score.answer_em),
    number(score.answer_f1),
    number(score.support_f1),
    number(score.recall),
    number(score.reward),
    String(score.format_failures),
    String(score.missing),
  ];
  const rows: Row[] = [row("overall", scores.overall), { section: "by hop count" }];
  for (const [hops, score] of Object.entries(scores.by_hops)) rows.push(row(hopLabel(hops), score));
  const shapes = new Set(shapesWorthShowing(Object.keys(scores.by_shape)));
  if (shapes.size > 0) rows.push({ section: "by shape" });
  for (const [shape, score] of Object.entries(scores.by_shape)) if (shapes.has(shape)) rows.push(row(shape, score));
  return formatTable(columns, rows, { footnotes: ["", ...rewardFootnote(reward)] });
}
