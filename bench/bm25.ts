/**
 * Suite "bm25": rank every sample question's own 20 paragraphs (the question as the query, each
 * document "# " + title + "\n" + text as the lexical retriever sees it) with ours and with three
 * npm libraries, over and over; rankings per second and top-2 agreement with the bm25s reference.
 *
 * Cold = the index of the question's corpus is built for every ranking (each question has its own
 * corpus, so this is the fair comparison). Warm = the index is built once per question and only
 * searched, which is how the program uses it (hop 0 and hop 1 rank the same corpus).
 */
import { join } from "node:path";
import { loadExamples } from "../src/data/index.ts";
import type { Example } from "../src/data/types.ts";
import { rankLexical } from "../src/retrieval/lexical.ts";
import { documentsOf } from "../src/retrieval/types.ts";
import { LIBRARIES, okapi, ours, type Ranker, type Searcher } from "./bm25-libraries.ts";
import { atLeast, figuresFor, progress, repeat, single, type Figure, type Summary } from "./measure.ts";

const REFERENCE = join(import.meta.dir, "..", "test", "fixtures", "musique_ans_dev_sample150.bm25_reference.jsonl");

/** Rankings per figure, over all its runs (a slow library stops earlier, at the time cap). */
export const TARGET_RANKINGS = 20_000;
const RUNS = 5;
/** Each run goes on (in whole passes over the questions) until its share of the target and this many seconds… */
const MIN_RUN_SECONDS = 0.5;
/** …but stops after the pass that crosses this many seconds. */
const MAX_RUN_SECONDS = 2.5;

interface Question {
  example: Example;
  query: string;
  /** The hop-1 query: the question + what hop 0 found (the fake LM's query shape). */
  hopQuery: string;
  documents: string[];
  referenceTop2: readonly number[];
}

interface ReferenceLine {
  id: string;
  bm25_ranking: number[];
}

async function loadQuestions(): Promise<Question[]> {
  const { examples } = await loadExamples("sample", { seed: 89, noiseRate: 1, skipInvalid: false });
  const reference = new Map<string, number[]>();
  for (const line of (await Bun.file(REFERENCE).text()).split("\n")) {
    if (line.trim() === "") continue;
    const parsed = JSON.parse(line) as ReferenceLine;
    reference.set(parsed.id, parsed.bm25_ranking.slice(0, 2));
  }
  return examples.map((example) => {
    const top2 = reference.get(example.id);
    if (!top2) throw new Error(`no bm25 reference ranking for ${example.id}`);
    if (example.paragraphs.length !== 20) throw new Error(`${example.id}: expected 20 paragraphs`);
    return {
      example,
      query: example.question,
      hopQuery: `${example.question} ${example.decomposition[0]?.answer ?? ""}`,
      documents: documentsOf(example).map((document) => document.text),
      referenceTop2: top2,
    };
  });
}

/** Ranks for one question; returns how many rankings it made and a number that depends on them. */
type RankQuestion = (question: Question, index: number) => { rankings: number; sink: number };

interface Pass {
  rankings: number;
  seconds: number;
}

/** Whole passes over the questions until the run's budget is spent; `sink` keeps results alive. */
function timePasses(questions: readonly Question[], rankQuestion: RankQuestion, minRankings: number): Pass {
  let rankings = 0;
  let sink = 0;
  const started = performance.now();
  let seconds = 0;
  do {
    for (let index = 0; index < questions.length; index++) {
      const done = rankQuestion(questions[index] as Question, index);
      rankings += done.rankings;
      sink += done.sink;
    }
    seconds = (performance.now() - started) / 1000;
  } while ((rankings < minRankings || seconds < MIN_RUN_SECONDS) && seconds < MAX_RUN_SECONDS);
  if (sink < 0) progress("impossible");
  return { rankings, seconds };
}

interface Throughput {
  perSecond: Summary;
  rankings: number;
}

async function throughput(questions: readonly Question[], rankQuestion: RankQuestion): Promise<Throughput> {
  const perRun = Math.ceil(TARGET_RANKINGS / RUNS);
  let rankings = 0;
  timePasses(questions, rankQuestion, 0); // warm-up pass (JIT; our word→stem table), not counted
  const perSecond = await repeat(RUNS, () => {
    const pass = timePasses(questions, rankQuestion, perRun);
    rankings += pass.rankings;
    return pass.rankings / pass.seconds;
  });
  return { perSecond, rankings };
}

const first = (ranking: ArrayLike<number>): number => (ranking.length > 0 ? (ranking[0] as number) : 0);

