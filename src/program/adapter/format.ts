/**
 * DSPy 3.0.2 ChatAdapter.format and format_assistant_message_content, byte for byte
 * (docs/specs/program.md §2, §4; program files README §4):
 *   [system, user(demo), assistant(demo), …, user(main request)]
 * - system = field descriptions + field structure + task description (instructions through
 *   inspect.cleandoc, textwrap.dedent and str.splitlines);
 * - demos: every incomplete demo first (prefix line; missing outputs "Not supplied for this
 *   particular example. "), then every complete one; demos with no input or no output key are
 *   dropped; a demo's user message has no "Respond with" line.
 * The JSONAdapter (json.ts) shares the user messages and differs in the structure, the output
 * requirements and the assistant messages.
 */
import type { ChatMessage } from "../../lm/types.ts";
import type { PyValue } from "./pyvalue.ts";
import { shownDescription, type Demo, type Signature, type SignatureField } from "./signature.ts";
import { inspectCleandoc, pythonSplitLines, pythonStrip, textwrapDedent } from "../../text/python.ts";
import { formatFieldValue, valuesOf } from "./values.ts";

export type FieldValues = ReadonlyMap<string, PyValue>;

function fieldList(fields: readonly SignatureField[]): string {
  return pythonStrip(fields.map((field, index) => `${index + 1}. \`${field.name}\` (${field.type}): ${shownDescription(field)}`).join("\n"));
}

/** translate_field_type: the placeholder shown in the structure. */
export function placeholder(field: SignatureField, isOutput: boolean): string {
  const note = isOutput && field.type === "bool" ? "        # note: the value you produce must be True or False" : "";
  return `{${field.name}}${note}`;
}

function fieldBlocks(fields: readonly SignatureField[], isOutput: boolean): string {
  return pythonStrip(fields.map((field) => `[[ ## ${field.name} ## ]]\n${placeholder(field, isOutput)}`).join("\n\n"));
}

export function fieldDescription(signature: Signature): string {
  return `Your input fields are:\n${fieldList(signature.inputs)}\nYour output fields are:\n${fieldList(signature.outputs)}`;
}

export const STRUCTURE_INTRO = "All interactions will be structured in the following way, with the appropriate values filled in.";

export function taskDescription(signature: Signature): string {
  const instructions = textwrapDedent(inspectCleandoc(signature.instructions));
  return `In adhering to this structure, your objective is: ${["", ...pythonSplitLines(instructions)].join("\n        ")}`;
}

/** System messages by signature: the same text for every call of a predictor, built once. */
const systemMessages = new WeakMap<Signature, string>();

function systemMessage(signature: Signature): string {
  const known = systemMessages.get(signature);
  if (known !== undefined) return known;
  const message = buildSystemMessage(signature);
  systemMessages.set(signature, message);
  return message;
}

function buildSystemMessage(signature: Signature): string {
  const structure = pythonStrip(
    [STRUCTURE_INTRO, fieldBlocks(signature.inputs, false), fieldBlocks(signature.outputs, true), "[[ ## completed ## ]]\n"].join("\n\n"),
  );
  return `${fieldDescription(signature)}\n${structure}\n${taskDescription(signature)}`;
}

function typeNote(field: SignatureField): string {
  return field.type === "str" ? "" : ` (must be formatted as a valid Python ${field.type})`;
}

function outputRequirements(signature: Signature): string {
  const fields = signature.outputs.map((field) => `\`[[ ## ${field.name} ## ]]\`${typeNote(field)}`).join(", then ");
  return `Respond with the corresponding output fields, starting with the field ${fields}, and then ending with the marker for \`[[ ## completed ## ]]\`.`;
}

/** JSONAdapter.user_message_output_requirements. */
export function jsonOutputRequirements(signature: Signature): string {
  return `Respond with a JSON object in the following order of fields: ${signature.outputs.map((field) => `\`${field.name}\`${typeNote(field)}`).join(", then ")}.`;
}

/** format_user_message_content: the input fields present in `values`, in signature order. */
export function userContent(signature: Signature, values: FieldValues, prefix: string, requirements: string | null): string {
  const parts = [prefix];
  for (const field of signature.inputs) {
    if (!values.has(field.name)) continue;
    parts.push(`[[ ## ${field.name} ## ]]\n${formatFieldValue(field, values.get(field.name) ?? null)}`);
  }
  if (requirements !== null) parts.push(requirements);
  parts.push("");
  return pythonStrip(parts.join("\n\n"));
}

/** The main request's user message (ChatAdapter). */
function userMessage(signature: Signature, inputs: Readonly<Record<string, string>>): string {
  return userContent(signature, valuesOf(inputs), "", outputRequirements(signature));
}

const INCOMPLETE_DEMO_PREFIX = "This is an example of the task, though some input or output fields are not supplied.";
const MISSING_IN_INCOMPLETE_DEMO = "Not supplied for this particular example. ";
const MISSING_IN_COMPLETE_DEMO = "Not supplied for this conversation history message. ";

/** ChatAdapter.format_assistant_message_content over every output field. */
function assistantContent(signature: Signature, values: FieldValues, missing: string | null): string {
  const blocks = signature.outputs.map(
    (field) => `[[ ## ${field.name} ## ]]\n${formatFieldValue(field, values.has(field.name) ? (values.get(field.name) ?? null) : missing)}`,
  );
  return pythonStrip(blocks.join("\n\n")) + "\n\n[[ ## completed ## ]]\n";
}

/** How one adapter writes a demo's assistant message. */
export type AssistantWriter = (signature: Signature, values: FieldValues, missing: string | null) => string;

/** Adapter.format_demos: incomplete demos first, then complete ones; others dropped. */
export function demoMessages(signature: Signature, demos: readonly Demo[], writeAssistant: AssistantWriter): ChatMessage[] {
  const fields = [...signature.inputs, ...signature.outputs];
  const complete: Demo[] = [];
  const incomplete: Demo[] = [];
  for (const demo of demos) {
    const isComplete = fields.every((field) => demo.has(field.name) && demo.get(field.name) !== null);
    const hasInput = signature.inputs.some((field) => demo.has(field.name));
    const hasOutput = signature.outputs.some((field) => demo.has(field.name));
    if (isComplete) complete.push(demo);
    else if (hasInput && hasOutput) incomplete.push(demo);
  }
  const messages: ChatMessage[] = [];
  for (const demo of incomplete) {
    messages.push({ role: "user", content: userContent(signature, demo, INCOMPLETE_DEMO_PREFIX, null) });
    messages.push({ role: "assistant", content: writeAssistant(signature, demo, MISSING_IN_INCOMPLETE_DEMO) });
  }
  for (const demo of complete) {
    messages.push({ role: "user", content: userContent(signature, demo, "", null) });
    messages.push({ role: "assistant", content: writeAssistant(signature, demo, MISSING_IN_COMPLETE_DEMO) });
  }
  return messages;
}

/** The messages DSPy's ChatAdapter sends for these inputs (demos first, as DSPy orders them). */
export function format(signature: Signature, inputs: Readonly<Record<string, string>>, demos: readonly Demo[] = []): ChatMessage[] {
  return [
    { role: "system", content: systemMessage(signature) },
    ...demoMessages(signature, demos, assistantContent),
    { role: "user", content: userMessage(signature, inputs) },
  ];
}

/**
 * The canonical assistant text for parsed outputs (what GRPO trains on: DSPy's
 * format_finetune_data). Values are strings as parsed (a bool is "True"/"False").
 */
export function formatCompletion(signature: Signature, outputs: Readonly<Record<string, string>>): string {
  return assistantContent(signature, valuesOf(outputs), null);
}
