import { describe, expect, test } from "bun:test";
import { ParseError, parse, parseBool } from "../../src/program/adapter/index.ts";
import { pythonSplitLines, pythonStrip } from "../../src/text/python.ts";
import { DecideInfoCollection, GenerateAnswer } from "../../src/program/signatures.ts";
import * as spec from "./spec-strings.ts";

function parseAnswer(text: string): Record<string, string> {
  return parse(GenerateAnswer, text);
}

function failure(run: () => unknown): ParseError {
  try {
    run();
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
  throw new Error("expected a ParseError");
}

describe("ChatAdapter.parse: the verified cases of program.md §5", () => {
  test("a duplicated field: the first section wins", () => {
    const text = "[[ ## reasoning ## ]]\nr1\n[[ ## answer ## ]]\nA1\n[[ ## answer ## ]]\nA2";
    expect(parseAnswer(text)).toEqual({ reasoning: "r1", answer: "A1" });
  });

  test("an empty field before completed is valid and gives an empty string", () => {
    const text = "[[ ## reasoning ## ]]\nr\n[[ ## answer ## ]]\n\n[[ ## completed ## ]]";
    expect(parseAnswer(text)).toEqual({ reasoning: "r", answer: "" });
  });

  test("a value on the header line is stripped; text after completed is ignored", () => {
    const text = "[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]   Paris  \n\n[[ ## completed ## ]]\njunk";
    expect(parseAnswer(text).answer).toBe("Paris");
  });

  test("Windows line endings (CRLF) parse like LF", () => {
    const text = "[[ ## reasoning ## ]]\r\nline one\r\nline two\r\n\r\n[[ ## answer ## ]]\r\nParis\r\n\r\n[[ ## completed ## ]]\r\n";
    expect(parseAnswer(text)).toEqual({ reasoning: "line one\nline two", answer: "Paris" });
  });

  test("a header in the middle of a line is not a header: parse failure", () => {
    const error = failure(() => parseAnswer("[[ ## reasoning ## ]]\nr x [[ ## answer ## ]] y"));
    expect(error.missing).toEqual(["answer"]);
    expect(error.fieldsFound).toEqual({ reasoning: "r x [[ ## answer ## ]] y" });
  });
});

describe("ChatAdapter.parse: other rules", () => {
  test("the spec's canonical completions parse back to their fields", () => {
    expect(parseAnswer(spec.generateAnswer.completion)).toEqual({
      reasoning: "Green was performed by Steve Hillage, whose partner is Miquette Giraudy.",
      answer: "Miquette Giraudy",
    });
  });

  test("text before the first header is dropped", () => {
    const text = "Sure, here you go:\n\n[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\nA";
    expect(parseAnswer(text)).toEqual({ reasoning: "r", answer: "A" });
  });

  test("a header with trailing text keeps the text as the first line", () => {
    const text = "[[ ## reasoning ## ]] first\nsecond\n[[ ## answer ## ]]A";
    expect(parseAnswer(text)).toEqual({ reasoning: "first\nsecond", answer: "A" });
  });

  test("the completed marker is optional", () => {
    expect(parseAnswer("[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\nA\n")).toEqual({ reasoning: "r", answer: "A" });
  });

  test("unknown headers are ignored and end the previous section", () => {
    const text = "[[ ## reasoning ## ]]\nr\n[[ ## notes ## ]]\nn\n[[ ## answer ## ]]\nA";
    expect(parseAnswer(text)).toEqual({ reasoning: "r", answer: "A" });
  });

  test("a missing field is a ParseError carrying the raw text and the fields found", () => {
    const text = "[[ ## reasoning ## ]]\nI think it is Paris.";
    const error = failure(() => parseAnswer(text));
    expect(error.rawText).toBe(text);
    expect(error.fieldsFound).toEqual({ reasoning: "I think it is Paris." });
    expect(error.missing).toEqual(["answer"]);
    expect(error.message).toContain("`answer`");
  });

  test("a missing reasoning is a parse failure too", () => {
    expect(failure(() => parseAnswer("[[ ## answer ## ]]\nParis")).missing).toEqual(["reasoning"]);
  });

  test("an empty completion is a parse failure marked empty (DSPy: all fields None)", () => {
    const error = failure(() => parseAnswer(""));
    expect(error.empty).toBe(true);
    expect(error.missing).toEqual(["reasoning", "answer"]);
  });

  test("headers need exact single spaces and are case-sensitive", () => {
    expect(failure(() => parseAnswer("[[ ## reasoning ## ]]\nr\n[[## answer ##]]\nA")).missing).toEqual(["answer"]);
    expect(failure(() => parseAnswer("[[ ## reasoning ## ]]\nr\n[[ ## Answer ## ]]\nA")).missing).toEqual(["answer"]);
  });

  test("quirk: an indented header's rest is sliced from the unstripped line", () => {
    const text = "  [[ ## reasoning ## ]] x\n[[ ## answer ## ]]\nA";
    expect(parseAnswer(text).reasoning).toBe("]] x");
  });

  test("quirk: an indented header alone on its line leaks its last characters into the value", () => {
    expect(parseAnswer("  [[ ## reasoning ## ]]\nr\n\t[[ ## answer ## ]]\nA")).toEqual({ reasoning: "]]\nr", answer: "]\nA" });
  });

  test("Python line breaks (\\r, \\v, \\f, \\x1c, \\u2028) split lines too", () => {
    expect(parseAnswer("[[ ## reasoning ## ]]\rr\u2028[[ ## answer ## ]]\x0bA")).toEqual({ reasoning: "r", answer: "A" });
  });

  test("values keep inner blank lines but are stripped at both ends", () => {
    expect(parseAnswer("[[ ## reasoning ## ]]\n\n  a\n\n  b  \n\n[[ ## answer ## ]]\nA").reasoning).toBe("a\n\n  b");
  });
});

describe("bool fields (DecideInfoCollection)", () => {
  const decide = (value: string) =>
    parse(DecideInfoCollection, `[[ ## reasoning ## ]]\nr\n\n[[ ## has_collected_enough_info ## ]]\n${value}\n\n[[ ## completed ## ]]`);

  test.each(["True", "true", "TRUE", "yes", "Y", "on", "1", "t"])("%p parses as True", (value) => {
    expect(decide(value).has_collected_enough_info).toBe("True");
  });

  test.each(["False", "false", "No", "n", "off", "0", "F"])("%p parses as False", (value) => {
    expect(decide(value).has_collected_enough_info).toBe("False");
  });

  test("a value that is not a bool is a parse failure", () => {
    const error = failure(() => decide("maybe"));
    expect(error.message).toContain("has_collected_enough_info");
    expect(error.fieldsFound).toEqual({ reasoning: "r" });
  });

  test("parseBool returns null for anything else", () => {
    expect(parseBool("perhaps")).toBeNull();
    expect(parseBool(" True ")).toBe(true);
  });
});

describe("Python string helpers", () => {
  test("splitlines drops only a final empty piece", () => {
    expect(pythonSplitLines("a\n\nb\n")).toEqual(["a", "", "b"]);
    expect(pythonSplitLines("a\n\n")).toEqual(["a", ""]);
    expect(pythonSplitLines("")).toEqual([]);
    expect(pythonSplitLines("a\r\nb\x85c")).toEqual(["a", "b", "c"]);
  });

  test("strip removes Python whitespace (\\x1f, \\x85) but keeps \\uFEFF", () => {
    expect(pythonStrip("\x1f\x85 a \u3000")).toBe("a");
    expect(pythonStrip("\uFEFFa")).toBe("\uFEFFa");
  });
});
