/**
 * `musique export RUN… --to FILE.db`: copy runs with all their rows from --db into another
 * musique database (created if missing), to carry results off a node or share them
 * (README "Managing runs"). `--tag T` selects the runs carrying T.
 */
import { ExportSchema } from "../config/schemas.ts";
import { UsageError } from "../errors.ts";
import { copyRuns, inTransaction, openForCopy, openStore, requireRuns, runsWithTags, type RunRecord } from "../store/index.ts";
import { musiqueCommand, printJson } from "./_command.ts";
import { checkRenamesUsed, copyNames, copySummary, describeCopied } from "./_copy.ts";

export default musiqueCommand({
  name: "export",
  description: "Copy runs with all their rows into another musique database (--to FILE.db, created if missing)",
  schema: ExportSchema,
  run: (options) => {
    const tags = options.tag ?? [];
    if (options.runs.length === 0 && tags.length === 0) {
      throw new UsageError("missing argument <runs>", { fix: "name the runs to export (musique runs lists them), or --tag TAG" });
    }
    const names = copyNames(options.rename ?? [], options.prefix ?? "");
    using source = openForCopy(options.db);
    const selected = new Map<number, RunRecord>();
    for (const run of requireRuns(source, options.runs)) selected.set(run.id, run);
    if (tags.length > 0) {
      const tagged = runsWithTags(source, tags);
      if (tagged.length === 0) throw new UsageError(`no run in ${source.path} carries ${tags.join(" and ")}`, { fix: "musique runs shows the tags" });
      for (const run of tagged) selected.set(run.id, run);
    }
    using target = openStore(options.to);
    const copied = inTransaction(target, () => {
      const result = copyRuns(source, target, [...selected.values()], names);
      checkRenamesUsed(names, result);
      return result;
    });
    if (options.json) printJson({ database: target.path, runs: copied });
    else process.stdout.write(copied.map(describeCopied).join("\n") + `\n${copySummary(copied, target.path)}\n`);
  },
});
