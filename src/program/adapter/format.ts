/**
 * DSPy 3.0.2 ChatAdapter.format (no demos) and format_assistant_message_content, byte for byte
 * (docs/specs/program.md §2, §4).
 */
import type { ChatMessage } from "../../lm/types.ts";
import type { Signature, SignatureField } from "./signature.ts";
import { pythonSplitLines, pythonStrip } from "./text.ts";

function fieldList(fields: readonly SignatureField[]): string {
  return fields.map((field, index) => `${index + 1}. \`${field.name}\` (${field.type}): ${field.description}`).join("\n");
}

function placeholder(field: SignatureField): string {
  const note = field.type === "bool" ? "        # note: the value you produce must be True or False" : "";
  return `[[ ## ${field.name} ## ]]\n{${field.name}}${note}`;
}

export function systemMessage(signature: Signature): string {
  const structure = [...signature.inputs, ...signature.outputs].map(placeholder);
  structure.push("[[ ## completed ## ]]");
  const objective = ["", ...pythonSplitLines(signature.instructions)].join("\n        ");
  return [
    "Your input fields are:",
    fieldList(signature.inputs),
    "Your output fields are:",
    fieldList(signature.outputs),
    "All interactions will be structured in the following way, with the appropriate values filled in.",
    "",
    structure.join("\n\n"),
    `In adhering to this structure, your objective is: ${objective}`,
  ].join("\n");
}

function outputRequirements(signature: Signature): string {
  const fields = signature.outputs
    .map((field) => `\`[[ ## ${field.name} ## ]]\`${field.type === "bool" ? " (must be formatted as a valid Python bool)" : ""}`)
    .join(", then ");
  return (
    "Respond with the corresponding output fields, starting with the field " +
    fields +
    ", and then ending with the marker for `[[ ## completed ## ]]`."
  );
}

export function userMessage(signature: Signature, inputs: Readonly<Record<string, string>>): string {
  const blocks: string[] = [""];
  for (const field of signature.inputs) {
    const value = inputs[field.name];
    if (value === undefined) continue;
    blocks.push(`[[ ## ${field.name} ## ]]\n${value}`);
  }
  blocks.push(outputRequirements(signature), "");
  return pythonStrip(blocks.join("\n\n"));
}

/** The [system, user] messages DSPy's ChatAdapter sends for these inputs. */
export function format(signature: Signature, inputs: Readonly<Record<string, string>>): ChatMessage[] {
  return [
    { role: "system", content: systemMessage(signature) },
    { role: "user", content: userMessage(signature, inputs) },
  ];
}

/**
 * The canonical assistant text for parsed outputs (what GRPO trains on). Values are strings
 * as parsed (a bool is "True"/"False", Python's str()).
 */
export function formatCompletion(signature: Signature, outputs: Readonly<Record<string, string>>): string {
  const blocks = signature.outputs.map((field) => `[[ ## ${field.name} ## ]]\n${outputs[field.name] ?? ""}`);
  return pythonStrip(blocks.join("\n\n")) + "\n\n[[ ## completed ## ]]\n";
}
