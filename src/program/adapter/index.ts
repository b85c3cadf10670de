/** DSPy 3.0.2 ChatAdapter and JSONAdapter: signatures, format (byte-exact prompts) and parse. */
export {
  allFields,
  chainOfThought,
  defaultInstructions,
  shownDescription,
  type Demo,
  type FieldType,
  type Predictor,
  type Signature,
  type SignatureField,
} from "./signature.ts";
export { format, formatCompletion, systemMessage, userMessage } from "./format.ts";
export { formatJson, jsonSchemaFormat, jsonSystemMessage, JSON_OBJECT_FORMAT, parseJson } from "./json.ts";
export { ParseError, parse, parseBool, sections } from "./parse.ts";
