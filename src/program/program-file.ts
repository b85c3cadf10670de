/**
 * DSPy program files (`program.save("program.json")`, DSPy 3.0.2 `Module.save`/`Module.load`;
 * the rules are in test/fixtures/dspy-reference/program-file/README.md §2 and §5): load one for
 * this program (`--program FILE`) and write the program a run used in the same format.
 *
 * Loading accepts what DSPy's load accepts and refuses what it refuses, with a message:
 * - the path ends in .json; `metadata.dependency_versions` exists with only python / dspy /
 *   cloudpickle keys; each of the program's predictors (generate_query.predict,
 *   extract_info.predict, generate_answer.predict; decide_info_collect.predict is optional and
 *   used with --num-hops auto) has `signature` (instructions + fields) and `lm`;
 * - instructions are kept raw (formatting applies inspect.cleandoc); field prefixes and
 *   descriptions apply by position (a shorter list leaves the rest, a longer one is cut);
 * - demos are kept as plain JSON objects (Python types: 1 and 1.0 stay apart);
 * - a predictor's `lm` block is ignored (musique's --model/--base-url apply), with a warning;
 *   unknown predictors too.
 * Writing: DSPy 3.0.2's bytes (ujson, indent 2, raw non-ASCII, "/" as "\/", no final newline),
 * `"lm": null` for every predictor (never an API key) and dependency_versions {"dspy": "3.0.2"}.
 */
import { readFileSync } from "node:fs";
import { DataError } from "../errors.ts";
import { inspectCleandoc } from "../text/python.ts";
import type { Demo, Predictor, Signature, SignatureField } from "./adapter/index.ts";
import { JsonSyntaxError, parsePythonJson } from "./adapter/pyjson.ts";
import { isPyDict, jsonDumps, type PyDict, type PyValue } from "./adapter/pyvalue.ts";
import { DEFAULT_PROGRAM, PREDICTOR_NAMES, type Program } from "./signatures.ts";
import type { ModuleName } from "./types.ts";

const REQUIRED: readonly ModuleName[] = ["generate_query", "extract_information", "generate_answer"];
const DEPENDENCY_KEYS = new Set(["python", "dspy", "cloudpickle"]);
const FIX = 'pass a file written by DSPy\'s program.save("program.json") for the reference MultiHopQA program (or by musique)';

export interface LoadedProgram {
  program: Program;
  /** Things DSPy would accept silently that the user should know (ignored lm blocks, …). */
  warnings: string[];
}

function refuse(path: string, message: string, cause?: string): DataError {
  return new DataError(`${path}: ${message}`, { ...(cause ? { cause } : {}), fix: FIX });
}

function dictAt(value: PyValue | undefined): PyDict | null {
  return value !== undefined && value !== null && typeof value === "object" && !Array.isArray(value) && isPyDict(value) ? value : null;
}

function applyFields(signature: Signature, saved: readonly PyValue[], path: string, predictor: string): Signature {
  const fields = [...signature.inputs, ...signature.outputs].map((field, position): SignatureField => {
    const entry = saved[position];
    if (entry === undefined) return field;
    const dict = dictAt(entry);
    const prefix = dict?.get("prefix");
    const description = dict?.get("description");
    if (typeof prefix !== "string" || typeof description !== "string") {
      throw refuse(path, `${predictor}: signature.fields[${position}] needs a string "prefix" and "description"`, "DSPy's load raises KeyError here");
    }
    return { ...field, prefix, description };
  });
  return { ...signature, inputs: fields.slice(0, signature.inputs.length), outputs: fields.slice(signature.inputs.length) };
}

function loadPredictor(entry: PyDict, base: Predictor, path: string, warnings: string[], ignoredModels: Set<string>): Predictor {
  const name = base.name;
  const signature = dictAt(entry.get("signature"));
  if (!signature) throw refuse(path, `${name} has no "signature"`, "DSPy's load raises KeyError: 'signature'");
  if (!entry.has("lm")) throw refuse(path, `${name} has no "lm" key`, "DSPy's load raises KeyError: 'lm' (a file musique writes has \"lm\": null)");
  const instructions = signature.get("instructions");
  const fields = signature.get("fields");
  if (typeof instructions !== "string") throw refuse(path, `${name}: signature.instructions must be a string`);
  if (!Array.isArray(fields)) throw refuse(path, `${name}: signature.fields must be a list`);
  const expectedFields = base.signature.inputs.length + base.signature.outputs.length;
  if (fields.length !== expectedFields) {
    warnings.push(`${name}: the file has ${fields.length} signature fields, the program ${expectedFields}; applied by position, as DSPy does`);
  }
  const lm = dictAt(entry.get("lm"));
  if (lm) {
    const model = lm.get("model");
    ignoredModels.add(typeof model === "string" ? model : "an LM");
  }
  const demosValue = entry.get("demos") ?? [];
  if (!Array.isArray(demosValue)) throw refuse(path, `${name}: demos must be a list`);
  const demos: Demo[] = demosValue.map((demo, index) => {
    const dict = dictAt(demo);
    if (!dict) throw refuse(path, `${name}: demos[${index}] must be a JSON object`);
    return dict;
  });
  return {
    name,
    signature: { ...applyFields(base.signature, fields, path, name), instructions },
    demos,
  };
}

