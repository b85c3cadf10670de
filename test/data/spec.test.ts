import { describe, expect, test } from "bun:test";
import { applySlice, describeSpec, parseDatasetSpecs } from "../../src/data/spec.ts";
import { UsageError } from "../../src/errors.ts";

function usageMessage(text: string, revision?: string): string {
  try {
    parseDatasetSpecs(text, { revision });
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).describe();
  }
  throw new Error(`"${text}" was accepted`);
}

describe("parseDatasetSpecs", () => {
  test("a Hub spec is name,config,split", () => {
    expect(parseDatasetSpecs("bdsaglam/musique,answerable,validation")).toEqual([
      {
        kind: "hub",
        text: "bdsaglam/musique,answerable,validation",
        name: "bdsaglam/musique",
        config: "answerable",
        split: "validation",
        slice: undefined,
        revision: undefined,
      },
    ]);
  });

  test("several specs are joined by ';' and keep their order", () => {
    const specs = parseDatasetSpecs("sample ; bdsaglam/musique,answerable,train;./x.jsonl;");
    expect(specs.map((spec) => spec.kind)).toEqual(["sample", "hub", "file"]);
  });

  test("slices [:end], [start:end] and [start:] are read as Python slices", () => {
    const [a, b, c] = parseDatasetSpecs("d/n,c,validation[:100];d/n,c,train[100:200];d/n,c,train[5:]");
    expect(a?.slice).toEqual({ start: 0, end: 100 });
    expect(b?.slice).toEqual({ start: 100, end: 200 });
    expect(c?.slice).toEqual({ start: 5, end: undefined });
  });

  test("@revision pins a spec; --revision fills in specs without one", () => {
    const [pinned, global] = parseDatasetSpecs("d/n,c,validation@abc123;d/n,c,train[:10]", { revision: "def456" });
    expect(pinned).toMatchObject({ kind: "hub", split: "validation", revision: "abc123" });
    expect(global).toMatchObject({ kind: "hub", split: "train", revision: "def456", slice: { start: 0, end: 10 } });
  });

  test("a slice may come before or after the @revision", () => {
    const [before, after] = parseDatasetSpecs("d/n,c,validation[:5]@abc;d/n,c,validation@abc[:5]");
    expect(before).toMatchObject({ revision: "abc", slice: { start: 0, end: 5 } });
    expect(after).toMatchObject({ revision: "abc", slice: { start: 0, end: 5 } });
  });

  test("revision main means the latest conversion (no pin)", () => {
    expect(parseDatasetSpecs("d/n,c,s@main")[0]).toMatchObject({ revision: undefined });
    expect(parseDatasetSpecs("d/n,c,s", { revision: "main" })[0]).toMatchObject({ revision: undefined });
  });

  test("local .jsonl, .json and .parquet paths are files, with an optional slice", () => {
    const specs = parseDatasetSpecs("data/dev.jsonl;/tmp/a.json;./b.PARQUET[:3]");
    expect(specs).toMatchObject([
      { kind: "file", path: "data/dev.jsonl", format: "jsonl" },
      { kind: "file", path: "/tmp/a.json", format: "json" },
      { kind: "file", path: "./b.PARQUET", format: "parquet", slice: { start: 0, end: 3 } },
    ]);
  });

  test("sample and sample-train are the embedded records", () => {
    expect(parseDatasetSpecs("sample;sample-train[:10]")).toMatchObject([
      { kind: "sample", sample: "sample" },
      { kind: "sample", sample: "sample-train", slice: { start: 0, end: 10 } },
    ]);
  });

  test("describeSpec writes the canonical form", () => {
    const specs = parseDatasetSpecs(" d/n , c , s[0:10]@abc ;sample[5:];x.json");
    expect(specs.map(describeSpec)).toEqual(["d/n,c,s[:10]@abc", "sample[5:]", "x.json"]);
  });
});

describe("bad dataset specs", () => {
  const cases: Array<[string, string]> = [
    ["bdsaglam/musique", "neither name,config,split nor a file"],
    ["bdsaglam/musique,answerable", "exactly three comma-separated parts"],
    ["a,b,c,d", "exactly three comma-separated parts"],
    ["d/n,c,validation[:-5]", "must be a whole number"],
    ["d/n,c,validation[10:5]", "ends before it starts"],
    ["d/n,c,validation[1:2:3]", "must look like [start:end]"],
    ["d/n,c,validation@", "is not a branch, tag or commit"],
    ["d/n,c,valid ation", 'split "valid ation"'],
    ["a/b/c,config,split", "is not a dataset name"],
    ["dev.csv", "neither name,config,split nor a file"],
    ["dev.jsonl@abc", "a local file cannot take @revision"],
    [";;", "no dataset spec"],
  ];
  for (const [text, reason] of cases) {
    test(`"${text}" is a usage error naming the spec and the syntax`, () => {
      const message = usageMessage(text);
      expect(message).toContain(reason);
      if (text !== ";;") expect(message).toContain(`dataset spec "${text.split(";")[0]?.trim()}"`);
      expect(message).toContain("name,config,split");
    });
  }

  test("a bad --revision is a usage error", () => {
    expect(usageMessage("d/n,c,s", "bad rev")).toContain("--revision bad rev");
  });
});

describe("applySlice", () => {
  test("keeps rows [start, end) and tolerates an end past the length", () => {
    expect(applySlice([0, 1, 2, 3, 4], { start: 1, end: 3 })).toEqual([1, 2]);
    expect(applySlice([0, 1, 2], { start: 0, end: 100 })).toEqual([0, 1, 2]);
    expect(applySlice([0, 1, 2], undefined)).toEqual([0, 1, 2]);
  });
});
