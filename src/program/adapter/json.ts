/**
 * DSPy 3.0.2's JSONAdapter, the fallback after a ChatAdapter reply that does not parse
 * (docs/specs/program.md §5): its messages, its two `response_format`s and its parse, byte for
 * byte.
 * - system: field descriptions + "Inputs will have the following structure:" (the ChatAdapter's
 *   input blocks) + "Outputs will be a JSON object with the following fields." + json.dumps of
 *   {field: "{field}"} (indent 2, ASCII) + the task description;
 * - user: the input blocks + "Respond with a JSON object in the following order of fields: …";
 * - demos: the ChatAdapter's user messages; assistant = json.dumps(outputs, indent=2);
 * - first call: response_format json_schema (strict, "DSPyProgramOutputs", every output a
 *   required string or boolean); second call: {type: "json_object"};
 * - parse: the first balanced {…} of the reply, json_repair (pyjson.ts), keep the output fields,
 *   `parse_value(v, str)` = Python str() (a list becomes its repr: "['a', 'b']"), all required.
 */
import type { ChatMessage, ResponseFormat } from "../../lm/types.ts";
import {
  fieldDescription,
  placeholder,
  STRUCTURE_INTRO,
  demoMessages,
  taskDescription,
  userContent,
  jsonOutputRequirements,
  type FieldValues,
} from "./format.ts";
import { pythonBool } from "../../text/python.ts";
import { parseBool, ParseError } from "./parse.ts";
import { firstBalancedObject, repairJson } from "./pyjson.ts";
import { PyFloat, PyInt, isPyDict, jsonDumps, pythonStr, type PyValue } from "./pyvalue.ts";
import type { Demo, Signature, SignatureField } from "./signature.ts";
import { pythonStrip } from "../../text/python.ts";
import { valuesOf } from "./values.ts";

function fieldBlocks(fields: readonly SignatureField[]): string {
  return pythonStrip(fields.map((field) => `[[ ## ${field.name} ## ]]\n{${field.name}}`).join("\n\n"));
}

function jsonSystemMessage(signature: Signature): string {
  const outputs = new Map<string, PyValue>(signature.outputs.map((field) => [field.name, placeholder(field, true)]));
  const structure = pythonStrip(
    [
      STRUCTURE_INTRO,
      "Inputs will have the following structure:",
      fieldBlocks(signature.inputs),
      "Outputs will be a JSON object with the following fields.",
      jsonDumps(outputs, { ensureAscii: true, indent: 2 }),
    ].join("\n\n"),
  );
  return `${fieldDescription(signature)}\n${structure}\n${taskDescription(signature)}`;
}

/** JSONAdapter.format_assistant_message_content: the outputs as indented JSON. */
function jsonAssistantContent(signature: Signature, values: FieldValues, missing: string | null): string {
  const outputs = new Map<string, PyValue>(signature.outputs.map((field) => [field.name, values.has(field.name) ? (values.get(field.name) ?? null) : missing]));
  return jsonDumps(outputs, { ensureAscii: true, indent: 2 });
}

/** The messages of both JSONAdapter calls (they differ only in response_format). */
export function formatJson(signature: Signature, inputs: Readonly<Record<string, string>>, demos: readonly Demo[] = []): ChatMessage[] {
  return [
    { role: "system", content: jsonSystemMessage(signature) },
    ...demoMessages(signature, demos, jsonAssistantContent),
    { role: "user", content: userContent(signature, valuesOf(inputs), "", jsonOutputRequirements(signature)) },
  ];
}

/** Python's str.title() (pydantic's default field title, with "_" → " "). */
function pythonTitle(name: string): string {
  let out = "";
  let previousCased = false;
  for (const character of name) {
    const cased = character.toLowerCase() !== character.toUpperCase();
    out += cased ? (previousCased ? character.toLowerCase() : character.toUpperCase()) : character;
    previousCased = cased;
  }
  return out.replaceAll("_", " ");
}

/** The first call's response_format: DSPy's strict schema of the output fields. */
export function jsonSchemaFormat(signature: Signature): ResponseFormat {
  const properties: Record<string, unknown> = {};
  for (const field of signature.outputs) {
    properties[field.name] = { title: pythonTitle(field.name), type: field.type === "bool" ? "boolean" : "string" };
  }
  return {
    type: "json_schema",
    json_schema: {
      schema: {
        additionalProperties: false,
        properties,
        required: signature.outputs.map((field) => field.name),
        title: "DSPyProgramOutputs",
        type: "object",
      },
      name: "DSPyProgramOutputs",
      strict: true,
    },
  };
}

export const JSON_OBJECT_FORMAT: ResponseFormat = { type: "json_object" };

/** parse_value(v, bool): pydantic's lax bool (a JSON bool, 0/1, or a word parseBool knows). */
function parseBoolValue(value: PyValue): boolean | null {
  if (typeof value === "boolean") return value;
  if (value instanceof PyInt) return value.value === 0n ? false : value.value === 1n ? true : null;
  if (value instanceof PyFloat) return value.value === 0 ? false : value.value === 1 ? true : null;
  if (typeof value === "string") return parseBool(value);
  return null;
}

/**
 * JSONAdapter.parse. On failure throws ParseError whose `rawText` is what DSPy keeps as
 * `lm_response` (the extracted {…} when there was one).
 */
export function parseJson(signature: Signature, completion: string): Record<string, string> {
  const text = firstBalancedObject(completion) ?? completion;
  const loaded = repairJson(text);
  const expected = signature.outputs.map((field) => field.name);
  if (loaded === null || typeof loaded !== "object" || !isPyDict(loaded)) {
    throw new ParseError(`${signature.name}: the JSON reply cannot be read as a JSON object`, { rawText: text, fieldsFound: {}, missing: expected });
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of loaded) {
    const field = signature.outputs.find((candidate) => candidate.name === key);
    if (!field) continue;
    if (field.type === "str") {
      fields[key] = pythonStr(value);
      continue;
    }
    const parsed = parseBoolValue(value);
    if (parsed === null) {
      throw new ParseError(`${signature.name}: field \`${key}\` must be a bool (True or False), got ${pythonStr(value)}`, {
        rawText: text,
        fieldsFound: { ...fields },
        missing: expected.filter((name) => !(name in fields)),
      });
    }
    fields[key] = pythonBool(parsed);
  }
  const missing = expected.filter((name) => !(name in fields));
  if (missing.length > 0) {
    throw new ParseError(
      `${signature.name}: the JSON reply lacks ${missing.map((name) => `\`${name}\``).join(", ")} (found: ${Object.keys(fields).join(", ") || "none"})`,
      { rawText: text, fieldsFound: fields, missing },
    );
  }
  return Object.fromEntries(expected.map((name) => [name, fields[name] ?? ""]));
}
