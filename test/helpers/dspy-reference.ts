/**
 * The DSPy 3.0.2 reference recordings copied into test/fixtures/dspy-reference/ (gzipped JSONL;
 * see its README): readers, and the records they were made from, rebuilt from the sample fixtures.
 */
import { gunzipSync } from "bun";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./cli.ts";

export const REFERENCE_DIR = join(ROOT, "test", "fixtures", "dspy-reference");

/** The objects of `name` (a .jsonl.gz or .jsonl file under test/fixtures/dspy-reference/). */
export function referenceLines<T = Record<string, unknown>>(name: string): T[] {
  const path = join(REFERENCE_DIR, name);
  const bytes = readFileSync(path);
  const text = name.endsWith(".gz") ? new TextDecoder().decode(gunzipSync(bytes)) : bytes.toString("utf8");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}

/** The text of a file under test/fixtures/dspy-reference/ (exact bytes, for program files). */
export function referenceText(name: string): string {
  return readFileSync(join(REFERENCE_DIR, name), "utf8");
}

function fixtureRecords(file: string): Map<string, string> {
  const lines = readFileSync(join(ROOT, "test", "fixtures", file), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");
  return new Map(lines.map((line) => [(JSON.parse(line) as { id: string }).id, line]));
}

/** JSONL of the given records (by id, in this order) from the dev and train sample fixtures. */
export function recordsJsonl(ids: readonly string[]): string {
  const all = new Map([...fixtureRecords("musique_ans_dev_sample150.jsonl"), ...fixtureRecords("musique_ans_train_sample100.jsonl")]);
  return (
    ids
      .map((id) => {
        const line = all.get(id);
        if (line === undefined) throw new Error(`record ${id} is not in the sample fixtures`);
        return line;
      })
      .join("\n") + "\n"
  );
}
