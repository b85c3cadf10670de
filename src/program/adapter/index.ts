/** DSPy 3.0.2 ChatAdapter: signatures, format (byte-exact prompts) and parse. */
export { chainOfThought, defaultInstructions, type FieldType, type Signature, type SignatureField } from "./signature.ts";
export { format, formatCompletion, systemMessage, userMessage } from "./format.ts";
export { ParseError, parse, parseBool, pythonBool, sections } from "./parse.ts";
export { pythonSplitLines, pythonStrip } from "./text.ts";
