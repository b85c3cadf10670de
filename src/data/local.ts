/**
 * Raw rows from local files (.jsonl, .json array, .parquet), the embedded samples, and the
 * Parquet shards of the Hub cache. Validation happens in validate.ts.
 *
 * Files are read as streams of rows (already cut to the spec's slice), so a loader can turn each
 * row into an Example and drop it before the next is read: a .jsonl file is read in chunks and
 * split into lines as they arrive, a .parquet file a batch of rows at a time (parquet.ts, parquet-pages.ts). Only
 * a .json array is parsed whole (one JSON document).
 */
import { stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { join } from "node:path";
import { DataError } from "../errors.ts";
import { log } from "../log.ts";
import { parquetRowBatches, type ParquetRowsOptions } from "./parquet.ts";
import { sampleText } from "./samples.ts";
import type { FileSpec, SampleSpec, Slice } from "./spec.ts";
import { decodeUtf8, invalidUtf8Lines } from "./utf8.ts";
import { parseJsonArray, parseJsonLine, parseJsonLines, type RawRow, type RowSource } from "./validate.ts";

export interface LoadedRows extends RowSource {
  rows: RawRow[];
}

/** Rows read one at a time; the rows of the spec's slice only. */
export interface RowStream extends RowSource {
  rows: AsyncIterable<RawRow>;
}

const NEWLINE = 0x0a;

/** Rows [start, end) of a stream of rows; stops reading (and closes the source) at `end`. */
export async function* sliceRows(rows: AsyncIterable<RawRow> | Iterable<RawRow>, slice: Slice | undefined): AsyncGenerator<RawRow> {
  const start = slice?.start ?? 0;
  const end = slice?.end ?? Number.POSITIVE_INFINITY;
  if (end <= start) return;
  let position = 0;
  for await (const row of rows) {
    if (position >= start) yield row;
    position++;
    if (position >= end) return;
  }
}

function joinBytes(parts: readonly Uint8Array[], last: Uint8Array): Uint8Array {
  if (parts.length === 0) return last;
  let length = last.byteLength;
  for (const part of parts) length += part.byteLength;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  joined.set(last, offset);
  return joined;
}

/**
 * JSONL rows from chunks of bytes as they arrive (1-based line numbers; blank lines are not rows).
 * Lines are split on the newline byte (never part of a multi-byte UTF-8 character) and each line
 * is decoded on its own, so no string spans more than one line and no chunk is kept alive.
 */
export async function* jsonLineRows(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<RawRow> {
  let pending: Uint8Array[] = []; // the start of a line that continues in the next chunk
  let line = 0;
  for await (const chunk of chunks) {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end >= 0; end = chunk.indexOf(NEWLINE, start)) {
      line++;
      const row = lineRow(joinBytes(pending, chunk.subarray(start, end)), line);
      pending = [];
      start = end + 1;
      if (row) yield row;
    }
    if (start < chunk.byteLength) pending.push(chunk.slice(start));
  }
  line++;
  const row = lineRow(joinBytes(pending, new Uint8Array(0)), line);
  if (row) yield row;
}

/** One line's bytes → a row, marked when invalid UTF-8 had to be replaced. */
function lineRow(bytes: Uint8Array, line: number): RawRow | undefined {
  const { text, invalid } = decodeUtf8(bytes);
  const row = parseJsonLine(text, line);
  return row && invalid ? { ...row, invalidUtf8: true } : row;
}

/** The chunks of a file; a read error is a DataError naming the file. */
async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of Bun.file(path).stream()) yield chunk;
  } catch (error) {
    throw new DataError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`, { error });
  }
}

/** What a file is read as, for messages: a dataset (--datasets), or `musique score`'s --gold / --predictions. */
export type FileRole = "dataset" | "gold" | "predictions";

/** A DataError unless `path` is a file that exists (a directory is named as one, not as missing). */
async function ensureFile(path: string, role: FileRole): Promise<void> {
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch {
    throw new DataError(`${role} file not found: ${path}`, {
      cause: `no such file (relative paths start at ${process.cwd()})`,
      fix: role === "dataset" ? "check the path, or give a Hub spec like bdsaglam/musique,answerable,validation" : `check the path given to --${role}`,
    });
  }
  if (stats.isDirectory()) {
    throw new DataError(`${role} ${path} is a directory, not a file`, {
      fix: "give the .jsonl, .json or .parquet file inside it (e.g. " + join(path, "dev.jsonl") + ")",
    });
  }
}

/** A whole file as text; invalid UTF-8 is replaced by U+FFFD with a warning naming the lines. */
async function readText(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Bun.file(path).bytes();
  } catch (error) {
    throw new DataError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`, { error });
  }
  const { text, invalid } = decodeUtf8(bytes);
  if (invalid) {
    const lines = invalidUtf8Lines(bytes);
    const shown = lines.slice(0, 5).join(", ") + (lines.length > 5 ? ` and ${lines.length - 5} more` : "");
    log.warn(`${path} line${lines.length === 1 ? "" : "s"} ${shown}: bytes that are not valid UTF-8 were replaced by U+FFFD`);
  }
  return text;
}

/** A JSON array file, parsed whole; each record is let go once it has been handed on. */
async function* jsonArrayRows(path: string): AsyncGenerator<RawRow> {
  const rows: Array<RawRow | undefined> = parseJsonArray(await readText(path), path);
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index];
    rows[index] = undefined;
    if (row) yield row;
  }
}

/** The rows of Parquet files (cut to `options.slice`), decoded a batch at a time. */
export async function* parquetRows(files: readonly string[], options: ParquetRowsOptions): AsyncGenerator<RawRow> {
  for await (const batch of parquetRowBatches(files, options)) yield* batch;
}

/** A local file's rows, cut to the spec's slice. Throws a DataError when the file is missing. */
export async function readFileRows(spec: FileSpec, role: FileRole = "dataset"): Promise<RowStream> {
  await ensureFile(spec.path, role);
  if (spec.format === "parquet") {
    const rows = parquetRows([spec.path], {
      describe: (file) => file,
      fix: "check that the file is a Parquet file in the official MuSiQue layout",
      slice: spec.slice,
    });
    return { source: spec.path, unit: "row", rows };
  }
  if (spec.format === "json") return { source: spec.path, unit: "record", rows: sliceRows(jsonArrayRows(spec.path), spec.slice) };
  return { source: spec.path, unit: "line", rows: sliceRows(jsonLineRows(fileChunks(spec.path)), spec.slice) };
}

/** The rows of an embedded sample (small: parsed at once). */
export function readSampleRows(spec: SampleSpec): LoadedRows {
  return { source: spec.sample, unit: "line", rows: parseJsonLines(sampleText(spec.sample)) };
}
