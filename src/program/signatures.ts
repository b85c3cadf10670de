/**
 * The program's four signatures (docs/specs/program.md §1 and §4), each wrapped in
 * ChainOfThought. Instructions are the docstrings after inspect.cleandoc. Also the program's
 * predictors (DEFAULT_PROGRAM; a DSPy program file replaces them: program-file.ts).
 */
import { chainOfThought, defaultInstructions, type Predictor, type Signature, type SignatureField } from "./adapter/index.ts";
import type { ModuleName } from "./types.ts";

const question: SignatureField = { name: "question", description: "The multi-hop question to answer", type: "str", prefix: "Question:" };
const allInformation: SignatureField = {
  name: "all_information",
  description: "All information collected during retrieval",
  type: "str",
  prefix: "All Information:",
};

export const GenerateSearchQuery: Signature = chainOfThought({
  name: "GenerateSearchQuery",
  instructions:
    "Given a multi-hop question and information collected so far, generate a search query\n" +
    "to find the next piece of information needed to answer the question.\n" +
    "Focus on entities, dates, or facts that need to be resolved step by step.",
  inputs: [question, { name: "collected_info", description: "Information collected from previous retrieval steps", type: "str", prefix: "Collected Info:" }],
  outputs: [{ name: "search_query", description: "Search query for the next retrieval step", type: "str", prefix: "Search Query:" }],
});

export const ExtractInformation: Signature = chainOfThought({
  name: "ExtractInformation",
  instructions:
    "Given a question and retrieved documents, extract the key information\n" +
    "that helps answer the question or leads to the next retrieval step.\n" +
    "Focus on entities, relationships, dates, and facts.",
  inputs: [question, { name: "documents", description: "Retrieved documents from search", type: "str", prefix: "Documents:" }],
  outputs: [{ name: "key_information", description: "Key information extracted from documents", type: "str", prefix: "Key Information:" }],
});

export const GenerateAnswer: Signature = chainOfThought({
  name: "GenerateAnswer",
  instructions:
    "Given a multi-hop question and all collected information, provide a concise answer.\n" +
    "The answer should directly address what the question asks for.\n" +
    "Be specific and use the exact entities/dates/facts from the documents.",
  inputs: [question, allInformation],
  outputs: [{ name: "answer", description: "Final answer to the question", type: "str", prefix: "Answer:" }],
});

const decideOutputs: SignatureField[] = [
  {
    name: "has_collected_enough_info",
    description: "Has enough information been collected to answer question?",
    type: "bool",
    prefix: "Has Collected Enough Info:",
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

/** The program's predictors by module: a signature and its demos (DSPy's named predictors). */
export type Program = Readonly<Record<ModuleName, Predictor>>;

/** DSPy's `named_predictors()` names, in the order DSPy lists them (decide last, as in a saved adaptive program). */
export const PREDICTOR_NAMES: Readonly<Record<ModuleName, string>> = {
  generate_query: "generate_query.predict",
  extract_information: "extract_info.predict",
  generate_answer: "generate_answer.predict",
  decide_info_collection: "decide_info_collect.predict",
};

/** The reference script's program: the docstring instructions, no demos. */
export const DEFAULT_PROGRAM: Program = {
  generate_query: { name: PREDICTOR_NAMES.generate_query, signature: GenerateSearchQuery, demos: [] },
  extract_information: { name: PREDICTOR_NAMES.extract_information, signature: ExtractInformation, demos: [] },
  generate_answer: { name: PREDICTOR_NAMES.generate_answer, signature: GenerateAnswer, demos: [] },
  decide_info_collection: { name: PREDICTOR_NAMES.decide_info_collection, signature: DecideInfoCollection, demos: [] },
};
