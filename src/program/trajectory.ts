/**
 * A readable (and a JSON) view of one program run: per hop the query, the retrieved documents
 * (supporting ones marked), the extracted information and the reasoning; then the answer, the
 * gold answers and the scores. Used by `musique ask`.
 */
import type { Example } from "../data/types.ts";
import type { ExampleScore } from "../metrics/index.ts";
import type { ModuleCallTrace, ProgramResult } from "./types.ts";

export interface Trajectory {
  example: {
    id: string;
    question: string;
    answers: string[];
    supportingIds: string[];
    nHops: number;
    shape: string;
  };
  /** The question asked (the example's unless a free question was given). */
  question: string;
  answer: string | null;
  scores: ExampleScore;
  result: ProgramResult;
}

export function trajectoryOf(example: Example, question: string, result: ProgramResult, scores: ExampleScore): Trajectory {
  return {
    example: {
      id: example.id,
      question: example.question,
      answers: example.answers,
      supportingIds: example.supportingIds,
      nHops: example.nHops,
      shape: example.shape,
    },
    question,
    answer: result.answer,
    scores,
    result,
  };
}

function indent(text: string, prefix: string): string {
  return text
    .split("\n")
    .map((line) => (line === "" ? "" : prefix + line))
    .join("\n");
}

function callOf(result: ProgramResult, module: ModuleCallTrace["module"], hop: number): ModuleCallTrace | undefined {
  return result.calls.find((call) => call.module === module && call.hop === hop);
}

function field(label: string, value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.includes("\n") ? [`  ${label}:`, indent(value, "      ")] : [`  ${label}: ${value}`];
}

function callNote(call: ModuleCallTrace | undefined): string[] {
  if (!call) return [];
  const notes: string[] = [];
  if (call.truncated) notes.push("  ! truncated at --max-tokens (finish_reason length)");
  if (call.status === "ok" && call.adapter !== "chat") {
    const chat = call.adapterAttempts[0];
    notes.push(
      `  ! ${call.module}: the ChatAdapter reply broke the format (${chat?.error ?? "parse error"}); rescued by DSPy's JSON fallback (${call.adapter})`,
    );
  }
  if (call.status === "parse_error") {
    notes.push(`  ! ${call.module}: ${call.error ?? "parse error"}`);
    for (const attempt of call.adapterAttempts) {
      notes.push(`  ${attempt.adapter} reply:`, indent(attempt.rawCompletion ?? "(none)", "      "));
    }
  }
  if (call.status === "lm_error") notes.push(`  ! ${call.module}: ${call.error ?? "LM error"}`);
  return notes;
}

function format(value: number): string {
  return value.toFixed(2);
}

/** The human-readable trajectory. */
export function renderTrajectory(trajectory: Trajectory): string {
  const { example, result, scores } = trajectory;
  const supporting = new Set(example.supportingIds);
  const lines: string[] = [
    `Question: ${trajectory.question}`,
    `Example:  ${example.id} (${example.nHops} hops, supporting paragraphs ${example.supportingIds.join(", ")})`,
  ];
  if (trajectory.question !== example.question) lines.push(`  (the example's own question: ${example.question})`);
  for (const hop of result.hops) {
    lines.push("", `Hop ${hop.hop + 1}`);
    const query = callOf(result, "generate_query", hop.hop);
    lines.push(...field("query reasoning", query?.parsed?.reasoning));
    lines.push(`  query: ${hop.query}${hop.hop === 0 ? "  (the question)" : ""}`);
    lines.push(`  retrieved (${hop.retrieved.length}):`);
    for (const document of hop.retrieved) {
      const mark = supporting.has(document.id) ? "*" : " ";
      const score = Number.isNaN(document.score) ? "" : `  score ${document.score.toFixed(3)}`;
      lines.push(`    ${mark} [${document.id}] ${document.title}${score}`);
    }
    const extract = callOf(result, "extract_information", hop.hop);
    lines.push(...field("reasoning", extract?.parsed?.reasoning));
    if (extract?.status === "ok") lines.push(...field("key information", hop.keyInformation));
    lines.push(...callNote(extract));
    const decide = callOf(result, "decide_info_collection", hop.hop);
    if (decide?.parsed) {
      lines.push(...field("enough information?", `${decide.parsed.has_collected_enough_info} (${decide.parsed.reasoning})`));
    }
    lines.push(...callNote(query), ...callNote(decide));
  }
  const answerCall = result.calls.find((call) => call.module === "generate_answer");
  lines.push("");
  if (answerCall?.parsed) lines.push("Answer reasoning:", indent(answerCall.parsed.reasoning ?? "", "  "));
  lines.push(...callNote(answerCall).map((line) => line.slice(2)));
  lines.push(`Answer: ${trajectory.answer ?? "(none)"}`);
  lines.push(`Gold:   ${example.answers.join(" | ")}`);
  if (result.failure) lines.push(`Failed: ${result.failure.kind} failure in ${result.failure.module}: ${result.failure.message}`);
  lines.push(
    `EM ${format(scores.em)}  F1 ${format(scores.f1)}  recall ${format(scores.recall)}  ` +
      `support F1 ${format(scores.supportF1)}  reward ${format(scores.reward)}  ` +
      `(retrieved ${result.retrievedIds.length} ids: ${result.retrievedIds.join(", ") || "none"})`,
  );
  const promptTokens = result.calls.reduce((sum, call) => sum + (call.usage?.promptTokens ?? 0), 0);
  const completionTokens = result.calls.reduce((sum, call) => sum + (call.usage?.completionTokens ?? 0), 0);
  const seconds = result.calls.reduce((sum, call) => sum + call.latencyMs, 0) / 1000;
  const usage = result.calls.some((call) => call.usage) ? `, ${promptTokens} prompt + ${completionTokens} completion tokens` : "";
  lines.push(`LM calls: ${result.calls.length} in ${seconds.toFixed(2)} s${usage}`);
  return lines.join("\n") + "\n";
}
