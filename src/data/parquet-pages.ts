/**
 * The rows of one Parquet row group, decoded a batch of rows at a time.
 *
 * hyparquet's readers (parquetRead, parquetReadObjects) decode a whole column chunk before they
 * return a row, and without offset indexes a row range inside a row group still decodes the whole
 * chunk: for a 19,000-row group of MuSiQue paragraphs that is ~400 MB of transient memory. Here
 * each leaf column chunk is read from the file one page at a time, only when a batch needs its
 * rows, and decoded with hyparquet's own page decoder, value conversion and nested assembly (the
 * functions parquetRead uses). Memory is one batch of rows plus one page per column, whatever
 * the row group size; pages need not start at row boundaries.
 */
import { parquetSchema, type AsyncBuffer, type ColumnMetaData, type DecodedArray, type FileMetaData, type ParquetParsers, type SchemaTree } from "hyparquet";
import { assembleNested } from "hyparquet/src/assemble.js";
import { parquetHeader, readPage } from "hyparquet/src/column.js";
import { convert, DEFAULT_PARSERS } from "hyparquet/src/convert.js";
import { getTreePath } from "hyparquet/src/schema.js";
import { decodeUtf8 } from "./utf8.ts";

type ColumnDecoder = Parameters<typeof readPage>[2];
type PageHeader = Parameters<typeof readPage>[1];

/** Bytes read from the file at once (more when a page is larger). */
const READ_BYTES = 256 * 1024;
/** Bytes first tried for a page header (headers with large statistics get more). */
const HEADER_BYTES = 16 * 1024;

/** One leaf column chunk of a row group, read and decoded page by page. */
class LeafColumn {
  readonly path: string;
  private offset: number;
  private readonly end: number;
  private buffer = new ArrayBuffer(0);
  private bufferStart = 0;
  private dictionary: DecodedArray | undefined;
  /** Decoded rows not taken yet; in a repeated column the last may continue on the next page. */
  private rows: unknown[] = [];
  private finished = false;

  constructor(
    private readonly file: AsyncBuffer,
    meta: ColumnMetaData,
    private readonly decoder: ColumnDecoder,
  ) {
    this.path = meta.path_in_schema.join(".");
    this.offset = Number(meta.dictionary_page_offset || meta.data_page_offset);
    this.end = this.offset + Number(meta.total_compressed_size);
  }

  /** The next `count` rows of the column. */
  async take(count: number): Promise<unknown[]> {
    while (this.complete() < count && !this.finished) await this.readPage();
    if (this.complete() < count) throw new Error(`parquet column ${this.path} has fewer rows than its row group`);
    const taken = this.rows.slice(0, count);
    this.rows = this.rows.slice(count);
    return taken;
  }

  /** Rows that no later page can add to (the last row is open until the next row or the end). */
  private complete(): number {
    return this.finished ? this.rows.length : Math.max(0, this.rows.length - 1);
  }

  /** A view of [offset, offset + length) of the chunk, read from the file if not buffered. */
  private async bytes(length: number): Promise<DataView> {
    const start = this.offset - this.bufferStart;
    if (start < 0 || start + length > this.buffer.byteLength) {
      const size = Math.min(Math.max(length, READ_BYTES), this.end - this.offset);
      this.buffer = await this.file.slice(this.offset, this.offset + size);
      this.bufferStart = this.offset;
      if (this.buffer.byteLength < length) throw new Error(`parquet column ${this.path} is cut short`);
      return new DataView(this.buffer, 0, length);
    }
    return new DataView(this.buffer, start, length);
  }

  private async header(): Promise<{ header: PageHeader; length: number }> {
    const remaining = this.end - this.offset;
    for (let window = Math.min(HEADER_BYTES, remaining); ; window = Math.min(window * 8, remaining)) {
      const reader = { view: await this.bytes(window), offset: 0 };
      try {
        return { header: parquetHeader(reader), length: reader.offset };
      } catch (error) {
        if (window >= remaining) throw error; // not a header cut short by the window: a broken file
      }
    }
  }

