/**
 * Arbor HEAD's request models (arbor/server/api/schemas.py @2c1b904), validated the way pydantic
 * does with extra="forbid": unknown keys, missing fields and wrong types become FastAPI 422 items
 * `{"type","loc":["body",…],"msg","input"}`. Written from Arbor's source, independently of the
 * client's own key list, so the fake catches a wrong key in the client. Also the fake's small helpers.
 */

/** HEAD's error body for an uncaught exception. */
export function headError(type: string, message: string): { type: string; message: string; timestamp: string } {
  return { type, message, timestamp: new Date().toISOString() };
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

const PREFIXES = ["openai/", "huggingface/", "local:", "arbor:"];

/** Arbor's strip_prefix: openai/, huggingface/, local:, arbor: in that order. */
export function stripModelPrefix(model: string): string {
  let name = model;
  for (const prefix of PREFIXES) if (name.startsWith(prefix)) name = name.slice(prefix.length);
  return name;
}

/** YYYYMMDD in local time, as Arbor's datetime.now().strftime("%Y%m%d"). */
export function dateStamp(date: Date): string {
  return `${date.getFullYear()}${String(date.getMonth() + 1).padStart(2, "0")}${String(date.getDate()).padStart(2, "0")}`;
}

export type FieldSpec =
  | { kind: "string" | "int" | "float" | "bool" | "dict" | "any"; required?: boolean; nullable?: boolean }
  | { kind: "literal"; value: string; required?: boolean; nullable?: boolean }
  | { kind: "list"; items: FieldSpec; required?: boolean; nullable?: boolean }
  | { kind: "model"; fields: Record<string, FieldSpec>; required?: boolean; nullable?: boolean };

export interface ValidationIssue {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input: unknown;
}

const optional = <T extends FieldSpec>(spec: T): T => ({ ...spec, required: false, nullable: true });
const required = <T extends FieldSpec>(spec: T): T => ({ ...spec, required: true, nullable: false });

const int: FieldSpec = { kind: "int" };
const float: FieldSpec = { kind: "float" };
const bool: FieldSpec = { kind: "bool" };
const string: FieldSpec = { kind: "string" };
const dict: FieldSpec = { kind: "dict" };

const LORA_CONFIG: FieldSpec = {
  kind: "model",
  fields: {
    r: required(int),
    lora_alpha: required(int),
    target_modules: required({ kind: "list", items: string }),
    lora_dropout: required(float),
  },
};

/** ArborGRPOConfigRequest. */
export const TRAINER_CONFIG: FieldSpec = {
  kind: "model",
  fields: {
    temperature: optional(float),
    beta: optional(float),
    num_generations: optional(int),
    per_device_train_batch_size: optional(int),
    learning_rate: optional(float),
    gradient_accumulation_steps: optional(int),
    gradient_checkpointing: optional(bool),
    lr_scheduler_type: optional(string),
    max_prompt_length: optional(int),
    max_completion_length: optional(int),
    soft_completion_penalty_length: optional(int),
    gradient_checkpointing_kwargs: optional(dict),
    bf16: optional(bool),
    scale_rewards: optional(bool),
    max_grad_norm: optional(float),
    report_to: optional(string),
    log_completions: optional(bool),
    logging_steps: optional(int),
    generation_batch_size: optional(int),
    mask_truncated_completions: optional(bool),
    async_generation_timeout: optional(float),
    max_seq_len: optional(int),
    lora_config: optional(LORA_CONFIG),
    max_steps: optional(int),
    warmup_steps: optional(int),
    loss_type: optional(string),
    num_training_gpus: optional(int),
    weight_decay: optional(float),
  },
};

/** InferenceLaunchRequest (HEAD: max_seq_len; arbor-ai 0.2.16 called it max_context_length). */
const INFERENCE_CONFIG: FieldSpec = {
  kind: "model",
  fields: {
    model: required(string),
    max_seq_len: optional(int),
    num_gpus: optional(int),
    owner: optional({ kind: "model", fields: { type: required({ kind: "literal", value: "grpo" }), job_id: required(string) } }),
    log_file_path: optional(string),
  },
};

const GPU_CONFIG: FieldSpec = {
  kind: "model",
  required: false,
  nullable: false,
  fields: {
    type: required({ kind: "literal", value: "multi" }),
    multi: required({ kind: "model", fields: { num_inference_gpus: required(int), num_training_gpus: required(int) } }),
  },
};

export const INITIALIZE_REQUEST: FieldSpec = {
  kind: "model",
  fields: {
    run_name: optional(string),
    model: required(string),
    trainer_config: required(TRAINER_CONFIG),
    inference_config: required(INFERENCE_CONFIG),
    gpu_config: GPU_CONFIG,
  },
};

export const JOB_REQUEST: FieldSpec = { kind: "model", fields: { job_id: required(string) } };

export const STEP_REQUEST: FieldSpec = {
  kind: "model",
  fields: {
    job_id: required(string),
    model: required(string),
    batch_id: required(int),
    // list[dict] | list[list[dict]]: the fake accepts either item shape here, like the union does.
    batch: required({ kind: "list", items: { kind: "any" } }),
    metrics: optional(dict),
  },
};

export const CHECKPOINT_REQUEST: FieldSpec = {
  kind: "model",
  fields: { job_id: required(string), checkpoint_name: required(string), metadata: optional(dict) },
};

const TYPE_ERRORS: Record<string, [string, string]> = {
  string: ["string_type", "Input should be a valid string"],
  int: ["int_type", "Input should be a valid integer"],
  float: ["float_type", "Input should be a valid number"],
  bool: ["bool_type", "Input should be a valid boolean"],
  dict: ["dict_type", "Input should be a valid dictionary"],
  list: ["list_type", "Input should be a valid list"],
  model: ["model_attributes_type", "Input should be a valid dictionary or object to extract fields from"],
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typeMatches(spec: FieldSpec, value: unknown): boolean {
  switch (spec.kind) {
    case "string":
      return typeof value === "string";
    case "int":
      return typeof value === "number" && Number.isInteger(value);
    case "float":
      return typeof value === "number";
    case "bool":
      return typeof value === "boolean";
    case "dict":
    case "model":
      return isRecord(value);
    case "list":
      return Array.isArray(value);
    case "literal":
      return value === spec.value;
    case "any":
      return true;
  }
}

/** All issues of `value` against `spec` at `loc` (pydantic reports every issue, not only the first). */
export function validate(spec: FieldSpec, value: unknown, loc: Array<string | number> = ["body"]): ValidationIssue[] {
  if (value === null && spec.nullable) return [];
  if (!typeMatches(spec, value)) {
    if (spec.kind === "literal") {
      return [{ type: "literal_error", loc, msg: `Input should be '${spec.value}'`, input: value }];
    }
    const [type, msg] = TYPE_ERRORS[spec.kind] ?? ["value_error", "Invalid input"];
    return [{ type, loc, msg, input: value }];
  }
  if (spec.kind === "list") {
    return (value as unknown[]).flatMap((item, index) => validate(spec.items, item, [...loc, index]));
  }
  if (spec.kind !== "model") return [];
  const record = value as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  for (const [name, field] of Object.entries(spec.fields)) {
    if (!(name in record)) {
      if (field.required) issues.push({ type: "missing", loc: [...loc, name], msg: "Field required", input: record });
      continue;
    }
    issues.push(...validate(field, record[name], [...loc, name]));
  }
  for (const name of Object.keys(record)) {
    if (!(name in spec.fields)) {
      issues.push({ type: "extra_forbidden", loc: [...loc, name], msg: "Extra inputs are not permitted", input: record[name] });
    }
  }
  return issues;
}
