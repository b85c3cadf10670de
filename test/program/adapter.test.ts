import { describe, expect, test } from "bun:test";
import { format, formatCompletion } from "../../src/program/adapter/index.ts";
import { DecideInfoCollection, ExtractInformation, GenerateAnswer, GenerateSearchQuery } from "../../src/program/signatures.ts";
import * as spec from "./spec-strings.ts";

const question = "Who is the spouse of the Green performer?";
const hop0 = "Green (1978) is the fourth studio album by Steve Hillage, so the Green performer is Steve Hillage.";
const documents =
  "Document ID: 5\n# Green (Steve Hillage album)\nGreen is the fourth studio album by British progressive rock musician Steve Hillage, released in 1978.\n\n" +
  "Document ID: 17\n# Steve Hillage\nSteve Hillage is an English guitarist, best known as a member of Gong.";

describe("ChatAdapter.format is byte-identical to DSPy 3.0.2 (program.md §2, §4)", () => {
  test("GenerateSearchQuery system and user messages", () => {
    const [system, user] = format(GenerateSearchQuery, { question, collected_info: hop0 });
    expect(system).toEqual({ role: "system", content: spec.generateSearchQuery.system });
    expect(user).toEqual({ role: "user", content: spec.generateSearchQuery.user });
  });

  test("ExtractInformation system and user messages", () => {
    const [system, user] = format(ExtractInformation, { question, documents });
    expect(system?.content).toBe(spec.extractInformation.system);
    expect(user?.content).toBe(spec.extractInformation.user);
  });

  test("GenerateAnswer system and user messages", () => {
    const allInformation = `${hop0}\nMiquette Giraudy is Steve Hillage's partner and musical collaborator.`;
    const [system, user] = format(GenerateAnswer, { question, all_information: allInformation });
    expect(system?.content).toBe(spec.generateAnswer.system);
    expect(user?.content).toBe(spec.generateAnswer.user);
  });

  test("DecideInfoCollection (bool output: note suffix and Python bool requirement)", () => {
    const [system, user] = format(DecideInfoCollection, {
      question,
      all_information: "Green is a 1978 album by Steve Hillage [5]",
    });
    expect(system?.content).toBe(spec.decideInfoCollection.system);
    expect(user?.content).toBe(spec.decideInfoCollection.user);
  });

  test("the reasoning line keeps its trailing space after '(str): '", () => {
    const [system] = format(GenerateAnswer, { question, all_information: "" });
    expect(system?.content).toContain("1. `reasoning` (str): \n");
  });

  test("values are inserted verbatim; only the whole user message is stripped", () => {
    const [, user] = format(GenerateAnswer, { question: "  Q?  ", all_information: "  a\n\n" });
    expect(user?.content.startsWith("[[ ## question ## ]]\n  Q?  \n\n[[ ## all_information ## ]]\n  a\n\n\n\nRespond")).toBe(true);
  });

  test("an empty all_information still renders its block", () => {
    const [, user] = format(GenerateAnswer, { question, all_information: "" });
    expect(user?.content).toContain("[[ ## all_information ## ]]\n\n\nRespond with");
  });
});

describe("formatCompletion renders the canonical assistant text", () => {
  test("GenerateSearchQuery", () => {
    const outputs = {
      reasoning: "The performer of Green is Steve Hillage. Next I need to find who Steve Hillage's spouse is.",
      search_query: "Steve Hillage spouse",
    };
    expect(formatCompletion(GenerateSearchQuery, outputs)).toBe(spec.generateSearchQuery.completion);
  });

  test("ExtractInformation", () => {
    const outputs = {
      reasoning: "Document 5 says Green is an album by Steve Hillage. Neither document names his spouse yet.",
      key_information: hop0,
    };
    expect(formatCompletion(ExtractInformation, outputs)).toBe(spec.extractInformation.completion);
  });

  test("GenerateAnswer", () => {
    const outputs = {
      reasoning: "Green was performed by Steve Hillage, whose partner is Miquette Giraudy.",
      answer: "Miquette Giraudy",
    };
    expect(formatCompletion(GenerateAnswer, outputs)).toBe(spec.generateAnswer.completion);
  });

  test("DecideInfoCollection renders the bool as Python's False", () => {
    const outputs = { reasoning: "The spouse of Steve Hillage is still unknown.", has_collected_enough_info: "False" };
    expect(formatCompletion(DecideInfoCollection, outputs)).toBe(spec.decideInfoCollection.completion);
  });

  test("an empty last field is stripped like DSPy does", () => {
    expect(formatCompletion(GenerateAnswer, { reasoning: "r", answer: "" })).toBe("[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\n\n[[ ## completed ## ]]\n");
  });
});
