import { describe, expect, test } from "bun:test";
import { StoreError } from "../../src/errors.ts";
import { packRecord, unpackRecord } from "../../src/store/packed-rows.ts";
import type { ExampleRows } from "../../src/store/results.ts";

const ROWS: ExampleRows = {
  step: -1,
  exampleId: "2hop__1_2",
  prediction: [
    -1,
    "2hop__1_2",
    2,
    "Paris",
    '["Paris"]',
    1,
    0.5,
    null,
    2 ** 53 - 1,
    -0.25,
    "{}",
    "[]",
    2,
    "ok",
    null,
    '{"hops":[]}',
    "2026-11-29T00:00:00.000Z",
  ],
  calls: [
    [
      "generate_query",
      0,
      0,
      '[{"role":"user","content":"line\\nbreak"}]',
      "raw\ntext with\nnewlines",
      null,
      "ok",
      null,
      "stop",
      0,
      10,
      5,
      51.5,
      "http://x/v1",
      1,
      0,
      "t",
      "chat",
      null,
    ],
    ["answer", -1, 0, "", "", "", "parse_error", "emoji 🙂 and 東京 and \u2028", null, 1, null, null, 0, null, 0, 1, "t", "json_object", "[]"],
  ],
};

describe("packed rows (the writer thread's message)", () => {
  test("a record survives packing: ids, nulls, numbers, empty strings, newlines, emoji and rows of any length", () => {
    const message = packRecord(7, 3, ROWS);
    expect(typeof message).toBe("string");
    expect(unpackRecord(message)).toEqual({ id: 7, runId: 3, rows: ROWS });
  });

  test("an example without module calls keeps only its prediction", () => {
    const rows: ExampleRows = { ...ROWS, calls: [] };
    expect(unpackRecord(packRecord(1, 1, rows)).rows).toEqual(rows);
  });

  test("a message without a valid header is refused as a store error", () => {
    expect(() => unpackRecord('{"not":"a header"}\nxyz')).toThrow(StoreError);
  });
});
