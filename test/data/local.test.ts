import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parquetReadObjects, parquetSchema, parquetMetadata } from "hyparquet";
import { loadExamples } from "../../src/data/index.ts";
import { DataError } from "../../src/errors.ts";
import { musiqueParquet, readRecords } from "../fakes/hub.ts";

const FIXTURES = join(import.meta.dir, "..", "fixtures");
const DEV = join(FIXTURES, "musique_ans_dev_sample150.jsonl");
const records = await readRecords(DEV);
const directory = await mkdtemp(join(tmpdir(), "musique-local-"));
afterAll(() => rm(directory, { recursive: true, force: true }));

const base = { seed: 89, noiseRate: 1, skipInvalid: false, env: { HF_HUB_OFFLINE: "1" } };

async function write(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(directory, name);
  await Bun.write(path, content);
  return path;
}

function ids(list: Array<{ id: string }>): string[] {
  return list.map((item) => item.id).sort();
}

describe("local files", () => {
  test("a .jsonl file loads all its records", async () => {
    const result = await loadExamples(DEV, base);
    expect(result.examples.length).toBe(150);
    expect(result.sources).toEqual([DEV]);
    expect(result.skipped).toBe(0);
  });

  test("a .json array and a .parquet file give the same examples as the .jsonl", async () => {
    const json = await write("dev.json", JSON.stringify(records));
    const parquet = await write("dev.parquet", musiqueParquet(records));
    const fromJsonl = await loadExamples(DEV, base);
    const fromJson = await loadExamples(json, base);
    const fromParquet = await loadExamples(parquet, base);
    expect(fromJson.examples).toEqual(fromJsonl.examples);
    expect(fromParquet.examples).toEqual(fromJsonl.examples);
  });

  test("the embedded sample and sample-train load without any file (150 and 100 records)", async () => {
    const result = await loadExamples("sample;sample-train", base);
    expect(result.loaded.map((source) => [source.source, source.examples])).toEqual([
      ["sample", 150],
      ["sample-train", 100],
    ]);
    expect(ids(result.examples.filter((_, index) => result.sourceOfExample[index] === 0))).toEqual(ids(records as Array<{ id: string }>));
  });

  test("a slice keeps rows [start, end) of the file, before shuffling", async () => {
    const result = await loadExamples(`${DEV}[10:20]`, base);
    expect(ids(result.examples)).toEqual(ids((records as Array<{ id: string }>).slice(10, 20)));
  });

  test("specs are concatenated, then shuffled, then cut to size", async () => {
    const result = await loadExamples(`sample[:5];sample-train[:5]`, { ...base, size: 4 });
    expect(result.examples.length).toBe(4);
    expect(result.sources).toEqual(["sample[:5]", "sample-train[:5]"]);
    const all = await loadExamples(`sample[:5];sample-train[:5]`, base);
    expect(result.examples.map((example) => example.id)).toEqual(all.examples.slice(0, 4).map((example) => example.id));
  });

  test("a missing file is a DataError naming the path", async () => {
    const missing = join(directory, "nope.jsonl");
    const error = await loadExamples(missing, base).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toBe(`dataset file not found: ${missing}`);
  });

  test("a file that is not Parquet is a DataError", async () => {
    const fake = await write("fake.parquet", "not parquet at all");
    const error = await loadExamples(fake, base).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toContain(`${fake}: cannot read it as Parquet`);
  });

  test("a bad row in a .json file names the record number and field", async () => {
    const bad = [records[0], { ...records[1], question: null }];
    const path = await write("bad.json", JSON.stringify(bad));
    await expect(loadExamples(path, base)).rejects.toThrow(`${path} record 2: field question must be a string, got null`);
  });
});

describe("the Parquet written by the fake Hub has the Hub's layout", () => {
  const buffer = musiqueParquet(records.slice(0, 3)).buffer as ArrayBuffer;

  test("paragraphs and question_decomposition are 3-level LIST groups of structs with INT64 integers", () => {
    const schema = parquetSchema(parquetMetadata(buffer));
    const paragraphs = schema.children.find((child) => child.element.name === "paragraphs");
    expect(paragraphs?.element.converted_type).toBe("LIST");
    expect(paragraphs?.children[0]?.element).toMatchObject({ name: "list", repetition_type: "REPEATED" });
    const element = paragraphs?.children[0]?.children[0];
    expect(element?.children.map((child) => [child.element.name, child.element.type])).toEqual([
      ["idx", "INT64"],
      ["title", "BYTE_ARRAY"],
      ["paragraph_text", "BYTE_ARRAY"],
      ["is_supporting", "BOOLEAN"],
    ]);
    const aliases = schema.children.find((child) => child.element.name === "answer_aliases");
    expect(aliases?.element.converted_type).toBe("LIST");
  });

  test("hyparquet reads nested values back as objects with BigInt integers, not JSON strings", async () => {
    const rows = await parquetReadObjects({ file: buffer });
    const row = rows[0] as { paragraphs: Array<Record<string, unknown>>; question_decomposition: Array<Record<string, unknown>> };
    expect(Array.isArray(row.paragraphs)).toBe(true);
    expect(typeof row.paragraphs[0]).toBe("object");
    expect(row.paragraphs[0]?.idx).toBe(0n);
    expect(typeof row.question_decomposition[0]?.id).toBe("bigint");
    expect(Array.isArray((rows[0] as { answer_aliases: unknown }).answer_aliases)).toBe(true);
  });
});
