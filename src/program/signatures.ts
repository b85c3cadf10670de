/**
 * The program's four signatures (docs/specs/program.md §1 and §4), each wrapped in
 * ChainOfThought. Instructions are the docstrings after inspect.cleandoc.
 */
import { chainOfThought, defaultInstructions, type Signature, type SignatureField } from "./adapter/index.ts";

const question: SignatureField = { name: "question", description: "The multi-hop question to answer", type: "str" };
const allInformation: SignatureField = {
  name: "all_information",
  description: "All information collected during retrieval",
  type: "str",
};

export const GenerateSearchQuery: Signature = chainOfThought({
  name: "GenerateSearchQuery",
  instructions:
    "Given a multi-hop question and information collected so far, generate a search query\n" +
    "to find the next piece of information needed to answer the question.\n" +
    "Focus on entities, dates, or facts that need to be resolved step by step.",
  inputs: [
    question,
    { name: "collected_info", description: "Information collected from previous retrieval steps", type: "str" },
  ],
  outputs: [{ name: "search_query", description: "Search query for the next retrieval step", type: "str" }],
});

export const ExtractInformation: Signature = chainOfThought({
  name: "ExtractInformation",
  instructions:
    "Given a question and retrieved documents, extract the key information\n" +
    "that helps answer the question or leads to the next retrieval step.\n" +
    "Focus on entities, relationships, dates, and facts.",
  inputs: [question, { name: "documents", description: "Retrieved documents from search", type: "str" }],
  outputs: [{ name: "key_information", description: "Key information extracted from documents", type: "str" }],
});

export const GenerateAnswer: Signature = chainOfThought({
  name: "GenerateAnswer",
  instructions:
    "Given a multi-hop question and all collected information, provide a concise answer.\n" +
    "The answer should directly address what the question asks for.\n" +
    "Be specific and use the exact entities/dates/facts from the documents.",
  inputs: [question, allInformation],
  outputs: [{ name: "answer", description: "Final answer to the question", type: "str" }],
});

const decideOutputs: SignatureField[] = [
  {
    name: "has_collected_enough_info",
    description: "Has enough information been collected to answer question?",
    type: "bool",
  },
];

/** No docstring upstream: DSPy's default instructions, computed before reasoning is prepended. */
export const DecideInfoCollection: Signature = chainOfThought({
  name: "DecideInfoCollection",
  instructions: defaultInstructions([question, allInformation], decideOutputs),
  inputs: [question, allInformation],
  outputs: decideOutputs,
});

export const NO_INFORMATION_YET = "No information collected yet";
