/**
 * The BM25 rankers compared in the BM25 suite, behind one shape: `build(documents)` makes whatever
 * the ranker needs for one question's corpus (its index), and the returned searcher ranks the
 * corpus for a query (document positions, best first). "Cold" = build + search per ranking;
 * "warm" = search on an index built beforehand. Every library runs with its default settings.
 */
import MiniSearch from "minisearch";
import okapiBm25 from "okapibm25";
import winkBm25, { type PrepTask } from "wink-bm25-text-search";
import winkNLP from "wink-nlp";
import winkModel from "wink-eng-lite-web-model";
import { Bm25Index } from "../src/retrieval/bm25/index.ts";

/** Ranks one corpus for a query: positions, best first (a library may leave out non-matching documents). */
export type Searcher = (query: string) => ArrayLike<number>;

export interface Ranker {
  name: string;
  /** What the row says about the setup. */
  setup: string;
  /** False when the library keeps no index (it reads every document again for each query). */
  hasIndex: boolean;
  build(documents: readonly string[]): Searcher;
}

/** Ours: bm25/index.ts exactly as the lexical retriever uses it. */
export const ours: Ranker = {
  name: "ours (Bm25Index)",
  setup: "bm25s tokeniser + Snowball stems, k1 1.5, b 0.75",
  hasIndex: true,
  build(documents) {
    const index = new Bm25Index(documents);
    return (query) => index.rank(query).positions;
  },
};

/** okapibm25: no index; query keywords as the library counts words (/\w+/g), documents as given. */
export const okapi: Ranker = {
  name: "okapibm25",
  setup: "BM25(documents, keywords); keywords = query.match(/\\w+/g); no index, no stemming",
  hasIndex: false,
  build(documents) {
    const corpus = [...documents];
    return (query) => {
      const keywords = query.match(/\w+/g) ?? [];
      const scores = okapiBm25(corpus, keywords) as number[];
      return rankScores(scores);
    };
  },
};

/** MiniSearch: one field, default tokeniser and search options (BM25+, no stemming). */
const miniSearch: Ranker = {
  name: "MiniSearch",
  setup: "new MiniSearch({ fields: ['text'] }), addAll, search(query): defaults",
  hasIndex: true,
  build(documents) {
    const engine = new MiniSearch<{ id: number; text: string }>({ fields: ["text"] });
    engine.addAll(documents.map((text, id) => ({ id, text })));
    return (query) => engine.search(query).map((result) => result.id as number);
  },
};

const nlp = winkNLP(winkModel);
const its = nlp.its;

/** The prep task of wink-bm25-text-search's README: winkNLP words, stopwords removed, stems. */
const winkPrepTask: PrepTask = (text) => {
  const tokens: string[] = [];
  nlp
    .readDoc(text)
    .tokens()
    .filter((token) => token.out(its.type) === "word" && !token.out(its.stopWordFlag))
    .each((token) => {
      const stem = String(token.out(its.stem));
      tokens.push(token.out(its.negationFlag) ? `!${stem}` : stem);
    });
  return tokens;
};

/** wink-bm25-text-search: the README's minimal setup (one field, its winkNLP prep task). */
const wink: Ranker = {
  name: "wink-bm25-text-search",
  setup: "README setup: defineConfig({ fldWeights: { body: 1 } }), winkNLP prep task, consolidate, search(q, 20)",
  hasIndex: true,
  build(documents) {
    const engine = winkBm25();
    engine.defineConfig({ fldWeights: { body: 1 } });
    engine.definePrepTasks([winkPrepTask]);
    documents.forEach((body, position) => engine.addDoc({ body }, position));
    engine.consolidate();
    return (query) => engine.search(query, documents.length).map(([id]) => Number(id));
  },
};

export const LIBRARIES: readonly Ranker[] = [okapi, miniSearch, wink];

/** Positions by descending score, ties by lower position (musique follows bm25s's tie order: src/retrieval/bm25/ties.ts). */
function rankScores(scores: readonly number[]): number[] {
  const order = scores.map((_, position) => position);
  order.sort((left, right) => (scores[right] as number) - (scores[left] as number) || left - right);
  return order;
}
