import { describe, expect, test } from "bun:test";
import { applyNoise, curriculumOrder, prepareExamples, prepareWithPositions } from "../../src/data/prepare.ts";
import { deriveSeed, mulberry32, shuffle } from "../../src/data/random.ts";
import { readSampleRows } from "../../src/data/local.ts";
import { validateRows } from "../../src/data/validate.ts";

const PINNED_SHUFFLE = [4, 7, 2, 3, 0, 8, 5, 6, 1, 9];
const sample = readSampleRows({ kind: "sample", text: "sample", sample: "sample", slice: undefined });
const examples = validateRows(sample.rows, sample, false).examples;

describe("seeded randomness", () => {
  test("mulberry32 gives the same sequence for the same seed (pinned values, identical on every machine)", () => {
    const random = mulberry32(89);
    const values = Array.from({ length: 3 }, () => random());
    expect(values).toEqual(Array.from({ length: 3 }, mulberry32(89)));
    // Pinned: a change here changes every shuffle and every noise filter.
    expect(values.map((value) => value.toFixed(8))).toEqual(["0.92477152", "0.18605171", "0.86722800"]);
    expect(shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 89)).toEqual(PINNED_SHUFFLE);
  });

  test("shuffle is a permutation, stable per seed, different across seeds, and leaves its input alone", () => {
    const items = Array.from({ length: 50 }, (_, index) => index);
    const once = shuffle(items, 89);
    expect(shuffle(items, 89)).toEqual(once);
    expect(shuffle(items, 90)).not.toEqual(once);
    expect([...once].sort((a, b) => a - b)).toEqual(items);
    expect(items[0]).toBe(0);
  });

  test("derived seeds depend on the key and the seed", () => {
    expect(deriveSeed(89, "a")).toBe(deriveSeed(89, "a"));
    expect(deriveSeed(89, "a")).not.toBe(deriveSeed(89, "b"));
    expect(deriveSeed(89, "a")).not.toBe(deriveSeed(90, "a"));
  });
});

describe("noise filter", () => {
  test("rate 1 keeps every paragraph", () => {
    expect(prepareExamples(examples, { seed: 89, noiseRate: 1 }).every((example) => example.paragraphs.length === 20)).toBe(true);
  });

  test("rate 0 keeps only the supporting paragraphs, with their original idx", () => {
    for (const example of prepareExamples(examples, { seed: 89, noiseRate: 0 })) {
      expect(example.paragraphs.every((paragraph) => paragraph.isSupporting)).toBe(true);
      expect(example.paragraphs.map((paragraph) => String(paragraph.idx))).toEqual(example.supportingIds);
    }
  });

  test("every supporting paragraph survives any rate; kept paragraphs stay in original order", () => {
    for (const example of prepareExamples(examples, { seed: 7, noiseRate: 0.3 })) {
      const kept = example.paragraphs.map((paragraph) => paragraph.idx);
      expect(kept).toEqual([...kept].sort((a, b) => a - b));
      expect(example.supportingIds.every((id) => kept.includes(Number(id)))).toBe(true);
    }
  });

  test("the same seed gives the same result; the result does not depend on example order", () => {
    const a = prepareExamples(examples, { seed: 3, noiseRate: 0.5 });
    const b = prepareExamples(examples, { seed: 3, noiseRate: 0.5 });
    expect(a).toEqual(b);
    const reversed = [...examples].reverse();
    const byId = new Map(a.map((example) => [example.id, example.paragraphs.map((paragraph) => paragraph.idx)]));
    for (const example of reversed.slice(0, 20)) {
      const kept = applyNoise(example, 0.5, 3).paragraphs.map((paragraph) => paragraph.idx);
      expect(kept).toEqual(byId.get(example.id) ?? []);
    }
  });

  test("over many seeds the kept fraction of distractors is close to the rate", () => {
    for (const rate of [0.2, 0.5, 0.8]) {
      let kept = 0;
      let total = 0;
      for (let seed = 0; seed < 40; seed++) {
        for (const example of examples) {
          const filtered = applyNoise(example, rate, seed);
          kept += filtered.paragraphs.filter((paragraph) => !paragraph.isSupporting).length;
          total += example.paragraphs.filter((paragraph) => !paragraph.isSupporting).length;
        }
      }
      // ~106,000 coin flips: the standard error is ~0.0015, so 0.01 is a wide margin.
      expect(Math.abs(kept / total - rate)).toBeLessThan(0.01);
    }
  });
});

describe("preparation order", () => {
  test("shuffle then size: the first N of the shuffled order, the same for the same seed", () => {
    const all = prepareExamples(examples, { seed: 89, noiseRate: 1 });
    const ten = prepareExamples(examples, { seed: 89, noiseRate: 1, size: 10 });
    expect(ten.map((example) => example.id)).toEqual(all.slice(0, 10).map((example) => example.id));
    expect(all.map((example) => example.id)).not.toEqual(examples.map((example) => example.id));
  });

  test("curriculum sorts by hop count, 2-hop first, keeping the shuffled order within a hop count", () => {
    const shuffled = prepareExamples(examples, { seed: 89, noiseRate: 1 });
    const sorted = prepareExamples(examples, { seed: 89, noiseRate: 1, curriculum: true });
    expect(sorted.map((example) => example.nHops)).toEqual(shuffled.map((example) => example.nHops).sort((a, b) => a - b));
    for (const hops of [2, 3, 4]) {
      const ids = (list: typeof examples) => list.filter((example) => example.nHops === hops).map((example) => example.id);
      expect(ids(sorted)).toEqual(ids(shuffled));
    }
  });

  test("curriculumOrder is stable", () => {
    const items = [
      { nHops: 3, name: "a" },
      { nHops: 2, name: "b" },
      { nHops: 3, name: "c" },
      { nHops: 2, name: "d" },
    ];
    expect(curriculumOrder(items).map((item) => item.name)).toEqual(["b", "d", "a", "c"]);
  });

  test("positions point back to the input examples", () => {
    const { examples: prepared, positions } = prepareWithPositions(examples, { seed: 5, noiseRate: 1, size: 30 });
    prepared.forEach((example, index) => expect(examples[positions[index] ?? -1]?.id).toBe(example.id));
  });
});
