import { describe, expect, test } from "bun:test";
import { exactMatch, expandGoldAnswers, f1Score, normalizeAnswer, retrievalRecall, supportF1, trainingGoldForm } from "../../src/metrics/index.ts";
import { PYTHON_PUNCTUATION } from "../../src/text/python.ts";

// Expected strings were produced by the official normalize_answer in Python 3.11.
describe("normalizeAnswer (official MuSiQue/SQuAD normalisation)", () => {
  test.each([
    ["The Theatre", "theatre"],
    ["another", "another"],
    ["An apple a day", "apple day"],
    ["U.S.", "us"],
    ["Hewlett-Packard", "hewlettpackard"],
    ["1,000", "1000"],
    ["3.5 million", "35 million"],
    ["  The   A  an  ", ""],
    ["a_the", "athe"],
  ])("%j → %j", (input, expected) => {
    expect(normalizeAnswer(input)).toBe(expected);
  });

  test("articles inside words stay (theatre, another, than, ant)", () => {
    expect(normalizeAnswer("theatre another than ant")).toBe("theatre another than ant");
  });

  test("curly quotes and em dashes are not Python string.punctuation, so they stay", () => {
    expect(normalizeAnswer("\u201cThe\u201d best \u2014 an idea")).toBe("\u201c \u201d best \u2014 idea");
    expect(normalizeAnswer("\u00abthe\u00bb")).toBe("\u00ab \u00bb");
    expect(normalizeAnswer("l\u2019an")).toBe("l\u2019");
  });

  test("a Unicode letter after 'th' is a word character: 'thé' keeps its 'th'", () => {
    expect(normalizeAnswer("th\u00e9")).toBe("th\u00e9");
  });

  test("a combining mark is not a word character in Python, so decomposed 'the\u0301' loses 'the'", () => {
    expect(normalizeAnswer("the\u0301 end")).toBe("\u0301 end");
  });

  test("whitespace is Python's str.split(): no-break and ideographic spaces separate words", () => {
    expect(normalizeAnswer("the\u00a0Beatles\u3000an")).toBe("beatles");
  });

  test("the punctuation set is exactly Python's string.punctuation", () => {
    expect(PYTHON_PUNCTUATION.length).toBe(32);
    expect(normalizeAnswer(`x${PYTHON_PUNCTUATION}y`)).toBe("xy");
  });
});

describe("exactMatch and f1Score", () => {
  test("EM ignores case, punctuation and articles", () => {
    expect(exactMatch("the Beatles!", ["Beatles"])).toBe(1);
    expect(exactMatch("Beatles band", ["Beatles"])).toBe(0);
  });

  test("EM and F1 take the best gold answer (answer + aliases)", () => {
    const golds = ["United States", "USA", "U.S."];
    expect(exactMatch("usa", golds)).toBe(1);
    expect(exactMatch("US", golds)).toBe(1);
    expect(f1Score("the United States of America", golds)).toBeCloseTo((2 * (2 / 4) * 1) / (2 / 4 + 1), 10);
  });

  test("F1 counts a repeated token only as often as the gold has it", () => {
    expect(f1Score("new new york", ["new york"])).toBeCloseTo(0.8, 10);
  });

  test("numbers are tokens like words: '1,000' matches '1000' but not '1 000'", () => {
    expect(exactMatch("1,000", ["1000"])).toBe(1);
    expect(f1Score("1 000", ["1000"])).toBe(0);
  });

  test("an empty prediction scores 0 against a non-empty gold", () => {
    expect(exactMatch("", ["Paris"])).toBe(0);
    expect(f1Score("", ["Paris"])).toBe(0);
  });

  test("F1 is 1 when both sides have no tokens (e.g. only articles), 0 when one side has none", () => {
    expect(f1Score("the", ["a"])).toBe(1);
    expect(f1Score("", [""])).toBe(1);
    expect(f1Score("the", ["Paris"])).toBe(0);
  });

  test("an empty gold list scores 0", () => {
    expect(exactMatch("Paris", [])).toBe(0);
    expect(f1Score("Paris", [])).toBe(0);
  });
});

describe("expandGoldAnswers (reference training setup's extra gold forms)", () => {
  test("adds a lower-cased form", () => {
    expect(expandGoldAnswers(["Lana Wood"])).toEqual(["Lana Wood", "lana wood"]);
  });

  test("a whole-string number word becomes its digits; inside a longer answer it stays", () => {
    expect(trainingGoldForm("Three")).toBe("3");
    expect(trainingGoldForm("ten")).toBe("10");
    expect(trainingGoldForm("season three")).toBe("season three");
  });

  test("ordinal words become 1st…9th/0th as substrings, like the reference's str.replace (Firstborn → 1stborn)", () => {
    expect(trainingGoldForm("Digital First Media")).toBe("digital 1st media");
    expect(trainingGoldForm("the zeroth law")).toBe("the 0th law");
    expect(trainingGoldForm("Ninth Symphony")).toBe("9th symphony");
    expect(trainingGoldForm("Firstborn")).toBe("1stborn");
    expect(trainingGoldForm("seconds")).toBe("2nds");
    expect(trainingGoldForm("firstly first")).toBe("1stly 1st");
  });

  test("the form is stripped like Python's strip() (the original answer keeps its spaces)", () => {
    expect(trainingGoldForm("  Lana Wood\u3000")).toBe("lana wood");
    expect(trainingGoldForm(" Three ")).toBe("3");
  });

  test("matches the expanded answers recorded for the 150 dev fixtures", async () => {
    const gold = (await Bun.file(`${import.meta.dir}/../fixtures/musique_ans_dev_sample150.jsonl`).text())
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as { id: string; answer: string; answer_aliases: string[] });
    const reference = (await Bun.file(`${import.meta.dir}/../fixtures/musique_ans_dev_sample150.bm25_reference.jsonl`).text())
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as { id: string; answers_expanded: string[] });
    expect(reference.length).toBe(gold.length);
    gold.forEach((record, index) => {
      const expanded = [...new Set(expandGoldAnswers([record.answer, ...record.answer_aliases]))].sort();
      expect({ id: record.id, expanded }).toEqual({ id: record.id, expanded: [...(reference[index]?.answers_expanded ?? [])].sort() });
    });
  });
});

describe("retrievalRecall and supportF1", () => {
  test("recall is the share of supporting ids retrieved", () => {
    expect(retrievalRecall(["3", "7", "9"], ["3", "5"])).toBe(0.5);
    expect(retrievalRecall(["3", "5"], ["3", "5"])).toBe(1);
    expect(retrievalRecall([], ["3"])).toBe(0);
  });

  test("recall is 1.0 when the example has no supporting ids (program.md §6)", () => {
    expect(retrievalRecall([], [])).toBe(1);
    expect(retrievalRecall(["1"], [])).toBe(1);
  });

  test("support F1 is set F1; both empty → 1; one empty → 0", () => {
    expect(supportF1([1, 2, 3], [2, 3])).toBeCloseTo(0.8, 10);
    expect(supportF1([2, 2, 3], [2, 3])).toBe(1);
    expect(supportF1([], [])).toBe(1);
    expect(supportF1([], [1])).toBe(0);
    expect(supportF1([1], [])).toBe(0);
  });
});
