/**
 * `--retriever hybrid` (the default), retrieval.md: ask semantic and lexical each for 2·n;
 * take k = floor(n/2) + 1 best of each; concatenate semantic first, then lexical; drop
 * duplicate ids; stop at n. No score fusion; each document keeps its own retriever's score.
 *
 * For n ≤ 2, k = n, so the semantic part alone fills the n slots whenever the corpus has n
 * documents (and when it has fewer, every lexical document is a duplicate): hybrid = semantic.
 * Fewer than n documents may come back when the two lists overlap.
 */
import type { Example } from "../data/types.ts";
import type { RankedDocument, Retriever } from "./types.ts";

/** How many of each list hybrid takes for `topN` = n. */
export function hybridShare(topN: number): number {
  return Math.floor(topN / 2) + 1;
}

/** The hybrid rule on two rankings (pure; exported for tests). */
export function combineHybrid(semantic: readonly RankedDocument[], lexical: readonly RankedDocument[], topN: number): RankedDocument[] {
  const share = hybridShare(topN);
  const combined: RankedDocument[] = [];
  const seen = new Set<string>();
  for (const document of [...semantic.slice(0, share), ...lexical.slice(0, share)]) {
    if (combined.length >= topN) break;
    if (seen.has(document.id)) continue;
    seen.add(document.id);
    combined.push(document);
  }
  return combined;
}

export class HybridRetriever implements Retriever {
  readonly name = "hybrid";

  constructor(
    private readonly semantic: Retriever,
    private readonly lexical: Retriever,
  ) {}

  async retrieve(query: string, example: Example, topN: number, signal?: AbortSignal): Promise<RankedDocument[]> {
    const [semantic, lexical] = await Promise.all([
      this.semantic.retrieve(query, example, 2 * topN, signal),
      this.lexical.retrieve(query, example, 2 * topN, signal),
    ]);
    return combineHybrid(semantic, lexical, topN);
  }

  async preflight(signal?: AbortSignal): Promise<void> {
    await this.semantic.preflight(signal);
    await this.lexical.preflight(signal);
  }
}
