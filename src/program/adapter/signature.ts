/**
 * DSPy signatures and predictors as plain typed objects (program.md §1, §4; program files §4–5).
 * Only the field types our signatures use are supported: `str` and `bool` (DecideInfoCollection).
 * Instructions are kept as DSPy stores them (`__doc__`, raw); formatting applies
 * `inspect.cleandoc` like DSPy's `Signature.instructions`.
 */
import type { PyDict } from "./pyvalue.ts";

type FieldType = "str" | "bool";

export interface SignatureField {
  name: string;
  /**
   * The field's `desc`, as DSPy stores it; `${name}` (ChainOfThought's reasoning) renders as
   * nothing. Loaded from a program file by position.
   */
  description: string;
  type: FieldType;
  /** DSPy's `prefix` (saved in program files; the ChatAdapter never shows it). */
  prefix: string;
}

export interface Signature {
  name: string;
  /** The instructions as stored (raw); formatting applies inspect.cleandoc. */
  instructions: string;
  inputs: readonly SignatureField[];
  outputs: readonly SignatureField[];
}

/** A few-shot example as loaded from a program file: any keys, any JSON values. */
export type Demo = PyDict;

/** One of DSPy's named predictors: its signature and its demos. */
export interface Predictor {
  /** DSPy's `named_predictors()` name, e.g. `generate_query.predict`. */
  name: string;
  signature: Signature;
  demos: readonly Demo[];
}

/** DSPy's ChainOfThought: prepend the output `reasoning` (desc `${reasoning}`, rendered empty). */
export function chainOfThought(signature: Signature): Signature {
  if (signature.outputs[0]?.name === "reasoning") return signature;
  const reasoning: SignatureField = {
    name: "reasoning",
    description: "${reasoning}",
    type: "str",
    prefix: "Reasoning: Let's think step by step in order to",
  };
  return { ...signature, outputs: [reasoning, ...signature.outputs] };
}

/** DSPy's default instructions for a signature without a docstring. */
export function defaultInstructions(inputs: readonly SignatureField[], outputs: readonly SignatureField[]): string {
  const names = (fields: readonly SignatureField[]) => fields.map((field) => `\`${field.name}\``).join(", ");
  return `Given the fields ${names(inputs)}, produce the fields ${names(outputs)}.`;
}

/** The description the ChatAdapter shows: "" for DSPy's `${name}` placeholder. */
export function shownDescription(field: SignatureField): string {
  return field.description === `\${${field.name}}` ? "" : field.description;
}
