/**
 * Shared by the DSPy parity tests: the recorded configurations, their records as Examples, and a
 * replay of one configuration through musique's program API (runMultiHop + scoreExample), with
 * the per-example comparison against DSPy's outcome.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadExamples, type Example } from "../../src/data/index.ts";
import { createChatClient } from "../../src/lm/client.ts";
import { scoreExample, type ExampleScore } from "../../src/metrics/index.ts";
import { runMultiHop } from "../../src/program/multihop.ts";
import type { ProgramResult } from "../../src/program/types.ts";
import { GoldenRetriever } from "../../src/retrieval/golden.ts";
import { LexicalRetriever } from "../../src/retrieval/lexical.ts";
import { recordsJsonl, referenceLines } from "../helpers/dspy-reference.ts";
import { requestKey, startReplayLm, type ReplayEntry, type TranscriptRow } from "../fakes/replay-lm.ts";

export const CONFIGS = ["golden-2", "golden-gold", "lexical-2", "lexical-gold"] as const;
export type Config = (typeof CONFIGS)[number];

export interface DspyPrediction {
  example_id: string;
  outcome: "answer" | "failure";
  answer: string | null;
  retrieved_doc_ids: string[];
  metric: { combined_metric: number; em: number; f1: number; recall: number; em_official: number; f1_official: number } | null;
  evaluate_score: number;
}

export async function examplesOf(ids: readonly string[]): Promise<Map<string, Example>> {
  const directory = mkdtempSync(join(tmpdir(), "musique-parity-"));
  const file = join(directory, "records.jsonl");
  writeFileSync(file, recordsJsonl(ids));
  const { examples } = await loadExamples(file, { seed: 0, noiseRate: 1, skipInvalid: false });
  return new Map(examples.map((example) => [example.id, example]));
}

/**
 * What musique must send for one example: DSPy's requests, except that musique stops at an empty
 * chat reply (a format failure: DSPy carries on with None), and, with the fallback off, at the
 * first chat reply that DSPy had to rescue (or fail) with the JSONAdapter.
 */
export function expectedRequests(rows: readonly TranscriptRow[], jsonFallback: boolean): { rows: TranscriptRow[]; stop: "empty" | "format" | null } {
  const expected: TranscriptRow[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as TranscriptRow;
    if (!jsonFallback && row.adapter !== "chat") return { rows: expected, stop: "format" };
    expected.push(row);
    if (row.adapter === "chat" && row.variant === "empty") return { rows: expected, stop: "empty" };
  }
  return { rows: expected, stop: null };
}

export interface ExampleReplay {
  example: Example;
  result: ProgramResult;
  score: ExampleScore;
  entries: ReplayEntry[];
  expected: ReturnType<typeof expectedRequests>;
  dspy: DspyPrediction;
}

export interface ConfigReplay {
  examples: ExampleReplay[];
  requestsMatched: number;
  requestsSent: number;
  requestsRecorded: number;
}

