/**
 * The actions of `musique runs` (README "Managing runs"):
 *   runs rm RUN… [--yes] [--outputs]   delete runs with all their rows (asks first)
 *   runs rename OLD NEW                           rename a run (and its own output folder)
 *   runs tag RUN… --tag T… / runs untag RUN… --tag T…
 */
import { RunsRemoveSchema, RunsRenameSchema, RunsTagSchema } from "../config/schemas.ts";
import { log } from "../log.ts";
import { planRemoval, removeRuns, renameRunAndFolder, type FolderOutcome } from "../run/manage.ts";
import { addTags, openStore, removeTags, requireRuns } from "../store/index.ts";
import { musiqueCommand, printJson } from "./_command.ts";
import { confirm } from "./_confirm.ts";

/** "20 predictions, 100 module_calls" (tables with rows only). */
export function describeRows(rows: Record<string, number>): string {
  const parts = Object.entries(rows)
    .filter(([, count]) => count > 0)
    .map(([table, count]) => `${count} ${table}`);
  return parts.length > 0 ? parts.join(", ") : "no rows";
}

function describeFolder(folder: FolderOutcome): string {
  if (folder.path === null) return "no output folder";
  if (folder.action === "none") return `no output folder (${folder.path}: ${folder.reason ?? "not there"})`;
  if (folder.action === "deleted") return `deleted ${folder.path}`;
  if (folder.action === "moved") return `moved the output folder to ${folder.path}`;
  return `kept ${folder.path}${folder.reason ? ` (${folder.reason})` : ""}`;
}

const remove = musiqueCommand({
  name: "runs rm",
  description: "Delete runs and all their rows from the database (asks first; --yes to skip); output folders are kept unless --outputs",
  schema: RunsRemoveSchema,
  run: async (options) => {
    using store = openStore(options.db, { create: false });
    const plans = planRemoval(store, options.runs);
    for (const { run, rows } of plans) {
      const folder = run.outputDir === null ? "" : `; output folder ${run.outputDir} ${options.outputs ? "deleted if it is the run's own" : "kept"}`;
      log.info(`${run.name} (${run.kind}, ${run.status}): ${describeRows(rows)}${folder}`);
    }
    const question = `delete ${plans.length} run${plans.length === 1 ? "" : "s"} from ${store.path}?`;
    if (!options.yes && !(await confirm(question))) {
      log.info("nothing deleted");
      return;
    }
    const removed = removeRuns(store, plans, options.outputs);
    if (options.json) printJson({ database: store.path, removed });
    else for (const run of removed) process.stdout.write(`deleted ${run.name} (${describeRows(run.rows)}); ${describeFolder(run.folder)}\n`);
  },
});

const rename = musiqueCommand({
  name: "runs rename",
  description: "Rename a run; its output folder outputs/OLD becomes outputs/NEW when nothing is in the way",
  schema: RunsRenameSchema,
  run: (options) => {
    const [oldName = "", newName = ""] = options.names;
    using store = openStore(options.db, { create: false });
    const { folder } = renameRunAndFolder(store, oldName, newName);
    if (options.json) printJson({ database: store.path, from: oldName, to: newName, folder });
    else process.stdout.write(`renamed ${oldName} to ${newName}; ${describeFolder(folder)}\n`);
  },
});

function tagCommand(name: "tag" | "untag") {
  return musiqueCommand({
    name: `runs ${name}`,
    description: name === "tag" ? "Add tags to runs (--tag T, repeatable)" : "Remove tags from runs (--tag T, repeatable)",
    schema: RunsTagSchema,
    run: (options) => {
      using store = openStore(options.db, { create: false });
      const runs = requireRuns(store, options.runs);
      const ids = runs.map((run) => run.id);
      const changed = name === "tag" ? addTags(store, ids, options.tag) : removeTags(store, ids, options.tag);
      const verb = name === "tag" ? "tagged" : "untagged";
      if (options.json) printJson({ database: store.path, runs: runs.map((run) => run.name), tags: options.tag, changed });
      else
        process.stdout.write(`${verb} ${runs.map((run) => run.name).join(", ")}: ${options.tag.join(", ")} (${changed} change${changed === 1 ? "" : "s"})\n`);
    },
  });
}

export const RUN_ACTIONS = { rm: remove, rename, tag: tagCommand("tag"), untag: tagCommand("untag") };
