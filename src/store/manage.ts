/**
 * Run management in the database (README "Managing runs"): look runs up by name or tag, delete a
 * run with all its rows, rename it, tag and untag it. Output folders are src/run/manage.ts's.
 */
import { UsageError, didYouMean } from "../errors.ts";
import { guarded, inTransaction, now, type Store } from "./database.ts";
import { RUN_NAME_PATTERN } from "../config/fields.ts";
import { previousDatabaseHolds } from "./location.ts";
import { findRun, getRun, type RunRecord } from "./runs.ts";
import type { RunTagRow } from "./tables.ts";

/** The run named `name`; a name that is not there is a usage error (with a did-you-mean). */
export function requireRun(store: Store, name: string): RunRecord {
  const run = findRun(store, name);
  if (run === null) throw noSuchRun(store, name);
  return run;
}

/** Every named run, in the order named (each once); a name that is not there is a usage error. */
export function requireRuns(store: Store, names: readonly string[]): RunRecord[] {
  const runs: RunRecord[] = [];
  for (const name of new Set(names)) {
    runs.push(requireRun(store, name));
  }
  return runs;
}

/** "no run named": a did-you-mean, or where the run is when the earlier default database holds it. */
function noSuchRun(store: Store, name: string): UsageError {
  const names = guarded(store, () => store.database.query<{ name: string }, []>("SELECT name FROM runs").all()).map((row) => row.name);
  const suggestion = didYouMean(name, names);
  return new UsageError(`no run named "${name}" in ${store.path}` + (suggestion ? ` (did you mean "${suggestion}"?)` : ""), {
    fix: previousDatabaseHolds(store.path, name) ?? `list the runs with: musique runs --db ${store.path}`,
  });
}

/** The runs carrying every one of `tags` (every run for none), oldest first. */
export function runsWithTags(store: Store, tags: readonly string[]): RunRecord[] {
  const wanted = [...new Set(tags)];
  const ids = guarded(store, () =>
    store.database
      .query<{ id: number }, [string, number]>(
        `SELECT r.id AS id FROM runs r
         WHERE (SELECT COUNT(*) FROM run_tags t WHERE t.run_id = r.id AND t.tag IN (SELECT value FROM json_each(?1))) = ?2
         ORDER BY r.started_at, r.id`,
      )
      .all(JSON.stringify(wanted), wanted.length),
  );
  return ids.map((row) => getRun(store, row.id)).filter((run): run is RunRecord => run !== null);
}

/** Delete a run and every row that belongs to it (ON DELETE CASCADE), in one transaction. */
export function deleteRun(store: Store, runId: number): void {
  inTransaction(store, () => store.database.query<never, [number]>("DELETE FROM runs WHERE id = ?").run(runId));
}

/** Check a new run name: valid and not taken. */
export function checkNewRunName(store: Store, name: string): void {
  if (!RUN_NAME_PATTERN.test(name)) {
    throw new UsageError(`"${name}" is not a valid run name`, {
      fix: "use letters, digits, '.', '_' or '-' (at most 128), starting with a letter or digit",
    });
  }
  if (findRun(store, name)) {
    throw new UsageError(`a run named "${name}" already exists in ${store.path}`, { fix: "choose another name, or remove that run first" });
  }
}

export interface RunRename {
  name: string;
  /** The stored configuration with its runName replaced (and its hash), when it had one. */
  configJson?: string;
  configHash?: string;
  outputDir?: string | null;
}

/** Rename a run (and whatever else the caller moved with it) in one transaction; the new name is checked. */
export function renameRun(store: Store, runId: number, rename: RunRename): void {
  inTransaction(store, () => {
    checkNewRunName(store, rename.name);
    store.database
      .query<never, [string, string | null, string | null, number, string | null, number]>(
        `UPDATE runs SET name = ?, config_json = COALESCE(?, config_json), config_hash = COALESCE(?, config_hash),
           output_dir = CASE WHEN ? THEN ? ELSE output_dir END
         WHERE id = ?`,
      )
      .run(rename.name, rename.configJson ?? null, rename.configHash ?? null, rename.outputDir === undefined ? 0 : 1, rename.outputDir ?? null, runId);
  });
}

const TAG_PATTERN = /^[^\s,]{1,64}$/;

function checkTags(tags: readonly string[]): string[] {
  const unique = [...new Set(tags)];
  if (unique.length === 0) throw new UsageError("no tag given", { fix: "name one with --tag NAME (repeat it for several)" });
  const bad = unique.find((tag) => !TAG_PATTERN.test(tag));
  if (bad !== undefined) {
    throw new UsageError(`tag "${bad}" is not allowed`, { fix: "a tag is 1–64 characters without spaces or commas" });
  }
  return unique;
}

/** Add `tags` to each run (a tag it already has is kept); returns how many (run, tag) pairs were new. */
export function addTags(store: Store, runIds: readonly number[], tags: readonly string[]): number {
  const unique = checkTags(tags);
  return inTransaction(store, () => {
    const statement = store.database.query<never, [RunTagRow["runId"], RunTagRow["tag"], RunTagRow["createdAt"]]>(
      "INSERT INTO run_tags (run_id, tag, created_at) VALUES (?, ?, ?) ON CONFLICT (run_id, tag) DO NOTHING",
    );
    let added = 0;
    for (const runId of runIds) for (const tag of unique) added += statement.run(runId, tag, now()).changes;
    return added;
  });
}

/** Remove `tags` from each run; returns how many (run, tag) pairs were removed. */
export function removeTags(store: Store, runIds: readonly number[], tags: readonly string[]): number {
  const unique = checkTags(tags);
  return inTransaction(store, () => {
    const statement = store.database.query<never, [RunTagRow["runId"], RunTagRow["tag"]]>("DELETE FROM run_tags WHERE run_id = ? AND tag = ?");
    let removed = 0;
    for (const runId of runIds) for (const tag of unique) removed += statement.run(runId, tag).changes;
    return removed;
  });
}
