import { describe, expect, test } from "bun:test";
import { Bm25Index } from "../../src/retrieval/bm25/index.ts";
import { STOPWORDS, stem, tokenize } from "../../src/retrieval/bm25/tokenize.ts";
import { LexicalRetriever } from "../../src/retrieval/lexical.ts";

import { keepParagraphs, referenceRecords, sampleExamples } from "./helpers.ts";

/** The lexical retriever as `--retriever lexical` runs it (the process-wide tokenizer). */
const lexical = new LexicalRetriever();
const rankLexical = lexical.rank.bind(lexical);

describe("BM25 tokeniser (bm25s defaults)", () => {
  test("has the 33 bm25s English stopwords", () => {
    expect(STOPWORDS.size).toBe(33);
  });

  test("lower-cases, keeps runs of two or more Unicode word characters, drops stopwords", () => {
    expect(tokenize("The Ångström of a Zürich_team, I 1st X9!")).toEqual(["ångström", "zürich_team", "1st", "x9"]);
  });

  test("stems with Snowball English 2.2.0 (universal → univers, not Snowball 3's universal)", () => {
    expect(stem("universal")).toBe("univers");
    expect(stem("running")).toBe("run");
    expect(tokenize("Generously hopping")).toEqual(["generous", "hop"]);
  });
});

describe("BM25 scoring", () => {
  test("matches the Lucene formula with k1 1.5 and b 0.75 on a hand-computed corpus", () => {
    const index = new Bm25Index(["cat cat dog", "dog bird", "fish"]);
    const n = 3;
    const averageLength = (3 + 2 + 1) / 3;
    const idf = (df: number) => Math.log(1 + (n - df + 0.5) / (df + 0.5));
    const weight = (tf: number, length: number, df: number) => idf(df) * (tf / (tf + 1.5 * (1 - 0.75 + (0.75 * length) / averageLength)));
    const scores = index.score("cat dog");
    expect(scores[0]).toBeCloseTo(weight(2, 3, 1) + weight(1, 3, 2), 12);
    expect(scores[1]).toBeCloseTo(weight(1, 2, 2), 12);
    expect(scores[2]).toBe(0);
  });

  test("a term repeated in the query counts again; unknown terms are ignored", () => {
    const index = new Bm25Index(["cat dog", "dog bird"]);
    const once = index.score("cat")[0] as number;
    expect(index.score("cat cat zebra")[0]).toBeCloseTo(2 * once, 12);
  });

  test("ties come back in bm25s's order (numpy's sorting network, then reversed), not by position", () => {
    const index = new Bm25Index(["nothing here", "same words", "same words", "other"]);
    expect(Array.from(index.rank("same").positions)).toEqual([2, 1, 3, 0]);
  });

  test("an empty corpus and an empty query rank without errors", () => {
    expect(Array.from(new Bm25Index([]).rank("anything").positions)).toEqual([]);
    const ranking = new Bm25Index(["a b c", "dd ee"]).rank("", 5);
    expect(Array.from(ranking.positions)).toEqual([1, 0]);
    expect(Array.from(ranking.scores)).toEqual([0, 0]);
  });
});

describe("BM25 parity with the bm25s reference file", () => {
  test("all 150 sample questions: bm25s's own full ranking (ties included), scores within 1e-6", async () => {
    const [examples, references] = await Promise.all([sampleExamples(), referenceRecords()]);
    expect(examples.length).toBe(150);
    expect(references.length).toBe(150);
    const mismatches: string[] = [];
    let worstDifference = 0;
    for (let i = 0; i < references.length; i++) {
      const reference = references[i]!;
      const example = examples[i]!;
      expect(example.id).toBe(reference.id);
      const ranked = rankLexical(reference.query, example, 20);
      const ids = ranked.map((document) => Number(document.id));
      // One record has no library ranking (Snowball 3 ranks it differently): its scores are still compared.
      const wanted = reference.bm25s_lib_ranking;
      if (wanted && JSON.stringify(ids) !== JSON.stringify(wanted)) {
        mismatches.push(`${reference.id}: got ${ids.join(",")} want ${wanted.join(",")}`);
        continue;
      }
      const referenceScore = new Map(reference.bm25_ranking.map((id, position) => [id, reference.bm25_scores[position]!]));
      for (const document of ranked) {
        worstDifference = Math.max(worstDifference, Math.abs(document.score - referenceScore.get(Number(document.id))!));
      }
    }
    expect(mismatches).toEqual([]);
    expect(worstDifference).toBeLessThanOrEqual(1e-6);
  });
});

describe("lexical retriever", () => {
  test("returns top_n documents with ids, titles and '# title' text", async () => {
    const [example] = await sampleExamples();
    const ranked = await new LexicalRetriever().retrieve(example!.question, example!, 3);
    expect(ranked.map((document) => document.id)).toEqual(["8", "13", "6"]);
    expect(ranked[0]!.text).toBe(`# ${ranked[0]!.title}\n${ranked[0]!.body}`);
  });

  test("top_n larger than the corpus returns the whole corpus", async () => {
    const [example] = await sampleExamples();
    expect((await new LexicalRetriever().retrieve(example!.question, example!, 50)).length).toBe(20);
  });

  test("a corpus of 2 paragraphs after noise filtering keeps original ids and re-indexes", async () => {
    const [example] = await sampleExamples();
    const full = rankLexical(example!.question, example!, 20);
    const filtered = keepParagraphs(example!, [1, 8]);
    const ranked = await new LexicalRetriever().retrieve(filtered.question, filtered, 5);
    expect(ranked.map((document) => document.id)).toEqual(["8", "1"]);
    // idf and avgdl now come from the 2-paragraph corpus, so scores differ from the full one.
    expect(ranked[0]!.score).not.toBeCloseTo(full[0]!.score, 6);
    // The full example still ranks against its own 20 paragraphs.
    expect(rankLexical(example!.question, example!, 20).map((document) => document.score)).toEqual(full.map((document) => document.score));
  });
});
