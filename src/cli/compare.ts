/**
 * `musique compare SIDE SIDE [SIDE…]`: paired differences vs the first side with bootstrap CIs,
 * the examples that flipped per hop count, and --html for a self-contained page. A side is a run
 * or a validation of a training run: RUN@STEP (after STEP steps, 0 = before training), RUN@best.
 * The comparison runs on a worker thread (src/worker/), so Ctrl-C stops even a long bootstrap (exit 130).
 */
import { CompareSchema } from "../config/schemas.ts";
import { log } from "../log.ts";
import { formatComparison } from "../report/compare-format.ts";
import { renderComparisonHtml } from "../report/compare-html.ts";
import { writeOutputFile } from "../files.ts";
import { runTask } from "../worker/run.ts";
import { musiqueCommand, printJson } from "./_command.ts";

export default musiqueCommand({
  name: "compare",
  description:
    "Compare runs (or RUN@STEP validations of a training run) example by example: 95% paired-bootstrap CIs vs the first, fixed/broken examples per hop count",
  schema: CompareSchema,
  run: async (options, context) => {
    const input = { path: options.db, runs: options.runs, resamples: options.resamples, seed: options.seed };
    const detailed = await runTask("compare", input, { signal: context.signal });
    if (options.html) {
      writeOutputFile(options.html, renderComparisonHtml(detailed), "--html");
      log.info(`wrote ${options.html}`);
    }
    if (options.json) {
      for (const warning of detailed.comparison.warnings) log.warn(warning.message);
      printJson(detailed.comparison);
    } else process.stdout.write(formatComparison(detailed.comparison) + (options.html ? `html: ${options.html}\n` : ""));
  },
});
