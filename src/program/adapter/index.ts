/** DSPy 3.0.2 ChatAdapter and JSONAdapter: signatures, format (byte-exact prompts) and parse. */
export {
  chainOfThought,
  defaultInstructions,
  type Demo,
  type Predictor,
  type Signature,
  type SignatureField,
} from "./signature.ts";
export { format, formatCompletion } from "./format.ts";
export { formatJson, jsonSchemaFormat, JSON_OBJECT_FORMAT, parseJson } from "./json.ts";
export { ParseError, parse, parseBool } from "./parse.ts";
