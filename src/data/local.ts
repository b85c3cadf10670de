/**
 * Raw rows from local files (.jsonl, .json array, .parquet), the embedded samples, and the
 * Parquet shards of the Hub cache. Validation happens in validate.ts.
 */
import { parquetReadObjects } from "hyparquet";
import { DataError } from "../errors.ts";
import { sampleText } from "./samples.ts";
import type { FileSpec, SampleSpec } from "./spec.ts";
import { parseJsonArray, parseJsonLines, type RawRow, type RowSource } from "./validate.ts";

export interface LoadedRows extends RowSource {
  rows: RawRow[];
}

/** Read Parquet files (in order) into rows numbered from 1 across all files. */
export async function readParquetRows(files: readonly string[], describe: (file: string) => string, fix: string): Promise<RawRow[]> {
  const rows: RawRow[] = [];
  for (const file of files) {
    let objects: Record<string, unknown>[];
    try {
      const buffer = await Bun.file(file).arrayBuffer();
      objects = await parquetReadObjects({ file: buffer });
    } catch (error) {
      throw new DataError(`${describe(file)}: cannot read it as Parquet (${error instanceof Error ? error.message : String(error)})`, {
        fix,
        error,
      });
    }
    for (const value of objects) rows.push({ row: rows.length + 1, value });
  }
  return rows;
}

async function readText(path: string): Promise<string> {
  const file = Bun.file(path);
  if (!(await file.exists())) {
    throw new DataError(`dataset file not found: ${path}`, {
      cause: `no such file (relative paths start at ${process.cwd()})`,
      fix: "check the path, or give a Hub spec like bdsaglam/musique,answerable,validation",
    });
  }
  try {
    return await file.text();
  } catch (error) {
    throw new DataError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`, { error });
  }
}

export async function readFileRows(spec: FileSpec): Promise<LoadedRows> {
  if (spec.format === "parquet") {
    if (!(await Bun.file(spec.path).exists())) await readText(spec.path); // throws "not found"
    const rows = await readParquetRows([spec.path], (file) => file, "check that the file is a Parquet file in the official MuSiQue layout");
    return { source: spec.path, unit: "row", rows };
  }
  const content = await readText(spec.path);
  if (spec.format === "json") return { source: spec.path, unit: "record", rows: parseJsonArray(content, spec.path) };
  return { source: spec.path, unit: "line", rows: parseJsonLines(content) };
}

export function readSampleRows(spec: SampleSpec): LoadedRows {
  return { source: spec.sample, unit: "line", rows: parseJsonLines(sampleText(spec.sample)) };
}
