import { EvaluateSchema } from "../config/schemas.ts";
import { describeCacheCounts } from "../lm/cache.ts";
import { runEvaluate } from "../run/evaluate.ts";
import { missingCauses } from "../metrics/run-scores.ts";
import { scoresTable } from "../report/scores-table.ts";
import { printJson, musiqueCommand } from "./_command.ts";

export default musiqueCommand({
  name: "evaluate",
  description: "Evaluate a model with the multi-hop program on a MuSiQue split; every call is logged to the database",
  schema: EvaluateSchema,
  run: async (options, { signal }) => {
    const summary = await runEvaluate(options, signal);
    if (options.json) {
      printJson(summary);
      return summary.exitCode;
    }
    if (summary.scores) {
      const overall = summary.scores.overall;
      const missing = overall.missing > 0 ? `; ${overall.missing} of ${summary.examples} examples have no result (${missingCauses(overall)})` : "";
      const average =
        overall.answer_f1 === null
          ? "no example has a score"
          : `${(overall.answer_f1 * overall.n).toFixed(1)} / ${overall.n} (${(100 * overall.answer_f1).toFixed(1)}%)`;
      process.stdout.write(`\nAverage answer F1: ${average}${missing}\n\n`);
      process.stdout.write(scoresTable(summary.scores, options.reward) + "\n\n");
    }
    const fromCache = describeCacheCounts(summary.cache);
    if (fromCache) process.stdout.write(`${fromCache}\n`);
    process.stdout.write(`run: ${summary.run} (${summary.status})\noutputs: ${summary.outputDirectory}\ndatabase: ${summary.database}\n`);
    return summary.exitCode;
  },
});
