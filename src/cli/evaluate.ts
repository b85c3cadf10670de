import { EvaluateSchema } from "../config/schemas.ts";
import { describeCacheCounts } from "../lm/cache.ts";
import { runEvaluate } from "../run/evaluate.ts";
import { scoresTable } from "../run/scores.ts";
import { printJson, musiqueCommand } from "./_command.ts";

export default musiqueCommand({
  name: "evaluate",
  description: "Evaluate a model with the multi-hop program on a MuSiQue split; every call is logged to the database",
  schema: EvaluateSchema,
  run: async (options, { signal }) => {
    const summary = await runEvaluate(options, signal);
    if (options.json) {
      printJson(summary);
      return;
    }
    if (summary.scores) {
      const overall = summary.scores.overall;
      process.stdout.write(
        `\nAverage answer F1: ${(overall.answer_f1 * overall.n).toFixed(1)} / ${overall.n} (${(100 * overall.answer_f1).toFixed(1)}%)\n\n`,
      );
      process.stdout.write(scoresTable(summary.scores, options.reward) + "\n\n");
    }
    const fromCache = describeCacheCounts(summary.cache);
    if (fromCache) process.stdout.write(`${fromCache}\n`);
    process.stdout.write(`run: ${summary.run}\noutputs: ${summary.outputDirectory}\ndatabase: ${summary.database}\n`);
  },
});
