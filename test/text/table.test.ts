import { describe, expect, test } from "bun:test";
import { cutText, formatTable } from "../../src/text/table.ts";
import { hopLabel, shapesWorthShowing } from "../../src/text/labels.ts";

describe("one table printer", () => {
  test("header, rule, rows: labels left, numbers right, two spaces apart, no trailing spaces", () => {
    expect(
      formatTable(
        ["", "n", "F1"],
        [
          ["overall", "150", "0.412"],
          ["2 hops", "9", "0.5"],
        ],
      ),
    ).toBe(["           n     F1", "-------  ---  -----", "overall  150  0.412", "2 hops     9    0.5"].join("\n"));
  });

  test("labelled sections, a title and footnotes", () => {
    const text = formatTable(["", "n"], [["overall", "3"], { section: "by hop count" }, ["2 hops", "2"], ["3 hops", "1"]], {
      title: "scores",
      footnotes: ["reward = …"],
    });
    expect(text).toBe(["scores", "         n", "-------  -", "overall  3", "", "by hop count", "2 hops   2", "3 hops   1", "reward = …"].join("\n"));
  });

  test("columns are as wide as their display: a CJK cell counts two columns per character", () => {
    const lines = formatTable(
      ["title", "n"],
      [
        ["東京", "1"],
        ["Tokyo", "2"],
      ],
    ).split("\n");
    expect(lines.map((line) => Bun.stringWidth(line))).toEqual([8, 8, 8, 8]);
  });

  test("maxWidth cuts only the columns that may be cut, widest first, with …", () => {
    const text = formatTable(
      [{ header: "run", minWidth: 6 }, { header: "model", align: "left", minWidth: 6 }, "n"],
      [["a-very-long-run-name", "organisation-model-name", "3"]],
      { maxWidth: 30 },
    );
    expect(text.split("\n").every((line) => line.length <= 30)).toBe(true);
    expect(text).toContain("a-very-long…  organisation…  3");
  });

  test("cutText keeps short text and marks a cut", () => {
    expect([cutText("short", 10), cutText("a long piece of text", 10)]).toEqual(["short", "a long pi…"]);
  });
});

describe("one hop label", () => {
  test("'2 hops' from a count or a JSON key, '1 hop' singular", () => {
    expect([hopLabel(2), hopLabel("3"), hopLabel(1), hopLabel("other")]).toEqual(["2 hops", "3 hops", "1 hop", "other"]);
  });

  test("a shape gets its own row only where its hop count has several shapes", () => {
    expect(shapesWorthShowing(["2hop", "3hop1", "3hop2", "4hop1"])).toEqual(["3hop1", "3hop2"]);
  });
});
