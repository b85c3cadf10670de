/**
 * Loading reads files as streams of rows (never the whole file, never all raw rows at once):
 * JSONL line by line as chunks arrive, Parquet a batch of rows (a few pages) at a time. These
 * tests pin that the streamed rows are exactly what reading everything at once gives.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deepEquals } from "bun";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";
import { loadExamples } from "../../src/data/index.ts";
import { jsonLineRows } from "../../src/data/local.ts";
import { parquetRowBatches } from "../../src/data/parquet.ts";
import { parseJsonLines, type RawRow } from "../../src/data/validate.ts";
import { DataError } from "../../src/errors.ts";
import { MUSIQUE_PARQUET_SCHEMA, readRecords, type MusiqueRecord } from "../fakes/hub.ts";

const DEV = join(import.meta.dir, "..", "fixtures", "musique_ans_dev_sample150.jsonl");
const records = await readRecords(DEV);
const directory = await mkdtemp(join(tmpdir(), "musique-streaming-"));
afterAll(() => rm(directory, { recursive: true, force: true }));

const base = { seed: 89, noiseRate: 1, skipInvalid: false, env: { HF_HUB_OFFLINE: "1" } };

async function write(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(directory, name);
  await Bun.write(path, content);
  return path;
}

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < bytes.byteLength; start += size) yield bytes.slice(start, start + size);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function big(value: unknown): unknown {
  return typeof value === "number" && Number.isInteger(value) ? BigInt(value) : value;
}

/** Records → Parquet in the Hub's layout, with small row groups and pages. */
function smallPagesParquet(rows: readonly MusiqueRecord[], rowGroupSize: number, pageSize: number): Uint8Array {
  const list = (value: unknown): Array<Record<string, unknown>> => value as Array<Record<string, unknown>>;
  const columnData = [
    { name: "id", data: rows.map((row) => row.id) },
    { name: "paragraphs", data: rows.map((row) => list(row.paragraphs).map((p) => ({ ...p, idx: big(p.idx) }))) },
    { name: "question", data: rows.map((row) => row.question) },
    {
      name: "question_decomposition",
      data: rows.map((row) => list(row.question_decomposition).map((s) => ({ ...s, id: big(s.id), paragraph_support_idx: big(s.paragraph_support_idx) }))),
    },
    { name: "answer", data: rows.map((row) => row.answer) },
    { name: "answer_aliases", data: rows.map((row) => row.answer_aliases) },
    { name: "answerable", data: rows.map((row) => row.answerable) },
  ];
  const options = { columnData, schema: MUSIQUE_PARQUET_SCHEMA, rowGroupSize, pageSize };
  return new Uint8Array(parquetWriteBuffer(options as unknown as Parameters<typeof parquetWriteBuffer>[0]));
}

describe("JSONL is split into lines as chunks arrive", () => {
  const text = [JSON.stringify(records[0]), "", '{"id": "café — 東京 🎉", "x": "naïve"}\r', "   ", '{"broken": ', JSON.stringify(records[1])].join("\n");
  const bytes = new TextEncoder().encode(text);

  for (const size of [1, 2, 3, 7, 64, 4096, bytes.byteLength]) {
    test(`chunks of ${size} bytes give the rows and line numbers of the whole text (multi-byte characters, CRLF, blank lines)`, async () => {
      expect(await collect(jsonLineRows(chunksOf(bytes, size)))).toEqual(parseJsonLines(text));
    });
  }

  test("a final newline adds no row; an empty input has no rows", async () => {
    const withNewline = new TextEncoder().encode(`${JSON.stringify(records[0])}\n`);
    expect((await collect(jsonLineRows(chunksOf(withNewline, 5)))).map((row) => row.row)).toEqual([1]);
    expect(await collect(jsonLineRows(chunksOf(new Uint8Array(0), 5)))).toEqual([]);
  });

  test("a bad line far into a large file is named by its line number (blank lines count)", async () => {
    const lines = Array.from({ length: 450 }, (_, index) => JSON.stringify({ ...records[index % 150], id: `2hop__copy${index}` }));
    lines.splice(9, 0, "");
    lines[400] = JSON.stringify({ ...records[0], question: 7 });
    const path = await write("big.jsonl", `${lines.join("\n")}\n`);
    await expect(loadExamples(path, base)).rejects.toThrow(`${path} line 401: field question must be a string, got 7`);
    const skipping = await loadExamples(path, { ...base, skipInvalid: true });
    expect(skipping.skipped).toBe(1);
    expect(skipping.examples.length).toBe(449);
  });

  test("a slice stops reading at its end: a bad row after it is never read", async () => {
    const lines = [JSON.stringify(records[0]), JSON.stringify(records[1]), "not json", JSON.stringify(records[2])];
    const path = await write("sliced.jsonl", lines.join("\n"));
    const result = await loadExamples(`${path}[1:2]`, base);
    expect(result.examples.map((example) => example.id)).toEqual([String(records[1]?.id)]);
  });
});

