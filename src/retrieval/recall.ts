/**
 * recall@k of retrieval rankings: for each question, the share of its supporting paragraphs
 * among the first k ranked ids (src/metrics/retrieval.ts), averaged over questions; overall, per
 * hop count and per shape ("2hop", "3hop1", …).
 */
import { retrievalRecall } from "../metrics/retrieval.ts";
import { hopLabel, shapesWorthShowing } from "../text/labels.ts";
import { formatTable, type Row } from "../text/table.ts";

export interface RankedQuestion {
  id: string;
  nHops: number;
  shape: string;
  supportingIds: readonly string[];
  /** Ranked paragraph ids, best first. */
  rankedIds: readonly string[];
}

interface RecallGroup {
  examples: number;
  /** k ("1"…"K") → mean recall@k. */
  recall: Record<string, number>;
}

export interface RecallReport extends RecallGroup {
  byHops: Record<string, RecallGroup>;
  byShape: Record<string, RecallGroup>;
}

/** recall@k of one question. */
function recallAtK(rankedIds: readonly string[], supportingIds: readonly string[], k: number): number {
  return retrievalRecall(rankedIds.slice(0, k), supportingIds);
}

function group(questions: readonly RankedQuestion[], maxK: number): RecallGroup {
  const recall: Record<string, number> = {};
  for (let k = 1; k <= maxK; k++) {
    let sum = 0;
    for (const question of questions) sum += recallAtK(question.rankedIds, question.supportingIds, k);
    recall[String(k)] = questions.length === 0 ? 0 : sum / questions.length;
  }
  return { examples: questions.length, recall };
}

function groupBy(questions: readonly RankedQuestion[], key: (question: RankedQuestion) => string, maxK: number) {
  const groups = new Map<string, RankedQuestion[]>();
  for (const question of questions) {
    const name = key(question);
    const list = groups.get(name);
    if (list) list.push(question);
    else groups.set(name, [question]);
  }
  const names = [...groups.keys()].sort((left, right) => left.localeCompare(right, "en", { numeric: true }));
  return Object.fromEntries(names.map((name) => [name, group(groups.get(name) ?? [], maxK)]));
}

/** recall@1…maxK overall, by hop count and by shape. */
export function recallReport(questions: readonly RankedQuestion[], maxK: number): RecallReport {
  return {
    ...group(questions, maxK),
    byHops: groupBy(questions, (question) => String(question.nHops), maxK),
    byShape: groupBy(questions, (question) => question.shape, maxK),
  };
}

/** A readable table: one column per k; overall, by hop count, and by shape where a hop count has several. */
export function formatRecallTable(report: RecallReport): string {
  const ks = Object.keys(report.recall);
  const row = (name: string, entry: RecallGroup) => [name, String(entry.examples), ...ks.map((k) => (entry.recall[k] ?? 0).toFixed(3))];
  const rows: Row[] = [row("all", report), { section: "by hop count" }];
  for (const [hops, entry] of Object.entries(report.byHops)) rows.push(row(hopLabel(hops), entry));
  const shapes = new Set(shapesWorthShowing(Object.keys(report.byShape)));
  if (shapes.size > 0) rows.push({ section: "by shape" });
  for (const [shape, entry] of Object.entries(report.byShape)) if (shapes.has(shape)) rows.push(row(shape, entry));
  return formatTable(["", "examples", ...ks.map((k) => `R@${k}`)], rows);
}
