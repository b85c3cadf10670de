/** bm25s's tie order (docs/specs/retrieval.md "Tie order") against the recorded bm25_ties.jsonl. */
import { describe, expect, test } from "bun:test";
import { loadExamples } from "../../src/data/index.ts";
import { bm25sOrder, networkArgsort } from "../../src/retrieval/bm25/ties.ts";
import { LexicalRetriever } from "../../src/retrieval/lexical.ts";

import { recordsJsonl, referenceLines } from "../helpers/dspy-reference.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The lexical retriever as `--retriever lexical` runs it (the process-wide tokenizer). */
const lexical = new LexicalRetriever();
const rankLexical = lexical.rank.bind(lexical);

interface TieCase {
  example_id: string;
  query: string;
  kind: string;
  n_positive: number;
  top5_ids: string[];
  top5_scores: number[];
}

describe("bm25s tie order (numpy 2.x argpartition/argsort on AVX-512)", () => {
  test("twenty equal scores come back in reverse index order, as bm25s returns an empty query's ranking", () => {
    expect(Array.from(bm25sOrder(new Array<number>(20).fill(0)))).toEqual(Array.from({ length: 20 }, (_, i) => 19 - i));
  });

  test("one positive paragraph first, then the zero-score paragraphs in the network's order (19, 17, 18, 16 …)", () => {
    const scores = new Array<number>(20).fill(0);
    scores[1] = 2.0;
    expect(Array.from(bm25sOrder(scores)).slice(0, 5)).toEqual([1, 19, 17, 18, 16]);
  });

  test("distinct scores are plainly sorted, best first", () => {
    const scores = [0.5, 3, 1, 2.5, 0.25];
    expect(Array.from(bm25sOrder(scores))).toEqual([1, 3, 2, 0, 4]);
    expect(Array.from(networkArgsort([5, 4, 3, 2, 1, 0, -1, -2, -3]))).toEqual([8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  test("every recorded degenerate query of bm25_ties.jsonl gets bm25s's top 5 (ids and scores)", async () => {
    const cases = referenceLines<TieCase>("bm25_ties.jsonl.gz");
    expect(cases.length).toBe(200);
    const ids = [...new Set(cases.map((entry) => entry.example_id))];
    const directory = mkdtempSync(join(tmpdir(), "musique-ties-"));
    const file = join(directory, "records.jsonl");
    writeFileSync(file, recordsJsonl(ids));
    const { examples } = await loadExamples(file, { seed: 0, noiseRate: 1, skipInvalid: false });
    const byId = new Map(examples.map((example) => [example.id, example]));
    const mismatches: string[] = [];
    for (const entry of cases) {
      const example = byId.get(entry.example_id);
      if (!example) throw new Error(`missing record ${entry.example_id}`);
      const ranked = rankLexical(entry.query, example, 5);
      const got = ranked.map((document) => document.id);
      const scoresOff = ranked.some((document, i) => Math.abs(document.score - (entry.top5_scores[i] ?? Number.NaN)) > 1e-5);
      if (JSON.stringify(got) !== JSON.stringify(entry.top5_ids) || scoresOff) {
        mismatches.push(`${entry.example_id} ${JSON.stringify(entry.query)} (${entry.kind}): got ${got.join(",")} want ${entry.top5_ids.join(",")}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