  private async readPage(): Promise<void> {
    if (this.offset >= this.end) {
      this.finished = true;
      return;
    }
    const { header, length } = await this.header();
    const reader = { view: await this.bytes(length + header.compressed_page_size), offset: length };
    this.offset += length + header.compressed_page_size;
    if (header.type === "DICTIONARY_PAGE") {
      const { data } = readPage(reader, header, this.decoder, undefined, undefined, 0);
      if (data) this.dictionary = convert(data, this.decoder);
      return;
    }
    // A repeated column appends to `rows` (continuing its last row); a flat one may return new values.
    const { data } = readPage(reader, header, this.decoder, this.dictionary, this.rows, 0);
    if (data !== undefined && data !== this.rows) {
      for (let index = 0; index < data.length; index++) this.rows.push(data[index]);
    }
  }
}

/** Parsers that decode strings like hyparquet's, counting the strings that held invalid UTF-8. */
export interface Utf8Watch {
  parsers: ParquetParsers;
  /** Strings decoded with U+FFFD replacements so far. */
  invalid: number;
}

export function utf8Watch(): Utf8Watch {
  const watch: Utf8Watch = {
    invalid: 0,
    parsers: {
      ...DEFAULT_PARSERS,
      stringFromBytes(bytes: Uint8Array | undefined) {
        if (!bytes) return bytes;
        const { text, invalid } = decodeUtf8(bytes);
        if (invalid) watch.invalid++;
        return text;
      },
    },
  };
  return watch;
}

function leafColumns(file: AsyncBuffer, metadata: FileMetaData, schema: SchemaTree, groupIndex: number, parsers: ParquetParsers): LeafColumn[] {
  const group = metadata.row_groups[groupIndex];
  if (!group) throw new Error(`parquet has no row group ${groupIndex}`);
  return group.columns.map((chunk) => {
    const meta = chunk.meta_data;
    if (!meta) throw new Error("parquet column metadata is undefined");
    if (chunk.file_path) throw new Error("parquet file_path not supported");
    const schemaPath = getTreePath(schema, meta.path_in_schema);
    const element = schemaPath[schemaPath.length - 1]?.element;
    if (!element) throw new Error(`parquet column ${meta.path_in_schema.join(".")} is not in the schema`);
    return new LeafColumn(file, meta, {
      pathInSchema: meta.path_in_schema,
      element,
      schemaPath,
      type: meta.type,
      codec: meta.codec,
      parsers,
    });
  });
}

/** Leaf columns (by dotted path) of `count` rows → row objects keyed by top-level column. */
function assembleRows(schema: SchemaTree, leaves: Map<string, unknown[]>, count: number): Record<string, unknown>[] {
  const columns: Array<[string, ArrayLike<unknown>]> = [];
  for (const child of schema.children) {
    const name = child.element.name;
    if (child.children.length === 0) {
      const data = leaves.get(name);
      if (data) columns.push([name, data]);
      continue;
    }
    const parts = new Map<string, DecodedArray>();
    for (const [path, data] of leaves) if (path.startsWith(`${name}.`)) parts.set(path, data);
    if (parts.size === 0) continue;
    assembleNested(parts, child, DEFAULT_PARSERS);
    const data = parts.get(name);
    if (!data) throw new Error(`parquet column ${name} was not assembled`);
    columns.push([name, data]);
  }
  const rows: Record<string, unknown>[] = new Array(count);
  for (let index = 0; index < count; index++) {
    const row: Record<string, unknown> = {};
    for (const [name, data] of columns) row[name] = data[index];
    rows[index] = row;
  }
  return rows;
}

/**
 * Rows [from, to) of row group `groupIndex` (0-based, counted inside the group) as objects,
 * `batchRows` at a time. Rows before `from` are decoded and dropped; pages after `to` are not read.
 */
export async function* rowGroupRows(
  file: AsyncBuffer,
  metadata: FileMetaData,
  groupIndex: number,
  range: { from: number; to: number },
  batchRows: number,
  parsers: ParquetParsers = DEFAULT_PARSERS,
): AsyncGenerator<Record<string, unknown>[]> {
  const schema = parquetSchema(metadata);
  const leaves = leafColumns(file, metadata, schema, groupIndex, parsers);
  let position = 0;
  while (position < range.to) {
    const count = Math.min(batchRows, position < range.from ? range.from - position : range.to - position);
    const taken = new Map<string, unknown[]>();
    for (const leaf of leaves) taken.set(leaf.path, await leaf.take(count));
    if (position >= range.from) yield assembleRows(schema, taken, count);
    position += count;
  }
}
