/**
 * The official MuSiQue format, in one place (docs/specs/datasets.md; docs/specs/metrics.md
 * "Official evaluation"): the record schema (a dataset row, and a line of the gold file of
 * `musique score`: the same rows are accepted by both), the prediction schema of the official
 * predictions file, the one rule that reads the hop count and shape from an id, and the writers
 * of gold.jsonl and predictions.jsonl. Readers with line numbers are in official-files.ts.
 */
import * as v from "valibot";
import type { Example } from "./types.ts";

/** Parquet INT64 arrives as BigInt; JSON as number. Both become a safe integer. */
const integer = v.pipe(
  v.union([v.number(), v.bigint()], "must be an integer"),
  v.transform((value) => (typeof value === "bigint" ? Number(value) : value)),
  v.check((value) => Number.isSafeInteger(value), "must be an integer"),
);

const text = v.string();

const ParagraphSchema = v.object({
  idx: integer,
  title: text,
  paragraph_text: text,
  is_supporting: v.boolean(),
});

const StepSchema = v.object({
  id: integer,
  question: text,
  answer: text,
  paragraph_support_idx: v.nullish(integer),
});

/** One MuSiQue record (a dataset row; a gold-file line). */
export const RowSchema = v.object({
  id: v.pipe(text, v.nonEmpty("must not be empty")),
  paragraphs: v.array(ParagraphSchema),
  question: text,
  question_decomposition: v.optional(v.nullable(v.array(StepSchema)), []),
  answer: text,
  answer_aliases: v.optional(v.nullable(v.array(text)), []),
  answerable: v.optional(v.nullable(v.boolean()), true),
});

export type Row = v.InferOutput<typeof RowSchema>;

/** One line of an official predictions file. */
export const PredictionSchema = v.object({
  id: v.pipe(text, v.nonEmpty("must not be empty")),
  predicted_answer: text,
  predicted_support_idxs: v.array(integer),
  predicted_answerable: v.optional(v.boolean(), true),
});

export type PredictionRow = v.InferOutput<typeof PredictionSchema>;

/** What the official evaluation (src/metrics/official.ts) reads of a gold record. */
export interface GoldRecord {
  id: string;
  answers: string[];
  supportIdxs: number[];
  answerable: boolean;
  /** The hop count the id starts with (idShape), null without one: the key of the per-hop breakdown. */
  hops: number | null;
}

/** What the official evaluation reads of a prediction. */
export interface PredictionRecord {
  id: string;
  predictedAnswer: string;
  predictedSupportIdxs: number[];
  predictedAnswerable: boolean;
}

/** What a MuSiQue id says about its question: "3hop1__…" → 3 hops, shape "3hop1". */
export interface IdShape {
  hops: number;
  shape: string;
}

const ID_SHAPE = /^((\d+)hop\d*)__/;

/**
 * The hop count and shape a MuSiQue id starts with (`2hop__`, `3hop1__`, `4hop3__`), or null for
 * an id without that prefix. The official evaluation's per-hop breakdown reads the same prefix.
 */
export function idShape(id: string): IdShape | null {
  const match = ID_SHAPE.exec(id);
  return match?.[1] === undefined || match[2] === undefined ? null : { shape: match[1], hops: Number(match[2]) };
}

/** The official record of an example: a line of gold.jsonl, aligned with predictions.jsonl. */
export function officialRow(example: Example): Row {
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

/** What the official evaluation needs of an example (the hop key from its id, as evaluate_v1.0.py). */
export function goldRecordOf(example: Example): GoldRecord {
  return {
    id: example.id,
    answers: example.answers,
    supportIdxs: example.supportingIds.map(Number),
    answerable: example.answerable,
    hops: idShape(example.id)?.hops ?? null,
  };
}

/** A line of predictions.jsonl. */
export function officialPredictionRow(id: string, answer: string, supportIdxs: readonly number[]): PredictionRow {
  return { id, predicted_answer: answer, predicted_support_idxs: [...supportIdxs], predicted_answerable: true };
}
