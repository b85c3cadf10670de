/**
 * `musique runs`: the recorded runs, newest first, with status, headline scores and tags
 * (`--tag T` keeps the runs carrying T). Its actions (README "Managing runs") are in
 * runs-actions.ts: `runs rm`, `runs rename`, `runs tag`, `runs untag`.
 */
import { RunsSchema } from "../config/schemas.ts";
import { ExitCode, UsageError, didYouMean } from "../errors.ts";
import { describeCacheCounts } from "../lm/cache.ts";
import { cacheCountsOf, formatTable, listRuns, openReadOnly, type QueryValue, type RunSummary } from "../store/index.ts";
import { streamWidth } from "../terminal/stream.ts";
import { hangingIndent } from "../terminal/wrap.ts";
import { musiqueCommand, printJson, reportError, type CommandDefinition } from "./_command.ts";
import { printErrorDocument, wantsJson } from "./_error-document.ts";
import { RUN_ACTIONS } from "./runs-actions.ts";

export function runsTable(runs: readonly RunSummary[]): string {
  const columns = ["run", "kind", "status", "started", "step", "n", "em", "f1", "recall", "support_f1", "reward", "failures", "calls", "tokens", "tags"];
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
    run.tags.join(","),
  ]);
  return formatTable({ columns, rows }, { nullText: "-", decimals: 3 });
}

const list = musiqueCommand({
  name: "runs",
  description: "List the recorded runs with status, headline scores and tags; runs rm|rename|tag|untag manage them",
  schema: RunsSchema,
  run: (options) => {
    const store = openReadOnly(options.db);
    try {
      const tags = options.tag ?? [];
      const runs = listRuns(store, { limit: options.limit, tags });
      // Calls the response cache answered: in --json per run, under the table for the runs that had any.
      const cached = runs.map((run) => ({ run, cache: cacheCountsOf(store, run.runId) }));
      if (options.json) printJson(cached.map(({ run, cache }) => ({ ...run, cachedCalls: cache.answered })));
      else if (runs.length === 0) process.stdout.write(`no runs${tags.length > 0 ? ` tagged ${tags.join(", ")}` : ""} recorded in ${options.db}\n`);
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

function actionsHelp(width: number): string {
  const names = Object.keys(RUN_ACTIONS);
  const nameWidth = Math.max(...names.map((name) => name.length));
  const lines = ["", "Actions (musique runs ACTION --help):"];
  for (const [name, action] of Object.entries(RUN_ACTIONS)) lines.push(...hangingIndent(name, action.description, nameWidth, width));
  return lines.join("\n") + "\n";
}

function isAction(word: string): word is keyof typeof RUN_ACTIONS {
  return word in RUN_ACTIONS;
}

/** `musique runs [ACTION] …`: the list, or one of its actions (the first word). */
const runs: CommandDefinition = {
  name: list.name,
  description: list.description,
  help: (width) => list.help(width) + actionsHelp(width),
  main: async (words) => {
    const [first, ...rest] = words;
    if (first === undefined || first.startsWith("-")) {
      if (words.some((word) => word === "--help" || word === "-h")) process.stdout.write(runs.help(streamWidth(process.stdout)));
      else await list.main(words);
      return;
    }
    if (first === "list") return list.main(rest);
    if (isAction(first)) return RUN_ACTIONS[first].main(rest);
    const suggestion = didYouMean(first, ["list", ...Object.keys(RUN_ACTIONS)]);
    const error = new UsageError(`unknown runs action "${first}"` + (suggestion ? ` (did you mean "${suggestion}"?)` : ""), {
      fix: `musique runs [list|${Object.keys(RUN_ACTIONS).join("|")}] …; musique runs --help shows them`,
    });
    reportError(error);
    if (wantsJson(words)) printErrorDocument(error, ExitCode.usage);
    process.exit(ExitCode.usage);
  },
};

export default runs;
