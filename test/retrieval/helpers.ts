/**
 * Sample records as `Example`s for retrieval tests, read straight from the fixture (official
 * MuSiQue format), so these tests do not depend on the data loader.
 */
import { join } from "node:path";
import { fixQuotes } from "../../src/data/quotes.ts";
import type { Example } from "../../src/data/types.ts";
import { ROOT } from "../helpers/cli.ts";

const SAMPLE_PATH = join(ROOT, "test", "fixtures", "musique_ans_dev_sample150.jsonl");
const REFERENCE_PATH = join(ROOT, "test", "fixtures", "musique_ans_dev_sample150.bm25_reference.jsonl");

interface RawParagraph {
  idx: number;
  title: string;
  paragraph_text: string;
  is_supporting: boolean;
}

interface RawRecord {
  id: string;
  question: string;
  answer: string;
  answer_aliases: string[];
  answerable: boolean;
  paragraphs: RawParagraph[];
  question_decomposition: Array<{ id: number; question: string; answer: string; paragraph_support_idx: number | null }>;
}

export interface ReferenceRecord {
  id: string;
  query: string;
  n_hops: number;
  supporting_ids: string[];
  bm25_ranking: number[];
  bm25_scores: number[];
  /** The order the bm25s library itself returns (absent for one record, see test/fixtures/README.md). */
  bm25s_lib_ranking?: number[];
}

function readJsonl<T>(text: string): T[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}

function toExample(record: RawRecord): Example {
  const paragraphs = record.paragraphs.map((paragraph) => ({
    idx: paragraph.idx,
    title: paragraph.title,
    text: fixQuotes(paragraph.paragraph_text),
    isSupporting: paragraph.is_supporting,
  }));
  const shape = record.id.split("__")[0] ?? "";
  return {
    id: record.id,
    question: record.question,
    answer: record.answer,
    answerAliases: record.answer_aliases,
    answers: [record.answer, ...record.answer_aliases],
    paragraphs,
    supportingIds: paragraphs.filter((paragraph) => paragraph.isSupporting).map((paragraph) => String(paragraph.idx)),
    nHops: paragraphs.filter((paragraph) => paragraph.isSupporting).length,
    shape,
    decomposition: record.question_decomposition.map((step) => ({
      id: step.id,
      question: step.question,
      answer: step.answer,
      paragraphSupportIdx: step.paragraph_support_idx,
    })),
    answerable: record.answerable,
  };
}

export async function sampleExamples(): Promise<Example[]> {
  return readJsonl<RawRecord>(await Bun.file(SAMPLE_PATH).text()).map(toExample);
}

export async function referenceRecords(): Promise<ReferenceRecord[]> {
  return readJsonl<ReferenceRecord>(await Bun.file(REFERENCE_PATH).text());
}

/** A copy of `example` keeping only the paragraphs whose idx is listed (noise filtering). */
export function keepParagraphs(example: Example, keep: readonly number[]): Example {
  return { ...example, paragraphs: example.paragraphs.filter((paragraph) => keep.includes(paragraph.idx)) };
}
