/**
 * DSPy program files (src/program/program-file.ts) against what real DSPy 3.0.2 and 3.0.3 wrote and
 * sent (test/fixtures/dspy-reference/program-file/, its README §4–6): musique formats every
 * recorded call of every variant byte for byte, writes files DSPy would write, and accepts or
 * refuses what DSPy's Module.load accepts or refuses (loader-checks.json).
 */
import { describe, expect, test } from "bun:test";
import { DataError } from "../../src/errors.ts";
import { format } from "../../src/program/adapter/index.ts";
import { parsePythonJson } from "../../src/program/adapter/pyjson.ts";
import { jsonDumps, type PyDict, type PyValue } from "../../src/program/adapter/pyvalue.ts";
import { parseProgramFile, programFileText, savedModules } from "../../src/program/program-file.ts";
import type { Program } from "../../src/program/signatures.ts";
import type { ModuleName } from "../../src/program/types.ts";
import { referenceLines, referenceText } from "../helpers/dspy-reference.ts";

const VARIANTS = ["a-untouched", "b-instructions", "c-instructions-demos", "d-adaptive-decide-demos", "e-edge-cases"] as const;

interface MessageRow {
  predictor: string;
  module: ModuleName;
  inputs: Record<string, string>;
  messages: Array<{ role: string; content: string }>;
}

function load(text: string, name = "program.json"): Program {
  return parseProgramFile(text, name).program;
}

function mismatches(program: Program, rows: readonly MessageRow[]): string[] {
  return rows.flatMap((row, index) => {
    const predictor = program[row.module];
    const sent = format(predictor.signature, row.inputs, predictor.demos);
    return JSON.stringify(sent) === JSON.stringify(row.messages) ? [] : [`call ${index} (${row.predictor})`];
  });
}

describe("loading DSPy program files: musique sends the messages DSPy sent", () => {
  for (const variant of VARIANTS) {
    test(`${variant}: every recorded call, from the 3.0.2 file and from the 3.0.3 file`, () => {
      const rows = referenceLines<MessageRow>(`program-file/${variant}.messages.jsonl.gz`);
      expect(rows.length).toBeGreaterThanOrEqual(12);
      expect(mismatches(load(referenceText(`program-file/${variant}.program.json`)), rows)).toEqual([]);
      expect(mismatches(load(referenceText(`program-file/dspy-3.0.3/${variant}.program.json`)), rows)).toEqual([]);
    });
  }

  test("the minimal file (demos, signature, lm: null, dependency_versions) gives the full file's messages", () => {
    const rows = referenceLines<MessageRow>("program-file/c-instructions-demos.messages.jsonl.gz");
    expect(mismatches(load(referenceText("program-file/c-instructions-demos.minimal.program.json")), rows)).toEqual([]);
  });
});

describe("writing program files", () => {
  for (const variant of VARIANTS) {
    test(`${variant}: the file musique writes is DSPy 3.0.2's bytes, except "lm": null and dependency_versions`, () => {
      const original = referenceText(`program-file/${variant}.program.json`);
      // Our JSON writer reproduces DSPy's (ujson) bytes exactly.
      expect(jsonDumps(parsePythonJson(original), { ensureAscii: false, indent: 2, escapeSlash: true })).toBe(original);
      const expected = parsePythonJson(original) as PyDict;
      for (const [name, entry] of expected) if (name !== "metadata") (entry as PyDict).set("lm", null);
      expected.set("metadata", new Map([["dependency_versions", new Map<string, PyValue>([["dspy", "3.0.2"]])]]));
      const written = programFileText(load(original), savedModules(variant.startsWith("d-")));
      expect(written).toBe(jsonDumps(expected, { ensureAscii: false, indent: 2, escapeSlash: true }));
    });

    test(`${variant}: a written file loads back to the same prompts`, () => {
      const rows = referenceLines<MessageRow>(`program-file/${variant}.messages.jsonl.gz`);
      const written = programFileText(load(referenceText(`program-file/${variant}.program.json`)), savedModules(variant.startsWith("d-")));
      expect(mismatches(load(written), rows)).toEqual([]);
    });
  }
});

interface LoaderCheck {
  case: string;
  result: "loaded" | "error";
  same_messages_as_c?: boolean;
  messages_first_call_per_predictor?: Record<string, { system: string; n_messages: number }>;
}

