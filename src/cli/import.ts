/**
 * `musique import FILE.db…`: copy every run of other musique databases (e.g. one per GPU node)
 * into --db with all their rows, so results made on several nodes merge into one database
 * (README "Managing runs"). A run already there is left as it is (or brought up to date); another
 * run with a taken name is refused unless renamed (--rename OLD=NEW, --prefix). All or nothing.
 */
import { ImportSchema } from "../config/schemas.ts";
import { copyRuns, inTransaction, openForCopy, openStore, runsWithTags, type CopiedRun } from "../store/index.ts";
import { musiqueCommand, printJson } from "./_command.ts";
import { checkRenamesUsed, copyNames, copySummary, describeCopied } from "./_copy.ts";

export default musiqueCommand({
  name: "import",
  description: "Copy every run of other musique databases into --db (merging results made on several nodes)",
  schema: ImportSchema,
  run: (options) => {
    const names = copyNames(options.rename ?? [], options.prefix ?? "");
    using target = openStore(options.db);
    const copied = inTransaction(target, () => {
      const all: Array<CopiedRun & { file: string }> = [];
      for (const file of options.files) {
        using source = openForCopy(file);
        for (const run of copyRuns(source, target, runsWithTags(source, []), names)) all.push({ file, ...run });
      }
      checkRenamesUsed(names, all);
      return all;
    });
    if (options.json) printJson({ database: target.path, runs: copied });
    else process.stdout.write(copied.map((run) => `${run.file}: ${describeCopied(run)}`).join("\n") + `\n${copySummary(copied, target.path)}\n`);
  },
});