/** Replay one configuration through the program API, one example after another. */
export async function replayConfig(config: Config, jsonFallback: boolean): Promise<ConfigReplay> {
  const rows = referenceLines<TranscriptRow>(`${config}.transcript.jsonl.gz`);
  const predictions = referenceLines<DspyPrediction>(`${config}.predictions.jsonl.gz`);
  const byExample = new Map<string, TranscriptRow[]>();
  for (const row of rows) byExample.set(row.example_id, [...(byExample.get(row.example_id) ?? []), row]);
  const examples = await examplesOf(predictions.map((prediction) => prediction.example_id));
  const replay = await startReplayLm(rows);
  const client = createChatClient({
    baseUrls: [replay.baseUrl],
    apiKey: "x",
    model: "fake",
    temperature: 0,
    maxTokens: 4000,
    maxRetries: 0,
    requestTimeoutSeconds: 30,
    concurrency: 1,
  });
  const retriever = config.startsWith("golden") ? new GoldenRetriever() : new LexicalRetriever();
  const replays: ExampleReplay[] = [];
  try {
    for (const dspy of predictions) {
      const example = examples.get(dspy.example_id);
      if (!example) throw new Error(`no record for ${dspy.example_id}`);
      const start = replay.log.length;
      const result = await runMultiHop(example, {
        client,
        retriever,
        topN: 2,
        numHops: config.endsWith("-2") ? 2 : "gold",
        maxHops: 4,
        temperature: 0,
        maxTokens: 4000,
        jsonFallback,
      });
      const recorded = (byExample.get(dspy.example_id) ?? []).sort((a, b) => a.seq - b.seq);
      replays.push({
        example,
        result,
        score: scoreExample(example, result, "v2"),
        entries: replay.log.slice(start),
        expected: expectedRequests(recorded, jsonFallback),
        dspy,
      });
    }
  } finally {
    await replay.stop();
  }
  return {
    examples: replays,
    requestsMatched: replay.log.filter((entry) => entry.matched && entry.extraKeys.length === 0).length,
    requestsSent: replay.log.length,
    requestsRecorded: rows.length,
  };
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9;

/** Why musique's run of one example differs from what it must be (empty list: identical). */
export function differences(replay: ExampleReplay): string[] {
  const problems: string[] = [];
  const { result, score, entries, expected, dspy } = replay;
  const sent = entries.map((entry) => requestKey(entry.body));
  const wanted = expected.rows.map((row) => requestKey(row.request));
  if (sent.length !== wanted.length || sent.some((key, i) => key !== wanted[i])) {
    const at = sent.findIndex((key, i) => key !== wanted[i]);
    problems.push(`requests: sent ${sent.length}, expected ${wanted.length}; first difference at ${at}: ${entries[at]?.diff ?? "(missing)"}`);
  }
  const extra = entries.flatMap((entry) => entry.extraKeys);
  if (extra.length > 0) problems.push(`extra body keys: ${[...new Set(extra)].join(", ")}`);
  if (expected.stop !== null) {
    if (result.failure?.kind !== "format") problems.push(`expected a format failure (${expected.stop}), got ${JSON.stringify(result.failure)}`);
    if (score.em + score.f1 + score.recall + score.supportF1 + score.reward !== 0) problems.push(`a failure must score 0 everywhere: ${JSON.stringify(score)}`);
    return problems;
  }
  if ((dspy.outcome === "answer") !== (result.failure === null)) problems.push(`outcome: DSPy ${dspy.outcome}, musique ${JSON.stringify(result.failure)}`);
  if (dspy.outcome === "answer" && result.answer !== dspy.answer)
    problems.push(`answer: DSPy ${JSON.stringify(dspy.answer)}, musique ${JSON.stringify(result.answer)}`);
  const retrieved = [...new Set(result.retrievedIds)].sort().join(",");
  if (retrieved !== [...new Set(dspy.retrieved_doc_ids)].sort().join(",")) problems.push(`retrieved ${retrieved} vs DSPy ${dspy.retrieved_doc_ids.join(",")}`);
  if (!close(score.reward, dspy.evaluate_score)) problems.push(`score ${score.reward} vs DSPy's Evaluate ${dspy.evaluate_score}`);
  const metric = dspy.metric;
  if (metric) {
    const pairs: Array<[string, number, number]> = [
      ["em", score.components.em, metric.em],
      ["f1", score.components.f1, metric.f1],
      ["recall", score.recall, metric.recall],
      ["em_official", score.em, metric.em_official],
      ["f1_official", score.f1, metric.f1_official],
      ["combined_metric", score.reward, metric.combined_metric],
    ];
    for (const [name, ours, theirs] of pairs) if (!close(ours, theirs)) problems.push(`${name} ${ours} vs DSPy ${theirs}`);
  } else if (score.em + score.f1 + score.recall + score.reward !== 0) {
    problems.push(`DSPy failed (score 0); musique scored ${JSON.stringify(score)}`);
  }
  return problems;
}
