/**
 * DSPy signatures as plain typed objects. Only the field types our signatures use are
 * supported: `str` and `bool` (DecideInfoCollection).
 */

export type FieldType = "str" | "bool";

export interface SignatureField {
  name: string;
  /** Rendered after "(type): "; "" renders as nothing (ChainOfThought's reasoning). */
  description: string;
  type: FieldType;
}

export interface Signature {
  name: string;
  /** The docstring after inspect.cleandoc (lines without their indent). */
  instructions: string;
  inputs: readonly SignatureField[];
  outputs: readonly SignatureField[];
}

/** DSPy's ChainOfThought: prepend the output `reasoning` (its desc placeholder renders empty). */
export function chainOfThought(signature: Signature): Signature {
  if (signature.outputs[0]?.name === "reasoning") return signature;
  return {
    ...signature,
    outputs: [{ name: "reasoning", description: "", type: "str" }, ...signature.outputs],
  };
}

/** DSPy's default instructions for a signature without a docstring. */
export function defaultInstructions(inputs: readonly SignatureField[], outputs: readonly SignatureField[]): string {
  const names = (fields: readonly SignatureField[]) => fields.map((field) => `\`${field.name}\``).join(", ");
  return `Given the fields ${names(inputs)}, produce the fields ${names(outputs)}.`;
}
