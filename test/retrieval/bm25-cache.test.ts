/**
 * The BM25 state (word table, paragraph tokens, build scratch: a Bm25Tokenizer; indexes: a
 * LexicalRetriever) changes speed, never results: first sight, a warm paragraph cache, a
 * vocabulary that started over and tiny cache bounds all give the bm25s reference rankings. Each
 * test owns its tokenizer, so none depends on another's caches.
 */
import { describe, expect, test } from "bun:test";
import type { Example } from "../../src/data/types.ts";
import { Bm25Index } from "../../src/retrieval/bm25/index.ts";
import { Bm25Tokenizer, defaultTokenizer } from "../../src/retrieval/bm25/tokenize.ts";
import { LexicalRetriever } from "../../src/retrieval/lexical.ts";
import { documentsOf } from "../../src/retrieval/types.ts";
import { referenceRecords, sampleExamples, type ReferenceRecord } from "./helpers.ts";

/** A copy with a new paragraph list: a corpus the lexical retriever has not indexed. */
const fresh = (example: Example): Example => ({ ...example, paragraphs: [...example.paragraphs] });

/** Mismatches against the reference (ranking, or a score off by more than 1e-6) for every question. */
function parityProblems(retriever: LexicalRetriever, examples: readonly Example[], references: readonly ReferenceRecord[]): string[] {
  const problems: string[] = [];
  references.forEach((reference, position) => {
    const ranked = retriever.rank(reference.query, fresh(examples[position] as Example), 20);
    const ids = ranked.map((document) => Number(document.id));
    if (JSON.stringify(ids) !== JSON.stringify(reference.bm25s_lib_ranking ?? ids)) problems.push(`${reference.id}: ranking ${ids.join(",")}`);
    ranked.forEach((document, rank) => {
      if (Math.abs(document.score - (reference.bm25_scores[rank] as number)) > 1e-6) problems.push(`${reference.id}: score at ${rank}`);
    });
  });
  return problems;
}

const texts = (example: Example) => documentsOf(example).map((document) => document.text);

describe("BM25 caches", () => {
  test("first sight and a warm paragraph cache give identical scores for every sample question", async () => {
    const examples = await sampleExamples();
    const tokenizer = new Bm25Tokenizer();
    const scores = (example: Example) => Array.from(new Bm25Index(texts(example), tokenizer).score(example.question));
    const firstSight = examples.map((example) => {
      tokenizer.reset();
      return scores(example);
    });
    expect(tokenizer.sizes().paragraphs).toBe(20);
    const warm = examples.map(scores);
    // Some paragraphs appear in several questions: each text is cached once.
    const distinct = new Set(examples.flatMap(texts));
    expect(tokenizer.sizes().paragraphs).toBe(distinct.size);
    expect(warm).toEqual(firstSight);
  });

  test("an index built before the vocabulary started over still scores the same", async () => {
    const [example] = await sampleExamples();
    const tokenizer = new Bm25Tokenizer();
    const index = new Bm25Index(texts(example!), tokenizer);
    const before = Array.from(index.score(example!.question));
    tokenizer.reset({ vocabulary: true });
    expect(tokenizer.sizes()).toEqual({ words: 0, terms: 0, paragraphs: 0 });
    expect(Array.from(index.score(example!.question))).toEqual(before);
    expect(Array.from(index.score(`${example!.question} unseen words here`))).toEqual(before);
  });

  test("tiny bounds (vocabulary starting over all the time, 10 paragraphs): still the bm25s reference on all 150", async () => {
    const [examples, references] = await Promise.all([sampleExamples(), referenceRecords()]);
    const retriever = new LexicalRetriever(new Bm25Tokenizer({ maxWords: 300, maxParagraphs: 10 }));
    expect(parityProblems(retriever, examples, references)).toEqual([]);
    // Twice, so cached paragraphs and re-mapped indexes are used too.
    expect(parityProblems(retriever, examples, references)).toEqual([]);
    expect(retriever.tokenizer.sizes().paragraphs).toBeLessThanOrEqual(10);
  });

  test("the word table and the paragraph cache stay within their bounds", async () => {
    const examples = await sampleExamples();
    const tokenizer = new Bm25Tokenizer({ maxWords: 2_000, maxParagraphs: 100 });
    const retriever = new LexicalRetriever(tokenizer);
    let mostWords = 0;
    for (const example of examples) {
      retriever.rank(example.question, fresh(example), 2);
      mostWords = Math.max(mostWords, tokenizer.sizes().words);
      expect(tokenizer.sizes().paragraphs).toBeLessThanOrEqual(100);
    }
    // The table starts over at the next build once full; one build adds at most a question's words.
    expect(mostWords).toBeLessThan(2_000 + 2_000);
    expect(mostWords).toBeGreaterThan(1_000);
  });

  test("reset makes the retriever rebuild, with the same ranking", async () => {
    const [example] = await sampleExamples();
    const retriever = new LexicalRetriever(new Bm25Tokenizer());
    const before = retriever.rank(example!.question, example!, 20);
    retriever.reset();
    expect(retriever.tokenizer.sizes().paragraphs).toBe(0);
    expect(retriever.rank(example!.question, example!, 20)).toEqual(before);
    expect(retriever.tokenizer.sizes().paragraphs).toBe(20);
  });

  test("each tokenizer owns its state: one's caches and reset leave another's alone", async () => {
    const [first, second] = await sampleExamples();
    const a = new Bm25Tokenizer();
    const b = new Bm25Tokenizer();
    new Bm25Index(texts(first!), a);
    expect(a.sizes().paragraphs).toBe(20);
    expect(b.sizes()).toEqual({ words: 0, terms: 0, paragraphs: 0 });
    new Bm25Index(texts(second!), b);
    a.reset({ vocabulary: true });
    expect(b.sizes().paragraphs).toBe(20);
    expect(a.sizes()).toEqual({ words: 0, terms: 0, paragraphs: 0 });
  });

  test("retrievers made without a tokenizer share the process-wide one: a paragraph one saw is cached for the next", async () => {
    const [, , example] = await sampleExamples();
    expect(new LexicalRetriever().tokenizer).toBe(defaultTokenizer);
    new LexicalRetriever().rank(example!.question, fresh(example!), 2);
    const cached = defaultTokenizer.sizes().paragraphs;
    new LexicalRetriever().rank(example!.question, fresh(example!), 2);
    expect(defaultTokenizer.sizes().paragraphs).toBe(cached);
    expect(cached).toBeGreaterThanOrEqual(20);
  });
});
