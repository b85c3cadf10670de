/**
 * Benchmark inputs made from the 150 embedded dev records: official-format records (for files)
 * and prepared Examples (for the pipeline), replicated to any count with new, unique ids. Each
 * copy gets its own paragraph list, so nothing cached per corpus is shared between copies.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadExamples } from "../src/data/index.ts";
import type { Example } from "../src/data/types.ts";

const SAMPLE_FILE = join(import.meta.dir, "..", "test", "fixtures", "musique_ans_dev_sample150.jsonl");

export type MusiqueRecord = Record<string, unknown>;

/** Copy k of an id: the shape prefix (2hop__, 3hop1__…) stays, so shapes are unchanged. */
export function copyId(id: string, copy: number): string {
  return copy === 0 ? id : `${id}__copy${copy}`;
}

async function sampleRecords(): Promise<MusiqueRecord[]> {
  const text = await Bun.file(SAMPLE_FILE).text();
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as MusiqueRecord);
}

/** `count` official-format records: the sample, then copies with new ids. */
export async function replicatedRecords(count: number): Promise<MusiqueRecord[]> {
  const base = await sampleRecords();
  return Array.from({ length: count }, (_, index) => {
    const record = base[index % base.length] as MusiqueRecord;
    return { ...record, id: copyId(String(record.id), Math.floor(index / base.length)) };
  });
}

/** `count` prepared examples (sample loaded as evaluate loads it: seed 89, all paragraphs). */
export async function replicatedExamples(count: number): Promise<Example[]> {
  const { examples } = await loadExamples("sample", { seed: 89, noiseRate: 1, skipInvalid: false });
  return Array.from({ length: count }, (_, index) => {
    const example = examples[index % examples.length] as Example;
    return {
      ...example,
      id: copyId(example.id, Math.floor(index / examples.length)),
      paragraphs: example.paragraphs.map((paragraph) => ({ ...paragraph })),
    };
  });
}

/** A fresh temporary directory under the OS temp dir. */
export function temporaryDirectory(label: string): string {
  return mkdtempSync(join(tmpdir(), `musique-bench-${label}-`));
}