type State = Record<string, Record<string, unknown>>;
const PREDICTORS = ["generate_query.predict", "extract_info.predict", "generate_answer.predict"];

/** The modified copies of the c file that DSPy's loader was run on (loader_checks.py). */
const MUTATIONS: Record<string, (state: State) => void> = {
  no_metadata: (state) => delete state.metadata,
  metadata_without_dependency_versions: (state) => (state.metadata = {}),
  empty_dependency_versions: (state) => (state.metadata = { dependency_versions: {} }),
  unknown_dependency_key: (state) => Object.assign(state.metadata?.dependency_versions as object, { musique: "0.1.0" }),
  version_mismatch: (state) => Object.assign(state.metadata?.dependency_versions as object, { dspy: "9.9.9", python: "2.7" }),
  no_lm_key: (state) => delete state["generate_query.predict"]?.lm,
  no_signature_key: (state) => delete state["generate_query.predict"]?.signature,
  no_demos_traces_train: (state) => PREDICTORS.forEach((name) => ["demos", "traces", "train"].forEach((key) => delete state[name]?.[key])),
  missing_predictor: (state) => delete state["extract_info.predict"],
  extra_predictor_and_keys: (state) => {
    state["decide_info_collect.predict"] = structuredClone(state["generate_answer.predict"] ?? {});
    Object.assign(state["generate_query.predict"] ?? {}, { musique_note: "x" });
  },
  fields_fewer: (state) =>
    ((state["generate_query.predict"]?.signature as Record<string, unknown>).fields = [{ prefix: "Q:", description: "Only the first field is given" }]),
  fields_desc_prefix_changed: (state) =>
    ((state["generate_answer.predict"]?.signature as Record<string, unknown>).fields = [
      { prefix: "Frage:", description: "Die Frage" },
      { prefix: "Alles:", description: "multi\nline" },
      { prefix: "Denken:", description: "${reasoning}" },
      { prefix: "Antwort:", description: "${answer}" },
    ]),
  instructions_empty: (state) => ((state["generate_query.predict"]?.signature as Record<string, unknown>).instructions = ""),
  instructions_raw_docstring: (state) =>
    ((state["generate_query.predict"]?.signature as Record<string, unknown>).instructions =
      "\n    Line one of an indented docstring.\n      Line two, deeper.\n    Line three.\n  "),
  instructions_tabs_and_separators: (state) =>
    ((state["generate_query.predict"]?.signature as Record<string, unknown>).instructions = "Tab\there.\n\tTab-indented.\nA\u2028B\x85C\x0cD\r\nE\rF"),
};

describe("what DSPy's Module.load accepts, musique accepts with the same prompts; what it refuses, musique refuses", () => {
  const checks = JSON.parse(referenceText("program-file/loader-checks.json")) as LoaderCheck[];
  const rows = referenceLines<MessageRow>("program-file/c-instructions-demos.messages.jsonl.gz");
  for (const check of checks.filter((entry) => MUTATIONS[entry.case])) {
    test(`${check.case}: ${check.result === "error" ? "refused with a message" : "loaded, prompts as DSPy formats them"}`, () => {
      const state = JSON.parse(referenceText("program-file/c-instructions-demos.program.json")) as State;
      MUTATIONS[check.case]?.(state);
      const text = JSON.stringify(state, null, 2);
      if (check.result === "error") {
        expect(() => load(text)).toThrow(DataError);
        return;
      }
      const program = load(text);
      if (check.same_messages_as_c) expect(mismatches(program, rows)).toEqual([]);
      for (const [predictor, first] of Object.entries(check.messages_first_call_per_predictor ?? {})) {
        const row = rows.find((entry) => entry.predictor === predictor);
        if (!row) throw new Error(`no call of ${predictor}`);
        const sent = format(program[row.module].signature, row.inputs, program[row.module].demos);
        expect({ predictor, system: sent[0]?.content, messages: sent.length }).toEqual({ predictor, system: first.system, messages: first.n_messages });
      }
    });
  }

  test("a file of another program is refused naming the predictors expected and found", () => {
    const text = JSON.stringify({ predict: { signature: { instructions: "", fields: [] }, lm: null }, metadata: { dependency_versions: {} } });
    expect(() => load(text, "other.json")).toThrow(
      "other.json: is not a program file of this program: expected the predictors generate_query.predict, extract_info.predict, " +
        "generate_answer.predict (and decide_info_collect.predict for --num-hops auto); found predict",
    );
  });
});