describe("Parquet is decoded a batch of rows at a time", () => {
  const first = smallPagesParquet(records.slice(0, 100), 40, 4096);
  const second = smallPagesParquet(records.slice(100), 30, 8192);

  test("the test file really has several row groups, with many pages per paragraph column", () => {
    const metadata = parquetMetadata(first.buffer as ArrayBuffer);
    expect(metadata.row_groups.map((group) => Number(group.num_rows))).toEqual([40, 40, 20]);
    const text = metadata.row_groups[0]?.columns.find((chunk) => chunk.meta_data?.path_in_schema.at(-1) === "paragraph_text");
    expect(Number(text?.meta_data?.total_uncompressed_size)).toBeGreaterThan(20 * 4096);
  });

  for (const batchRows of [1, 7, 40, 500]) {
    test(`batches of ${batchRows} rows give exactly the rows hyparquet reads at once, numbered across files`, async () => {
      const files = [await write("a.parquet", first), await write("b.parquet", second)];
      const expected = [
        ...(await parquetReadObjects({ file: first.buffer as ArrayBuffer })),
        ...(await parquetReadObjects({ file: second.buffer as ArrayBuffer })),
      ];
      const rows: RawRow[] = [];
      for await (const batch of parquetRowBatches(files, { describe: (file) => file, fix: "", batchRows })) {
        expect(batch.length).toBeLessThanOrEqual(batchRows);
        rows.push(...batch);
      }
      expect(rows.map((row) => row.row)).toEqual(expected.map((_, index) => index + 1));
      expect(
        deepEquals(
          rows.map((row) => ("value" in row ? row.value : undefined)),
          expected,
          true,
        ),
      ).toBe(true);
    });
  }

  test("a slice across row groups and files keeps rows [start, end) with their own numbers", async () => {
    const files = [await write("c.parquet", first), await write("d.parquet", second)];
    const rows: RawRow[] = [];
    for await (const batch of parquetRowBatches(files, { describe: (file) => file, fix: "", slice: { start: 35, end: 112 }, batchRows: 9 })) {
      rows.push(...batch);
    }
    expect(rows.map((row) => row.row)).toEqual(Array.from({ length: 77 }, (_, index) => index + 36));
    expect(rows.map((row) => ("value" in row ? (row.value as { id: string }).id : ""))).toEqual(records.slice(35, 112).map((record) => String(record.id)));
  });

  test("a local .parquet file with small row groups loads like the .jsonl (also sliced)", async () => {
    const path = await write("dev.parquet", smallPagesParquet(records, 40, 4096));
    expect((await loadExamples(path, base)).examples).toEqual((await loadExamples(DEV, base)).examples);
    expect((await loadExamples(`${path}[45:130]`, base)).examples).toEqual((await loadExamples(`${DEV}[45:130]`, base)).examples);
  });

  test("a bad row in a later row group names its row number", async () => {
    const bad = records.map((record, index) => (index === 97 ? { ...record, question: null } : record));
    const path = await write("bad.parquet", smallPagesParquet(bad, 40, 4096));
    await expect(loadExamples(path, base)).rejects.toThrow(`${path} row 98: field question must be a string, got null`);
  });

  test("a Parquet file with damaged pages is a DataError that names the file", async () => {
    const damaged = smallPagesParquet(records.slice(0, 50), 40, 4096);
    damaged.fill(0xff, 4, 20_000); // the footer (metadata) survives, the first pages do not
    const path = await write("damaged.parquet", damaged);
    const error = await loadExamples(path, base).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toContain(`${path}: cannot read it as Parquet`);
  });
});
