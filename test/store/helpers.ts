/** Builders for store tests: a temporary database path and program results with module calls. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scoreExample, type ExampleScore } from "../../src/metrics/index.ts";
import type { ModuleCallTrace, ModuleName, ProgramResult } from "../../src/program/types.ts";

export interface TemporaryDirectory {
  path: string;
  database(name?: string): string;
  remove(): void;
}

export function temporaryDirectory(): TemporaryDirectory {
  const path = mkdtempSync(join(tmpdir(), "musique-store-"));
  return {
    path,
    database: (name = "musique.db") => join(path, name),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

export function moduleCall(module: ModuleName, hop: number, invocation: number, overrides: Partial<ModuleCallTrace> = {}): ModuleCallTrace {
  return {
    module,
    hop,
    invocation,
    inputs: { question: "q" },
    adapter: "chat",
    adapterAttempts: [],
    messages: [
      { role: "system", content: "system prompt" },
      { role: "user", content: `user prompt ${module} ${invocation}` },
    ],
    rawCompletion: "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]",
    parsed: { reasoning: "because", answer: "Paris" },
    status: "ok",
    error: null,
    finishReason: "stop",
    truncated: false,
    usage: { promptTokens: 100, completionTokens: 20 },
    latencyMs: 50 + invocation,
    endpoint: "http://127.0.0.1:1/v1",
    attempts: 1,
    cached: false,
    startedAt: Date.UTC(2025, 0, 1),
    ...overrides,
  };
}

/** A two-hop program result: generate_query/extract_information per hop, then generate_answer. */
export function programResult(answer: string | null, overrides: Partial<ProgramResult> = {}): ProgramResult {
  const calls: ModuleCallTrace[] = [];
  for (let hop = 0; hop < 2; hop++) {
    calls.push(moduleCall("generate_query", hop, hop));
    calls.push(moduleCall("extract_information", hop, hop));
  }
  calls.push(moduleCall("generate_answer", 2, 0));
  return {
    answer,
    collectedInfo: ["fact one", "fact two"],
    retrievedIds: ["1", "4"],
    hopsUsed: 2,
    hops: [],
    calls,
    failure: null,
    ...overrides,
  };
}

export const EXAMPLE = { answers: ["Paris"], supportingIds: ["1", "4"], nHops: 2 };

export function scoreOf(result: ProgramResult, example = EXAMPLE): ExampleScore {
  return scoreExample(example, { answer: result.answer, retrievedIds: result.retrievedIds }, "v1");
}
