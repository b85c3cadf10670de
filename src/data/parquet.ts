/**
 * Parquet files (local, or the Hub cache's shards) → raw rows, a batch at a time.
 *
 * Peak memory matters (a train split is 20,000 rows of 20 paragraphs each), so nothing holds the
 * whole file or all its rows: the file is read by byte range (footer, then pages as they are
 * needed) and rows are decoded BATCH_ROWS at a time, also inside a large row group
 * (parquet-pages.ts). The caller turns each batch into Examples before the next is decoded. A
 * slice is pushed down: row groups outside it are skipped and reading stops at its end.
 */
import { open, type FileHandle } from "node:fs/promises";
import { parquetMetadataAsync, type AsyncBuffer, type FileMetaData } from "hyparquet";
import { DataError } from "../errors.ts";
import { rowGroupRows, utf8Watch } from "./parquet-pages.ts";
import type { Slice } from "./spec.ts";
import { holdsReplacement } from "./utf8.ts";
import type { RawRow } from "./validate.ts";

/** Rows decoded at once (a row group is read in batches of this many rows). */
const BATCH_ROWS = 500;

/** An AsyncBuffer that reads byte ranges of an open file (the file is never read whole). */
function fileBuffer(handle: FileHandle, byteLength: number): AsyncBuffer {
  return {
    byteLength,
    async slice(start: number, end = byteLength): Promise<ArrayBuffer> {
      const length = Math.max(0, end - start);
      const bytes = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(bytes, filled, length - filled, start + filled);
        if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${start + filled}`);
        filled += bytesRead;
      }
      return bytes.buffer;
    },
  };
}

/** Messages of hyparquet and of our page reader that mean "this is not (all) a Parquet file". */
const NOT_PARQUET = /footer != PAR1|too short|unexpected end of file|cut short/;

/**
 * A Parquet file that cannot be decoded: named, said to be corrupt (or not Parquet at all), with
 * the decoder's own words only at --log-level debug (they are internal: "cannot copy from before
 * start of buffer", "undefined is not an object …").
 */
function corruptParquet(name: string, fix: string, error: unknown): DataError {
  const detail = error instanceof Error ? error.message : String(error);
  const notParquet = NOT_PARQUET.test(detail);
  return new DataError(`${name}: cannot read it as Parquet: ${notParquet ? "it is not a Parquet file or it is cut short" : "the file is corrupt"}`, {
    cause: notParquet
      ? "a Parquet file ends with the PAR1 footer and its metadata; this one does not (an incomplete copy or download?)"
      : "a page or its metadata does not decode (a damaged or incomplete copy?)",
    fix,
    error,
  });
}

export interface ParquetRowsOptions {
  /** How a file is named in messages (a local path, or a Hub spec and its cached file). */
  describe: (file: string) => string;
  /** The fix offered when a file cannot be read as Parquet. */
  fix: string;
  /**
   * Rows [start, end) counted across all files: row groups outside it are skipped, rows before it
   * in its first row group are decoded and dropped, nothing after its end is read.
   */
  slice?: Slice | undefined;
  /** Rows decoded at once (default BATCH_ROWS). */
  batchRows?: number | undefined;
}

/**
 * The rows of Parquet files (in order), numbered from 1 across all files, one batch at a time:
 * each yielded array is a fresh batch the caller may consume and drop.
 */
export async function* parquetRowBatches(files: readonly string[], options: ParquetRowsOptions): AsyncGenerator<RawRow[]> {
  const sliceStart = options.slice?.start ?? 0;
  const sliceEnd = options.slice?.end ?? Number.POSITIVE_INFINITY;
  let offset = 0; // rows in the files before this one
  for (const file of files) {
    if (offset >= sliceEnd) return;
    const failure = (error: unknown): DataError => corruptParquet(options.describe(file), options.fix, error);
    let handle: FileHandle;
    try {
      handle = await open(file, "r");
    } catch (error) {
      throw new DataError(`cannot open ${options.describe(file)}: ${error instanceof Error ? error.message : String(error)}`, {
        fix: options.fix,
        error,
      });
    }
    const watch = utf8Watch();
    try {
      let buffer: AsyncBuffer;
      let metadata: FileMetaData;
      try {
        buffer = fileBuffer(handle, (await handle.stat()).size);
        metadata = await parquetMetadataAsync(buffer);
      } catch (error) {
        throw failure(error);
      }
      for (const [groupIndex, group] of metadata.row_groups.entries()) {
        const groupRows = Number(group.num_rows);
        const range = { from: Math.max(0, sliceStart - offset), to: Math.min(groupRows, sliceEnd - offset) };
        if (range.from < range.to) {
          let first = offset + range.from + 1;
          const batches = rowGroupRows(buffer, metadata, groupIndex, range, options.batchRows ?? BATCH_ROWS, watch.parsers);
          for (;;) {
            let next: IteratorResult<Record<string, unknown>[]>;
            try {
              next = await batches.next();
            } catch (error) {
              throw failure(error);
            }
            if (next.done) break;
            // Once a string needed U+FFFD replacements, rows holding U+FFFD are flagged (a dictionary
            // page may be decoded batches before the rows that use its values).
            const rows: RawRow[] = next.value.map((value, index) =>
              watch.invalid > 0 && holdsReplacement(value) ? { row: first + index, value, invalidUtf8: true } : { row: first + index, value },
            );
            first += rows.length;
            yield rows;
          }
        }
        offset += groupRows;
        if (offset >= sliceEnd) return;
      }
    } finally {
      await handle.close();
    }
  }
}
