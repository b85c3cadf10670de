/**
 * The data layer's entry point: dataset specs → validated, seeded, prepared `Example`s.
 *
 *   const { examples, skipped, sources } = await loadExamples("sample;bdsaglam/musique,answerable,validation[:100]", {
 *     seed: 89, noiseRate: 1, skipInvalid: false,
 *   });
 */
import type { RetryPolicy } from "../http/retry.ts";
import { DataError } from "../errors.ts";
import { log } from "../log.ts";
import type { Environment } from "./cache.ts";
import { DuplicateIds, type DuplicateRecord } from "./duplicates.ts";
import { hubShardFiles, type HubOptions } from "./hub.ts";
import { parquetRows, readFileRows, readSampleRows, sliceRows, type RowStream } from "./local.ts";
import { prepareWithPositions } from "./prepare.ts";
import { describeSpec, parseDatasetSpecs, type DatasetSpec, type HubSpec } from "./spec.ts";
import type { Example } from "./types.ts";
import { EXAMPLE_ROWS, RowValidator } from "./validate.ts";

export type { Example } from "./types.ts";
export type { DuplicateRecord } from "./duplicates.ts";
export { datasetStats, type DatasetStats, type Summary } from "./stats.ts";

export interface LoadOptions {
  /** Hub revision for every spec without its own `@revision` (undefined or "main" = latest). */
  revision?: string | undefined;
  seed: number;
  noiseRate: number;
  /** Keep the first N examples after shuffling. */
  size?: number | undefined;
  skipInvalid: boolean;
  /** Stable sort by hop count, 2-hop first. */
  curriculum?: boolean | undefined;
  /** Environment for HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_OFFLINE… (default process.env). */
  env?: Environment | undefined;
  signal?: AbortSignal | undefined;
  /** Overrides of the Hub retry policy (tests). */
  retry?: Partial<RetryPolicy> | undefined;
  /** Download progress settings (tests). */
  progress?: HubOptions["progress"];
}

export interface LoadResult {
  examples: Example[];
  /** Rows skipped as invalid (only with skipInvalid). */
  skipped: number;
  /** Records that repeat an earlier record exactly (same id, same content): dropped, listed here. */
  duplicates: DuplicateRecord[];
  /** One name per spec, in spec order (describeSpec). */
  sources: string[];
  /** For each example, the index in `sources` it came from. */
  sourceOfExample: number[];
  /** Per source: valid examples loaded (before size), rows skipped, and whether the Hub was skipped. */
  loaded: Array<{ source: string; examples: number; skipped: number; fromCache: boolean | undefined }>;
}

/** A spec's rows, cut to its slice, read one at a time (never all raw rows at once). */
async function rowsOf(spec: DatasetSpec, options: LoadOptions, env: Environment): Promise<RowStream & { fromCache?: boolean }> {
  if (spec.kind === "sample") {
    const sample = readSampleRows(spec);
    return { source: sample.source, unit: sample.unit, rows: sliceRows(sample.rows, spec.slice) };
  }
  if (spec.kind === "file") return readFileRows(spec);
  return hubRows(spec, options, env);
}

async function hubRows(spec: HubSpec, options: LoadOptions, env: Environment): Promise<RowStream & { fromCache: boolean }> {
  const hub = await hubShardFiles(spec, { env, signal: options.signal, retry: options.retry, progress: options.progress });
  const source = describeSpec({ ...spec, slice: undefined });
  const rows = parquetRows(hub.files, {
    describe: (file) => `${source} (cached file ${file})`,
    fix: `delete ${hub.dir} and run again to download it afresh`,
    slice: spec.slice,
  });
  return { source, unit: "row", rows, fromCache: hub.fromCache };
}

/** A DataError for a spec that gave no examples: an empty file or slice, or only invalid rows. */
function emptySpecError(spec: DatasetSpec, skipped: number): DataError {
  const name = describeSpec(spec);
  if (skipped > 0) {
    return new DataError(`${name}: all ${skipped} rows are invalid, no examples are left`, {
      fix: "fix the rows (run without --skip-invalid to see the first problem)",
    });
  }
  return new DataError(`${name} has no records`, {
    cause: spec.slice ? "the file or split is empty, or the slice starts past its end" : "the file or split is empty",
    fix: "check the spec (musique data SPEC describes it), or pass another --datasets",
  });
}

/** Load every spec in `specs` (joined by ';'), validate, and prepare with the seed. */
export async function loadExamples(specs: string, options: LoadOptions): Promise<LoadResult> {
  const env = options.env ?? process.env;
  const parsed = parseDatasetSpecs(specs, { revision: options.revision });
  const all: Example[] = [];
  const sourceIndex: number[] = [];
  const loaded: LoadResult["loaded"] = [];
  const ids = new DuplicateIds();
  let skipped = 0;
  for (const [index, spec] of parsed.entries()) {
    const started = performance.now();
    const raw = await rowsOf(spec, options, env);
    ids.addSource(index + 1, raw.source);
    // Each row becomes an Example (or is skipped) as soon as it is read; the raw row is dropped.
    const validator = new RowValidator(raw, options.skipInvalid, EXAMPLE_ROWS);
    let examples = 0;
    let read = 0;
    for await (const row of raw.rows) {
      read++;
      const example = validator.accept(row);
      if (example === undefined) continue;
      if (!ids.accept(example, { spec: index + 1, source: raw.source, unit: raw.unit, row: row.row })) continue;
      all.push(example);
      sourceIndex.push(index);
      examples++;
    }
    const skippedHere = validator.finish();
    if (read === 0 || read === skippedHere) throw emptySpecError(spec, skippedHere);
    skipped += skippedHere;
    loaded.push({ source: describeSpec(spec), examples, skipped: skippedHere, fromCache: raw.fromCache });
    log.debug(`${describeSpec(spec)}: ${examples} examples in ${(performance.now() - started).toFixed(0)} ms`);
  }
  const duplicates = ids.finish();
  const prepared = prepareWithPositions(all, {
    seed: options.seed,
    noiseRate: options.noiseRate,
    size: options.size,
    curriculum: options.curriculum,
  });
  return {
    examples: prepared.examples,
    skipped,
    duplicates,
    sources: parsed.map(describeSpec),
    sourceOfExample: prepared.positions.map((position) => sourceIndex[position] ?? 0),
    loaded,
  };
}
