/**
 * Suite "bm25": rank every sample question's own 20 paragraphs (the question as the query, each
 * document "# " + title + "\n" + text as the lexical retriever sees it) with ours and with three
 * npm libraries, over and over; rankings per second and top-2 agreement with the bm25s reference.
 *
 * Cold = the index of the question's corpus is built for every ranking (each question has its own
 * corpus, so this is the fair comparison). 2 hops = the index is built once per question and
 * ranks two queries, which is how the program uses it (hop 0 and hop 1 rank the same corpus).
 * Ours is reported twice in both: on first sight (every cache of ours cleared before each
 * ranking/question) and with the paragraph cache warm (the question was ranked before: GRPO
 * rollouts and epochs revisit every question); each row gets its own MET/MISSED.
 */
import { join } from "node:path";
import { loadExamples } from "../src/data/index.ts";
import type { Example } from "../src/data/types.ts";
import { LexicalRetriever } from "../src/retrieval/lexical.ts";
import { documentsOf } from "../src/retrieval/types.ts";
import { LIBRARIES, okapi, ours, type Ranker, type Searcher } from "./bm25-libraries.ts";
import { atLeast, figuresFor, progress, repeat, single, type Figure, type Summary } from "./measure.ts";

const REFERENCE = join(import.meta.dir, "..", "test", "fixtures", "musique_ans_dev_sample150.bm25_reference.jsonl");

/** Rankings per figure, over all its runs (a slow library stops earlier, at the time cap). */
const TARGET_RANKINGS = 20_000;
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
  timePasses(questions, rankQuestion, 0); // warm-up pass (JIT; our word table and, unless the row clears it, paragraph cache), not counted
  const perSecond = await repeat(RUNS, () => {
    const pass = timePasses(questions, rankQuestion, perRun);
    rankings += pass.rankings;
    return pass.rankings / pass.seconds;
  });
  return { perSecond, rankings };
}

const first = (ranking: ArrayLike<number>): number => (ranking.length > 0 ? (ranking[0] as number) : 0);

