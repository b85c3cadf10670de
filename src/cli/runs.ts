/** `musique runs`: the recorded runs, newest first, with status and headline scores. */
import { RunsSchema } from "../config/schemas.ts";
import { describeCacheCounts } from "../lm/cache.ts";
import { cacheCountsOf, formatTable, listRuns, openReadOnly, type QueryValue, type RunSummary } from "../store/index.ts";
import { musiqueCommand, printJson } from "./_command.ts";

export function runsTable(runs: readonly RunSummary[]): string {
  const columns = ["run", "kind", "status", "started", "step", "n", "em", "f1", "recall", "support_f1", "reward", "failures", "calls", "tokens"];
  const rows = runs.map((run): QueryValue[] => [
    run.name,
    run.kind,
    run.status,
    run.startedAt.replace("T", " ").slice(0, 19),
    run.step === null || run.step < 0 ? null : run.step,
    run.n,
    run.em,
    run.f1,
    run.recall,
    run.supportF1,
    run.reward,
    run.formatFailures + run.lmErrors,
    run.calls,
    run.promptTokens + run.completionTokens,
  ]);
  return formatTable({ columns, rows }, { nullText: "-", decimals: 3 });
}

export default musiqueCommand({
  name: "runs",
  description: "List the recorded runs with status and headline scores",
  schema: RunsSchema,
  run: (options) => {
    const store = openReadOnly(options.db);
    try {
      const runs = listRuns(store, options.limit);
      // Calls the response cache answered: in --json per run, under the table for the runs that had any.
      const cached = runs.map((run) => ({ run, cache: cacheCountsOf(store, run.runId) }));
      if (options.json) printJson(cached.map(({ run, cache }) => ({ ...run, cachedCalls: cache.answered })));
      else if (runs.length === 0) process.stdout.write(`no runs recorded in ${options.db}\n`);
      else {
        process.stdout.write(runsTable(runs));
        for (const { run, cache } of cached) {
          const line = describeCacheCounts(cache);
          if (line) process.stdout.write(`${run.name}: ${line}\n`);
        }
      }
    } finally {
      store.close();
    }
  },
});
