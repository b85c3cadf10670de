import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { fixQuotes } from "../../src/data/quotes.ts";

// Reference outputs produced by Python's `re` (test/fixtures/fix_quotes_reference.py) on every
// sample paragraph with TeX quotes, plus edge cases (Unicode space, letters, newlines).
const cases: Array<[string, string]> = await Bun.file(join(import.meta.dir, "../fixtures/fix_quotes_reference.json")).json();

describe("fixQuotes", () => {
  test("matches Python's re on every recorded case", () => {
    const mismatches = cases.filter(([input, expected]) => fixQuotes(input) !== expected);
    expect(mismatches).toEqual([]);
    expect(cases.length).toBeGreaterThan(200);
  });

  test("a space before `` becomes a space before the straight quote", () => {
    expect(fixQuotes("he said ``hello'' twice")).toBe('he said "hello" twice');
  });

  test("a word glued to `` keeps the word and gains a space", () => {
    expect(fixQuotes("word``quoted'' end")).toBe('word "quoted" end');
  });

  test("unpaired quotes are deleted", () => {
    expect(fixQuotes("it''s")).toBe("its");
  });
});
