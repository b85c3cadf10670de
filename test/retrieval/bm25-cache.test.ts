/**
 * The BM25 caches (word table, paragraph tokens, indexes) change speed, never results: first
 * sight, a warm paragraph cache, a vocabulary that started over and tiny cache bounds all give the
 * bm25s reference rankings.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Example } from "../../src/data/types.ts";
import { Bm25Index } from "../../src/retrieval/bm25/index.ts";
import {
  DEFAULT_MAX_PARAGRAPHS,
  DEFAULT_MAX_WORDS,
  bm25CacheSizes,
  clearBm25Caches,
  configureBm25Caches,
} from "../../src/retrieval/bm25/tokenize.ts";
import { clearLexicalCaches, rankLexical } from "../../src/retrieval/lexical.ts";
import { documentsOf } from "../../src/retrieval/types.ts";
import { referenceRecords, sampleExamples, type ReferenceRecord } from "./helpers.ts";

afterEach(() => {
  configureBm25Caches({ maxWords: DEFAULT_MAX_WORDS, maxParagraphs: DEFAULT_MAX_PARAGRAPHS });
  clearLexicalCaches({ vocabulary: true });
});

/** A copy with a new paragraph list: a corpus the lexical retriever has not indexed. */
const fresh = (example: Example): Example => ({ ...example, paragraphs: [...example.paragraphs] });

/** Mismatches against the reference (ranking, or a score off by more than 1e-6) for every question. */
function parityProblems(examples: readonly Example[], references: readonly ReferenceRecord[]): string[] {
  const problems: string[] = [];
  references.forEach((reference, position) => {
    const ranked = rankLexical(reference.query, fresh(examples[position] as Example), 20);
    const ids = ranked.map((document) => Number(document.id));
    if (JSON.stringify(ids) !== JSON.stringify(reference.bm25s_lib_ranking ?? ids)) problems.push(`${reference.id}: ranking ${ids.join(",")}`);
    ranked.forEach((document, rank) => {
      if (Math.abs(document.score - (reference.bm25_scores[rank] as number)) > 1e-6) problems.push(`${reference.id}: score at ${rank}`);
    });
  });
  return problems;
}

describe("BM25 caches", () => {
  test("first sight and a warm paragraph cache give identical scores for every sample question", async () => {
    const examples = await sampleExamples();
    const scores = (example: Example) => Array.from(new Bm25Index(documentsOf(example).map((document) => document.text)).score(example.question));
    const firstSight = examples.map((example) => {
      clearBm25Caches();
      return scores(example);
    });
    expect(bm25CacheSizes().paragraphs).toBe(20);
    const warm = examples.map(scores);
    // Some paragraphs appear in several questions: each text is cached once.
    const distinct = new Set(examples.flatMap((example) => documentsOf(example).map((document) => document.text)));
    expect(bm25CacheSizes().paragraphs).toBe(distinct.size);
    expect(warm).toEqual(firstSight);
  });

  test("an index built before the vocabulary started over still scores the same", async () => {
    const [example] = await sampleExamples();
    const index = new Bm25Index(documentsOf(example!).map((document) => document.text));
    const before = Array.from(index.score(example!.question));
    clearBm25Caches({ vocabulary: true });
    expect(bm25CacheSizes()).toEqual({ words: 0, terms: 0, paragraphs: 0 });
    expect(Array.from(index.score(example!.question))).toEqual(before);
    expect(Array.from(index.score(`${example!.question} unseen words here`))).toEqual(before);
  });

  test("tiny bounds (vocabulary starting over all the time, 10 paragraphs): still the bm25s reference on all 150", async () => {
    const [examples, references] = await Promise.all([sampleExamples(), referenceRecords()]);
    configureBm25Caches({ maxWords: 300, maxParagraphs: 10 });
    expect(parityProblems(examples, references)).toEqual([]);
    // Twice, so cached paragraphs and re-mapped indexes are used too.
    expect(parityProblems(examples, references)).toEqual([]);
    expect(bm25CacheSizes().paragraphs).toBeLessThanOrEqual(10);
  });

  test("the word table and the paragraph cache stay within their bounds", async () => {
    const examples = await sampleExamples();
    configureBm25Caches({ maxWords: 2_000, maxParagraphs: 100 });
    let mostWords = 0;
    for (const example of examples) {
      rankLexical(example.question, fresh(example), 2);
      mostWords = Math.max(mostWords, bm25CacheSizes().words);
      expect(bm25CacheSizes().paragraphs).toBeLessThanOrEqual(100);
    }
    // The table starts over at the next build once full; one build adds at most a question's words.
    expect(mostWords).toBeLessThan(2_000 + 2_000);
    expect(mostWords).toBeGreaterThan(1_000);
  });

  test("clearLexicalCaches makes the retriever rebuild, with the same ranking", async () => {
    const [example] = await sampleExamples();
    const before = rankLexical(example!.question, example!, 20);
    clearLexicalCaches();
    expect(bm25CacheSizes().paragraphs).toBe(0);
    expect(rankLexical(example!.question, example!, 20)).toEqual(before);
    expect(bm25CacheSizes().paragraphs).toBe(20);
  });
});