function sameSet(left: ArrayLike<number>, right: readonly number[]): boolean {
  const a = Array.from(left).slice(0, 2).sort((x, y) => x - y);
  const b = [...right].sort((x, y) => x - y);
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/** Share (%) of questions whose top-2 set equals the reference's. */
function agreement(questions: readonly Question[], rank: (question: Question) => ArrayLike<number>): number {
  let same = 0;
  for (const question of questions) if (sameSet(rank(question), question.referenceTop2)) same++;
  return (100 * same) / questions.length;
}

function countNote(result: Throughput): string {
  const capped = result.rankings < TARGET_RANKINGS ? `, time-capped at ${MAX_RUN_SECONDS} s per run` : "";
  return `${result.rankings.toLocaleString("en-US")} rankings in ${RUNS} runs${capped}`;
}

/** The lexical retriever's path: cached index of the example's paragraphs, all 20 ranked. */
function ourRetrieverRank(query: string, example: Example): number[] {
  return rankLexical(query, example, 20).map((document) => Number(document.id));
}

type Mode = "cold" | "two hops" | "rank only";

const MODE_TEXT: Record<Mode, string> = {
  cold: "cold: build + rank, per ranking",
  "two hops": "2 hops: build once, rank question + hop-1 query",
  "rank only": "rank only: index prebuilt",
};

/** How `ranker` ranks a question in `mode`. Ours goes through the retriever (corpusOf + rankLexical) except cold. */
function rankerFor(ranker: Ranker, mode: Mode, questions: readonly Question[]): RankQuestion {
  if (ranker === ours && mode === "two hops") {
    return (question) => {
      // A fresh paragraph list is a corpus the retriever has not indexed yet (as a new example is).
      const example = { ...question.example, paragraphs: [...question.example.paragraphs] };
      return { rankings: 2, sink: first(ourRetrieverRank(question.query, example)) + first(ourRetrieverRank(question.hopQuery, example)) };
    };
  }
  if (ranker === ours && mode === "rank only") {
    return (question) => ({ rankings: 1, sink: first(ourRetrieverRank(question.query, question.example)) });
  }
  if (mode === "cold") return (question) => ({ rankings: 1, sink: first(ranker.build(question.documents)(question.query)) });
  if (mode === "two hops") {
    return (question) => {
      const search = ranker.build(question.documents);
      return { rankings: 2, sink: first(search(question.query)) + first(search(question.hopQuery)) };
    };
  }
  let searchers: Searcher[] = [];
  return (question, index) => {
    if (searchers.length === 0) searchers = questions.map((each) => ranker.build(each.documents));
    return { rankings: 1, sink: first((searchers[index] as Searcher)(question.query)) };
  };
}

export async function runBm25Suite(): Promise<Figure[]> {
  const figure = figuresFor("bm25");
  const questions = await loadQuestions();
  const figures: Figure[] = [];
  const rates = new Map<Mode, Map<string, number>>();
  for (const mode of Object.keys(MODE_TEXT) as Mode[]) {
    const table = new Map<string, number>();
    rates.set(mode, table);
    for (const ranker of [ours, ...LIBRARIES]) {
      if (mode === "rank only" && !ranker.hasIndex) continue; // okapibm25 keeps no index: its rank-only rate is its cold rate
      progress(`bm25: ${ranker.name}, ${MODE_TEXT[mode]}`);
      const result = await throughput(questions, rankerFor(ranker, mode, questions));
      table.set(ranker.name, result.perSecond.median);
      const label = ranker === ours ? "ours" : ranker.name;
      const how = ranker === ours && mode !== "cold" ? "through the lexical retriever (corpusOf + rankLexical)" : ranker.setup;
      figures.push(figure({ name: `${label}, ${MODE_TEXT[mode]}: rankings/s`, unit: "/s", value: result.perSecond, note: `${countNote(result)}; ${how}` }));
    }
    if (mode === "rank only") table.set(okapi.name, rates.get("cold")?.get(okapi.name) ?? 0);
  }

  for (const mode of Object.keys(MODE_TEXT) as Mode[]) {
    const table = rates.get(mode) ?? new Map<string, number>();
    let fastest = { name: "", value: 0 };
    for (const [name, value] of table) if (name !== ours.name && value > fastest.value) fastest = { name, value };
    figures.push(
      figure({
        name: `speed-up over the fastest library, ${mode}`,
        unit: "×",
        value: single((table.get(ours.name) ?? 0) / fastest.value),
        decimals: 2,
        goal: mode === "rank only" ? undefined : atLeast(5, "≥ 5×"),
        note:
          `fastest library ${mode}: ${fastest.name}` +
          (mode === "rank only" ? " (okapibm25 at its cold rate); no goal: building the index is part of every question's cost" : ""),
      }),
    );
  }

  progress("bm25: top-2 agreement with the bm25s reference");
  for (const ranker of [ours, ...LIBRARIES]) {
    const isOurs = ranker === ours;
    figures.push(
      figure({
        name: `top-2 agreement with bm25s reference: ${isOurs ? "ours" : ranker.name}`,
        unit: "%",
        value: single(agreement(questions, (question) => ranker.build(question.documents)(question.query))),
        decimals: 1,
        goal: isOurs ? atLeast(100, "100 %") : undefined,
        note: "same top-2 set as the reference's bm25_ranking, 150 questions",
      }),
    );
  }
  figures.push(
    figure({
      name: "top-2 agreement with bm25s reference: ours via the lexical retriever",
      unit: "%",
      value: single(agreement(questions, (question) => ourRetrieverRank(question.query, question.example))),
      decimals: 1,
      goal: atLeast(100, "100 %"),
    }),
  );
  return figures;
}
