/**
 * Rank every example's paragraphs with its question as the query (`musique retrieve`), a few
 * examples in flight at once, reporting progress.
 */
import type { Example } from "../data/types.ts";
import { InterruptedError } from "../errors.ts";
import type { Retriever } from "./types.ts";

export interface QuestionRanking {
  id: string;
  rankedIds: string[];
  /** Scores in rank order (NaN for golden). */
  scores: number[];
}

export interface RankOptions {
  /** Examples in flight at once. */
  concurrency: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export async function rankExamples(examples: readonly Example[], retriever: Retriever, topN: number, options: RankOptions): Promise<QuestionRanking[]> {
  const rankings = new Array<QuestionRanking>(examples.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < examples.length) {
      if (options.signal?.aborted) throw options.signal.reason ?? new InterruptedError();
      const position = next++;
      const example = examples[position] as Example;
      const ranked = await retriever.retrieve(example.question, example, topN, options.signal);
      rankings[position] = {
        id: example.id,
        rankedIds: ranked.map((document) => document.id),
        scores: ranked.map((document) => document.score),
      };
      done++;
      options.onProgress?.(done, examples.length);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency, examples.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return rankings;
}
