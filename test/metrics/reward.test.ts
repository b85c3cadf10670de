import { describe, expect, test } from "bun:test";
import { FORMAT_FAILURE_REWARD, combinedReward, scoreExample } from "../../src/metrics/index.ts";

const perfect = { em: 1, f1: 1, recall: 1 };

describe("combinedReward", () => {
  test.each([
    [2, 0.92],
    [3, 1.38],
    [4, 1.84],
  ])("v1 maximum for %i hops is %d", (nHops, maximum) => {
    expect(combinedReward("v1", { ...perfect, nHops }).value).toBeCloseTo(maximum, 12);
  });

  test.each([
    [2, 1],
    [3, 1.5],
    [4, 2],
  ])("v2 maximum for %i hops is %d", (nHops, maximum) => {
    expect(combinedReward("v2", { ...perfect, nHops }).value).toBeCloseTo(maximum, 12);
  });

  test("v1 components: Answer = 0.6·EM + 0.3·F1, Base = 0.8·Answer + 0.2·Recall, ×min(n/2, 2)", () => {
    const reward = combinedReward("v1", { em: 0, f1: 0.5, recall: 0.5, nHops: 3 });
    expect(reward.components.answer).toBeCloseTo(0.15, 12);
    expect(reward.components.base).toBeCloseTo(0.8 * 0.15 + 0.1, 12);
    expect(reward.components.hopWeight).toBe(1.5);
    expect(reward.value).toBeCloseTo(1.5 * 0.22, 12);
  });

  test("v2: min(n/2, 2)·(0.9·EM + F1 + Recall)/2.9", () => {
    const reward = combinedReward("v2", { em: 1, f1: 1, recall: 0.5, nHops: 4 });
    expect(reward.value).toBeCloseTo((2 * 2.4) / 2.9, 12);
    expect(reward.components.answer).toBeNull();
  });

  test("the hop weight is capped at 2 (more than 4 hops)", () => {
    expect(combinedReward("v1", { ...perfect, nHops: 6 }).value).toBeCloseTo(1.84, 12);
  });

  test("a format failure sample is worth -1", () => {
    expect(FORMAT_FAILURE_REWARD).toBe(-1);
  });
});

describe("scoreExample", () => {
  const example = { answers: ["Digital First Media", "MediaNews Group"], supportingIds: ["1", "4"], nHops: 2 };

  test("official EM/F1 use the plain gold list, the reward the expanded one", () => {
    const score = scoreExample(example, { answer: "Digital 1st Media", retrievedIds: ["1", "4"] }, "v1");
    expect(score.em).toBe(0);
    expect(score.f1).toBeCloseTo(2 / 3, 12);
    expect(score.components.em).toBe(1);
    expect(score.components.f1).toBe(1);
    expect(score.reward).toBeCloseTo(0.92, 12);
  });

  test("recall and support F1 come from the retrieved ids", () => {
    const score = scoreExample(example, { answer: "MediaNews Group", retrievedIds: ["1", "7", "9", "4"] }, "v2");
    expect(score.em).toBe(1);
    expect(score.recall).toBe(1);
    expect(score.supportF1).toBeCloseTo((2 * 0.5 * 1) / 1.5, 12);
  });

  test("a missing answer (program failure) scores as an empty answer", () => {
    const score = scoreExample(example, { answer: null, retrievedIds: [] }, "v1");
    expect(score).toMatchObject({ em: 0, f1: 0, recall: 0, supportF1: 0, reward: 0 });
  });

  test("an example without supporting ids has recall 1", () => {
    const score = scoreExample({ ...example, supportingIds: [] }, { answer: "x", retrievedIds: ["2"] }, "v1");
    expect(score.recall).toBe(1);
    expect(score.supportF1).toBe(0);
  });
});
