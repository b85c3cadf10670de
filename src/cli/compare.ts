/** `musique compare RUN_A RUN_B [RUN_C…]`: paired differences vs the first run with bootstrap CIs. */
import { CompareSchema } from "../config/schemas.ts";
import { log } from "../log.ts";
import { compareRuns } from "../report/compare.ts";
import { formatComparison } from "../report/compare-format.ts";
import { openReadOnly } from "../store/index.ts";
import { musiqueCommand, printJson } from "./_command.ts";

export default musiqueCommand({
  name: "compare",
  description: "Compare runs example by example: means, differences vs the first run with 95% paired-bootstrap CIs, per hop count",
  schema: CompareSchema,
  helpText: { seed: "seed of the bootstrap resampling" },
  run: (options) => {
    const store = openReadOnly(options.db);
    try {
      const comparison = compareRuns(store, options.runs, { resamples: options.resamples, seed: options.seed });
      if (options.json) {
        for (const warning of comparison.warnings) log.warn(warning.message);
        printJson(comparison);
      } else process.stdout.write(formatComparison(comparison));
    } finally {
      store.close();
    }
  },
});