function sameSet(left: ArrayLike<number>, right: readonly number[]): boolean {
  const a = Array.from(left)
    .slice(0, 2)
    .sort((x, y) => x - y);
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

/** The lexical retriever as evaluate builds it (the process-wide tokenizer); reset() empties its indexes and that tokenizer's paragraphs. */
const retriever = new LexicalRetriever();

/** The lexical retriever's path: cached index of the example's paragraphs, all 20 ranked. */
function ourRetrieverRank(query: string, example: Example): number[] {
  return retriever.rank(query, example, 20).map((document) => Number(document.id));
}

type Mode = "cold" | "two hops" | "rank only";

const MODE_TEXT: Record<Mode, string> = {
  cold: "cold: build + rank, per ranking",
  "two hops": "2 hops: build once, rank question + hop-1 query",
  "rank only": "rank only: index prebuilt",
};

/**
 * What our caches hold when a question is ranked. "first sight": every cache cleared before each
 * ranking (cold) or question (2 hops): paragraph tokens and indexes; the word → term table stays,
 * as any process that has ranked other questions has it. "paragraph cache warm": the question was
 * ranked before (another rollout, step, epoch or evaluation). "nothing cached": the word table is
 * cleared too, so every word is stemmed again (no goal; shows the cost of a brand-new vocabulary).
 * First sight has no goal either (issue 19 replaced it: BM25 is far from a run's bottleneck).
 */
type Cache = "first sight" | "paragraph cache warm" | "nothing cached";

function cacheText(cache: Cache, mode: Mode): string {
  const each = mode === "two hops" ? "question" : "ranking";
  if (cache === "first sight") return `first sight (paragraph + index caches cleared before each ${each}; word table kept)`;
  if (cache === "paragraph cache warm") return "paragraph cache warm (a question seen before)";
  return `nothing cached (word table cleared too, before each ${each})`;
}

interface OurRow {
  mode: Mode;
  cache: Cache | undefined;
  label: string;
  how: string;
  run: RankQuestion;
  goal: boolean;
}

/** A fresh paragraph list is a corpus the retriever has not indexed yet (as a new example is). */
function freshExample(question: Question): Example {
  return { ...question.example, paragraphs: [...question.example.paragraphs] };
}

function ourRow(mode: Mode, cache: Cache | undefined, how: string, run: RankQuestion): OurRow {
  // First sight is info only (issue 19): BM25 is far from the bottleneck of a run (~0.1 ms a question).
  const goal = mode !== "rank only" && cache !== "nothing cached" && cache !== "first sight";
  return { mode, cache, how, run, goal, label: cache === undefined ? "ours" : `ours, ${cacheText(cache, mode)}` };
}

function ourRows(): OurRow[] {
  const build = (question: Question) => ours.build(question.documents)(question.query);
  const twoHops = (question: Question) => {
    const example = freshExample(question);
    return { rankings: 2, sink: first(ourRetrieverRank(question.query, example)) + first(ourRetrieverRank(question.hopQuery, example)) };
  };
  const through = "through the lexical retriever (corpusOf + rank), a fresh paragraph list per question";
  return [
    ourRow("cold", "first sight", `${ours.setup}; retriever.reset() before each ranking`, (question) => {
      retriever.reset();
      return { rankings: 1, sink: first(build(question)) };
    }),
    ourRow("cold", "paragraph cache warm", `${ours.setup}; paragraph tokens cached by the warm-up pass`, (question) => ({
      rankings: 1,
      sink: first(build(question)),
    })),
    ourRow("cold", "nothing cached", `${ours.setup}; retriever.reset({ vocabulary: true }) before each ranking`, (question) => {
      retriever.reset({ vocabulary: true });
      return { rankings: 1, sink: first(build(question)) };
    }),
    ourRow("two hops", "first sight", `${through}; retriever.reset() before each question`, (question) => {
      retriever.reset();
      return twoHops(question);
    }),
    ourRow("two hops", "paragraph cache warm", `${through}; paragraph tokens cached by the warm-up pass`, twoHops),
    ourRow("rank only", undefined, "through the lexical retriever (corpusOf + rank), index cached", (question) => ({
      rankings: 1,
      sink: first(ourRetrieverRank(question.query, question.example)),
    })),
  ];
}

/** How a library ranks a question in `mode`. */
function libraryRun(ranker: Ranker, mode: Mode, questions: readonly Question[]): RankQuestion {
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
  const libraryRates = new Map<Mode, Map<string, number>>();
  const ourRates = new Map<OurRow, number>();
  const rows = ourRows();
  for (const mode of Object.keys(MODE_TEXT) as Mode[]) {
    for (const row of rows.filter((each) => each.mode === mode)) {
      progress(`bm25: ${row.label}, ${MODE_TEXT[mode]}`);
      const result = await throughput(questions, row.run);
      ourRates.set(row, result.perSecond.median);
      figures.push(
        figure({ name: `${row.label}, ${MODE_TEXT[mode]}: rankings/s`, unit: "/s", value: result.perSecond, note: `${countNote(result)}; ${row.how}` }),
      );
    }
    retriever.reset(); // libraries do not see our warm caches' memory
    const table = new Map<string, number>();
    libraryRates.set(mode, table);
    for (const ranker of LIBRARIES) {
      if (mode === "rank only" && !ranker.hasIndex) continue; // okapibm25 keeps no index: its rank-only rate is its cold rate
      progress(`bm25: ${ranker.name}, ${MODE_TEXT[mode]}`);
      const result = await throughput(questions, libraryRun(ranker, mode, questions));
      table.set(ranker.name, result.perSecond.median);
      figures.push(
        figure({ name: `${ranker.name}, ${MODE_TEXT[mode]}: rankings/s`, unit: "/s", value: result.perSecond, note: `${countNote(result)}; ${ranker.setup}` }),
      );
    }
    if (mode === "rank only") table.set(okapi.name, libraryRates.get("cold")?.get(okapi.name) ?? 0);
  }

  for (const row of rows) {
    if (row.cache === "nothing cached") continue;
    const table = libraryRates.get(row.mode) ?? new Map<string, number>();
    let fastest = { name: "", value: 0 };
    for (const [name, value] of table) if (value > fastest.value) fastest = { name, value };
    const rankOnly = row.mode === "rank only";
    figures.push(
      figure({
        name: `speed-up over the fastest library, ${row.mode}${row.cache === undefined ? "" : `, ${row.cache}`}`,
        unit: "×",
        value: single((ourRates.get(row) ?? 0) / fastest.value),
        decimals: 2,
        goal: row.goal ? atLeast(5, "≥ 5×") : undefined,
        note: rankOnly
          ? `fastest library rank only: ${fastest.name} (okapibm25 at its cold rate); no goal: building the index is part of every question's cost`
          : `${row.label} ÷ the fastest library ${row.mode}: ${fastest.name} (libraries have no cache of ours)`,
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
