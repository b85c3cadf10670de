/**
 * outputs/{run_name}/: config.json, run.log (or train.log), scores.json, predictions.jsonl and
 * gold.jsonl (official format, aligned line by line), examples.md. Files are written to a
 * temporary name and renamed, so an interrupted run never leaves a half-written file.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { writeFileAtomic } from "../files.ts";
import { join } from "node:path";
import type { Example } from "../data/types.ts";
import { StoreError } from "../errors.ts";
import { log } from "../log.ts";
import type { ProgramResult } from "../program/types.ts";
import type { ExampleScore } from "../metrics/index.ts";

/** A failed write of an output file (disk full, read-only or missing folder): exit code 6. */
function outputFailure(path: string, error: unknown): StoreError {
  const code = (error as { code?: unknown } | null)?.code;
  const full = code === "ENOSPC" || code === "EFBIG" || code === "EDQUOT";
  return new StoreError(`cannot write ${path} (${error instanceof Error ? error.message : String(error)})`, {
    cause: full ? "the disk is full or a file-size limit was reached" : "the output folder is not writable",
    fix: `${full ? "free some disk space" : "check the folder's permissions"}, or pass --output-dir with another folder; results already recorded stay in the database`,
    error,
  });
}

export function runDirectory(outputDir: string, runName: string): string {
  const directory = join(outputDir, runName);
  try {
    mkdirSync(directory, { recursive: true });
  } catch (error) {
    throw outputFailure(directory, error);
  }
  return directory;
}

/** Write an output file atomically (src/files.ts); a failure is a StoreError (exit code 6), no half file. */
export function writeOutputFile(path: string, content: string): void {
  try {
    writeFileAtomic(path, content);
  } catch (error) {
    throw outputFailure(path, error);
  }
}

export function writeJson(path: string, value: unknown): void {
  writeOutputFile(path, JSON.stringify(value, null, 2) + "\n");
}

export function writeJsonLines(path: string, rows: readonly unknown[]): void {
  writeOutputFile(path, rows.map((row) => JSON.stringify(row)).join("\n") + (rows.length > 0 ? "\n" : ""));
}

/** Copy every log line of this process into `path` (plain text, with timestamps). */
export function teeLogTo(path: string): () => void {
  const reporter = {
    log(entry: { date: Date; type: string; args: unknown[] }) {
      const text = entry.args.map((arg) => (typeof arg === "string" ? arg : arg instanceof Error ? arg.message : JSON.stringify(arg))).join(" ");
      try {
        appendFileSync(path, `${entry.date.toISOString()} ${entry.type.padEnd(5)} ${text}\n`);
      } catch {
        // the log file is a convenience; the database is the record
      }
    },
  };
  log.addReporter(reporter);
  return () => log.removeReporter(reporter);
}

export interface ExampleForReport {
  example: Example;
  result: ProgramResult;
  score: ExampleScore;
}

function quote(text: string): string {
  return text
    .split("\n")
    .map((line) => `> ${line}`)
    .join("\n");
}

/** A handful of examples with their trajectory, for a person to read. */
export function examplesMarkdown(runName: string, items: readonly ExampleForReport[]): string {
  const parts = [`# ${runName}: example predictions\n`];
  for (const { example, result, score } of items) {
    parts.push(`## ${example.id}\n`);
    parts.push(`**Question:** ${example.question}\n`);
    parts.push(`**Gold:** ${example.answers.map((answer) => `\`${answer}\``).join(", ")} · supporting paragraphs ${example.supportingIds.join(", ")}\n`);
    for (const hop of result.hops) {
      parts.push(`### Hop ${hop.hop + 1}\n`);
      parts.push(`- query: ${hop.query}`);
      for (const document of hop.retrieved) {
        parts.push(`- retrieved ${document.id}${document.isSupporting ? " (supporting)" : ""}: ${document.title}`);
      }
      parts.push(`- extracted:\n\n${quote(hop.keyInformation || "(empty)")}\n`);
    }
    const answerCall = result.calls.find((call) => call.module === "generate_answer");
    if (answerCall?.parsed?.reasoning) parts.push(`**Reasoning:**\n\n${quote(answerCall.parsed.reasoning)}\n`);
    parts.push(`**Answer:** ${result.answer ?? "(none)"}${result.failure ? ` · failed: ${result.failure.kind} in ${result.failure.module}: ${result.failure.message}` : ""}\n`);
    parts.push(
      `EM ${score.em} · F1 ${score.f1.toFixed(3)} · recall ${score.recall.toFixed(3)} · support F1 ${score.supportF1.toFixed(3)} · reward ${score.reward.toFixed(3)}\n`,
    );
  }
  return parts.join("\n");
}

/** Up to `count` examples: half of them right, half wrong, in dataset order. */
export function pickExamples(items: readonly ExampleForReport[], count = 6): ExampleForReport[] {
  const right = items.filter((item) => item.score.em === 1).slice(0, Math.ceil(count / 2));
  const wrong = items.filter((item) => item.score.em !== 1).slice(0, count - right.length);
  return [...right, ...wrong];
}

export function appendLine(path: string, line: string): void {
  appendFileSync(path, line + "\n");
}