/** Parse a program file's text (see the header for what is accepted). */
export function parseProgramFile(text: string, path: string): LoadedProgram {
  let state: PyValue;
  try {
    state = parsePythonJson(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    throw refuse(path, "is not valid JSON", error.message);
  }
  const root = dictAt(state);
  if (!root) throw refuse(path, "is not a JSON object of predictors");
  const metadata = dictAt(root.get("metadata"));
  const versions = dictAt(metadata?.get("dependency_versions"));
  if (!versions) {
    throw refuse(path, 'has no "metadata": {"dependency_versions": …}', "DSPy's load raises KeyError without it; a file from program.save() always has it");
  }
  const unknown = [...versions.keys()].filter((key) => !DEPENDENCY_KEYS.has(key));
  if (unknown.length > 0) throw refuse(path, `metadata.dependency_versions has unknown keys ${unknown.join(", ")}`, "DSPy's load raises KeyError on them");

  const found = [...root.keys()].filter((key) => key !== "metadata");
  const missing = REQUIRED.filter((module) => !root.has(PREDICTOR_NAMES[module]));
  if (missing.length > 0) {
    throw refuse(
      path,
      `is not a program file of this program: expected the predictors ${REQUIRED.map((module) => PREDICTOR_NAMES[module]).join(", ")} ` +
        `(and ${PREDICTOR_NAMES.decide_info_collection} for --num-hops auto); found ${found.length > 0 ? found.join(", ") : "none"}`,
    );
  }
  const warnings: string[] = [];
  const known = new Set(Object.values(PREDICTOR_NAMES));
  const extra = found.filter((name) => !known.has(name));
  if (extra.length > 0) warnings.push(`predictors not in this program are ignored: ${extra.join(", ")}`);
  const program = { ...DEFAULT_PROGRAM };
  const ignoredModels = new Set<string>();
  for (const module of Object.keys(PREDICTOR_NAMES) as ModuleName[]) {
    const entry = root.get(PREDICTOR_NAMES[module]);
    if (entry === undefined) continue;
    const dict = dictAt(entry);
    if (!dict) throw refuse(path, `${PREDICTOR_NAMES[module]} must be a JSON object`);
    program[module] = loadPredictor(dict, DEFAULT_PROGRAM[module], path, warnings, ignoredModels);
  }
  if (ignoredModels.size > 0) {
    warnings.push(`the file's LM settings (${[...ignoredModels].join(", ")}) are ignored: musique uses --model, --base-url and --temperature`);
  }
  return { program, warnings };
}

/** Read and parse a program file (`--program FILE`). */
export function loadProgramFile(path: string): LoadedProgram {
  if (!path.endsWith(".json")) throw refuse(path, "a program file must end in .json", "DSPy's Module.load only reads .json state files");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw refuse(path, "cannot be read", error instanceof Error ? error.message : String(error));
  }
  return parseProgramFile(text, path);
}

/** The modules a saved program lists: the script's three, and decide when it ran (--num-hops auto). */
export function savedModules(withDecide: boolean): ModuleName[] {
  return withDecide ? [...REQUIRED, "decide_info_collection"] : [...REQUIRED];
}

/** DSPy 3.0.2's program.save() text for these predictors (see the header). */
export function programFileText(program: Program, modules: readonly ModuleName[]): string {
  const state: PyDict = new Map();
  for (const module of modules) {
    const { signature, demos } = program[module];
    const fields: PyValue[] = [...signature.inputs, ...signature.outputs].map(
      (field) =>
        new Map<string, PyValue>([
          ["prefix", field.prefix],
          ["description", field.description],
        ]),
    );
    state.set(
      PREDICTOR_NAMES[module],
      new Map<string, PyValue>([
        ["traces", []],
        ["train", []],
        ["demos", [...demos]],
        [
          "signature",
          new Map<string, PyValue>([
            ["instructions", inspectCleandoc(signature.instructions)],
            ["fields", fields],
          ]),
        ],
        ["lm", null],
      ]),
    );
  }
  state.set("metadata", new Map<string, PyValue>([["dependency_versions", new Map<string, PyValue>([["dspy", "3.0.2"]])]]));
  return jsonDumps(state, { ensureAscii: false, indent: 2, escapeSlash: true });
}
