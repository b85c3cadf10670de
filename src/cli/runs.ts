/**
 * `musique runs`: the recorded runs, newest first, with status, headline scores and tags
 * (`--tag T` keeps the runs carrying T). Its actions (README "Managing runs") are in
 * runs-actions.ts: `runs rm`, `runs rename`, `runs tag`, `runs untag`.
 */
import { RunsSchema } from "../config/schemas.ts";
import { ExitCode, UsageError, didYouMean } from "../errors.ts";
import { describeCacheCounts } from "../lm/cache.ts";
import { REWARDS } from "../metrics/reward-versions.ts";
import { rewardFootnote } from "../metrics/reward.ts";
import { cacheCountsOf, listRuns, openReadOnly, type RunSettings, type RunSummary } from "../store/index.ts";
import { streamWidth } from "../text/stream.ts";
import { formatTable, type Column } from "../text/table.ts";
import { hangingIndent } from "../text/wrap.ts";
import { musiqueCommand, printJson, reportError, type CommandDefinition } from "./_command.ts";
import { printErrorDocument, wantsJson } from "./_error-document.ts";
import { RUN_ACTIONS } from "./runs-actions.ts";

/** Widest `musique runs` table without --wide. */
const RUNS_WIDTH = 120;

type ListedRun = RunSummary & RunSettings;

function score(value: number | null): string {
  return value === null ? "-" : value.toFixed(3);
}

/** The model's own name without its organisation ("Qwen/Qwen2.5-7B-Instruct" → "Qwen2.5-7B-Instruct"). */
function shortModel(model: string | null): string {
  return model === null ? "-" : (model.split("/").at(-1) ?? model);
}

/**
 * The runs, newest first: what ran (kind, status, model, retriever, hops, temperature) and its
 * training steps completed / planned, headline scores (over the n examples with a result;
 * `missing` next to them) and tags, at most 120 columns (long model
 * and run names are cut with …); `wide` adds start time, after how many steps a training run's
 * scores were measured, recall, support F1, format failures, calls, tokens and dataset, and cuts nothing.
 */
function runsTable(runs: readonly ListedRun[], wide = false): string {
  const columns: Column[] = [
    { header: "run", minWidth: 16 },
    { header: "kind", align: "left" },
    { header: "status", align: "left" },
    { header: "steps" },
    { header: "model", align: "left", minWidth: 10 },
    { header: "retriever", align: "left" },
    { header: "hops" },
    { header: "T" },
    { header: "n" },
    { header: "missing" },
    { header: "EM" },
    { header: "F1" },
    { header: "reward" },
    { header: "tags", align: "left", minWidth: 4 },
  ];
  if (wide) {
    columns.push(
      { header: "started", align: "left" },
      { header: "scored after" },
      { header: "recall" },
      { header: "support F1" },
      { header: "format fail" },
      { header: "calls" },
      { header: "tokens" },
      { header: "dataset", align: "left" },
    );
  }
  const rows = runs.map((run) => {
    const cells = [
      run.name,
      run.kind,
      run.status,
      run.stepsCompleted === null ? "-" : `${run.stepsCompleted}/${run.plannedSteps ?? "?"}`,
      wide ? (run.model ?? "-") : shortModel(run.model),
      run.retriever ?? "-",
      run.numHops ?? "-",
      run.temperature === null ? "-" : String(run.temperature),
      String(run.n),
      String(run.missing),
      score(run.em),
      score(run.f1),
      score(run.reward),
      run.tags.length > 0 ? run.tags.join(",") : "-",
    ];
    if (wide) {
      cells.push(
        run.startedAt.replace("T", " ").slice(0, 19),
        run.step === null || run.step < 0 ? "-" : `${run.step} steps`,
        score(run.recall),
        score(run.supportF1),
        String(run.formatFailures),
        String(run.calls),
        String(run.promptTokens + run.completionTokens),
        run.dataset ?? "-",
      );
    }
    return cells;
  });
  const versions = REWARDS.filter((version) => runs.some((run) => run.rewardVersion === version));
  const footnotes = [
    "",
    "T: sampling temperature; hops: --num-hops; steps: training steps done / planned (scores: the last validation)",
    "n: examples with a result (the scores are over these); missing: examples without one (service failures, not run)",
    ...rewardFootnote(versions.length === 1 ? versions[0] : undefined),
  ];
  return (
    formatTable(wide ? columns.map(({ header, align }) => ({ header, align })) : columns, rows, {
      footnotes,
      ...(wide ? {} : { maxWidth: RUNS_WIDTH }),
    }) + "\n"
  );
}

const list = musiqueCommand({
  name: "runs",
  description: "List the recorded runs with status, headline scores and tags; runs rm|rename|tag|untag manage them",
  schema: RunsSchema,
  run: (options) => {
    using store = openReadOnly(options.db, { notices: true });
    const tags = options.tag ?? [];
    const runs = listRuns(store, { limit: options.limit, tags });
    // Calls the response cache answered: in --json per run, under the table for the runs that had any.
    const cached = runs.map((run) => ({ run, cache: cacheCountsOf(store, run.runId) }));
    if (options.json) printJson(cached.map(({ run, cache }) => ({ ...run, cachedCalls: cache.answered })));
    else if (runs.length === 0) process.stdout.write(`no runs${tags.length > 0 ? ` tagged ${tags.join(", ")}` : ""} recorded in ${options.db}\n`);
    else {
      process.stdout.write(runsTable(runs, options.wide));
      for (const { run, cache } of cached) {
        const line = describeCacheCounts(cache);
        if (line) process.stdout.write(`${run.name}: ${line}\n`);
      }
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
  actions: RUN_ACTIONS,
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
