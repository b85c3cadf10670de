/**
 * What `musique export` and `musique import` share: reading `--rename OLD=NEW` and `--prefix`,
 * and one line per copied run.
 */
import { UsageError } from "../errors.ts";
import type { CopiedRun, CopyNames } from "../store/index.ts";
import { describeRows } from "./runs-actions.ts";

export function copyNames(rename: readonly string[], prefix: string): CopyNames {
  const map = new Map<string, string>();
  for (const entry of rename) {
    const [from, to, ...rest] = entry.split("=");
    if (!from || !to || rest.length > 0) {
      throw new UsageError(`--rename ${entry}: expected OLD=NEW`, { fix: "e.g. --rename evaluate-20250101-120000=baseline" });
    }
    if (map.has(from)) throw new UsageError(`--rename names "${from}" twice`, { fix: "give each run one new name" });
    map.set(from, to);
  }
  return { rename: map, prefix };
}

/** Refuse a --rename that named no copied run (a typo would otherwise copy the run under its old name). */
export function checkRenamesUsed(names: CopyNames, copied: readonly CopiedRun[]): void {
  const sources = new Set(copied.map((run) => run.source));
  const unused = [...names.rename.keys()].filter((name) => !sources.has(name));
  if (unused.length > 0) {
    throw new UsageError(`--rename names ${unused.map((name) => `"${name}"`).join(", ")}, which is not among the runs copied`, {
      fix: "check the run names (musique runs --db FILE lists them); nothing was copied",
    });
  }
}

export function describeCopied(run: CopiedRun): string {
  const as = run.name === run.source ? run.name : `${run.source} as ${run.name}`;
  if (run.action === "unchanged") return `unchanged ${as} (already there with the same rows)`;
  return `${run.action} ${as} (${describeRows(run.rows)})`;
}

export function copySummary(copied: readonly CopiedRun[], database: string): string {
  const count = (action: CopiedRun["action"]) => copied.filter((run) => run.action === action).length;
  return `${count("copied")} copied, ${count("updated")} updated, ${count("unchanged")} unchanged in ${database}`;
}
