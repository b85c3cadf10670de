/**
 * `musique retrieve`: rank each question's own paragraphs with the question as the query and
 * report recall@1…K of the supporting paragraphs, overall, per hop count and per shape.
 *   musique retrieve --datasets sample --retriever lexical
 */
import { DEFAULTS } from "../config/defaults.ts";
import { RetrieveSchema } from "../config/schemas.ts";
import { loadExamples } from "../data/index.ts";
import { DataError } from "../errors.ts";
import { writeOutputFile } from "../files.ts";
import { log, startProgress } from "../log.ts";
import { buildRetriever } from "../run/setup.ts";
import { rankExamples, type QuestionRanking } from "../retrieval/rank.ts";
import { formatRecallTable, recallReport } from "../retrieval/recall.ts";
import { musiqueCommand, printJson } from "./_command.ts";

function rankingsJsonl(rankings: readonly QuestionRanking[]): string {
  return rankings
    .map((ranking) => JSON.stringify({ id: ranking.id, ranked_ids: ranking.rankedIds, scores: ranking.scores }))
    .join("\n")
    .concat(rankings.length > 0 ? "\n" : "");
}

export default musiqueCommand({
  name: "retrieve",
  description: "Rank each question's paragraphs with the question as query; report recall@k (no LM needed)",
  schema: RetrieveSchema,
  run: async (options, context) => {
    const retriever = buildRetriever({
      ...options,
      maxRetries: DEFAULTS.maxRetries,
      concurrency: DEFAULTS.serviceConcurrency,
      maxConcurrency: DEFAULTS.maxConcurrency,
    });
    // Fail in seconds, before any data is downloaded, if the rerank service is not there.
    await retriever.preflight(context.signal);

    const loaded = await loadExamples(options.datasets, {
      revision: options.revision,
      seed: options.seed,
      noiseRate: options.noiseRate,
      size: options.limit,
      skipInvalid: options.skipInvalid,
      signal: context.signal,
    });
    const examples = loaded.examples;
    if (examples.length === 0) {
      throw new DataError(`no examples to rank in ${options.datasets}`, { fix: "check --datasets and --limit" });
    }
    log.info(`ranking ${examples.length} questions with ${retriever.name} retrieval, top ${options.topN}`);

    const progress = startProgress({ label: "retrieve", total: examples.length, item: "question" });
    const rankings = await rankExamples(examples, retriever, options.topN, {
      concurrency: DEFAULTS.serviceConcurrency,
      signal: context.signal,
      onProgress: (done) => progress.set(done),
    });
    progress.finish();

    if (options.output) {
      writeOutputFile(options.output, rankingsJsonl(rankings), "--output");
      log.info(`wrote rankings to ${options.output}`);
    }

    const report = recallReport(
      examples.map((example, position) => ({
        id: example.id,
        nHops: example.nHops,
        shape: example.shape,
        supportingIds: example.supportingIds,
        rankedIds: rankings[position]?.rankedIds ?? [],
      })),
      options.topN,
    );
    if (options.json) {
      printJson({
        retriever: retriever.name,
        topN: options.topN,
        sources: loaded.sources,
        skipped: loaded.skipped,
        ...report,
      });
      return;
    }
    process.stdout.write(
      `recall of supporting paragraphs, ${retriever.name} retrieval, question as query (${loaded.sources.join("; ")})\n` + formatRecallTable(report) + "\n",
    );
  },
});
