/**
 * What goes into outputs/{run_name}/ besides the scores: the log tee (run.log or train.log) and
 * examples.md (a few trajectories to read). Files are written by src/files.ts (atomic).
 */
import { appendFileSync } from "node:fs";
import { redactCredentials } from "../errors.ts";
import { log } from "../log.ts";
import type { ExampleRun } from "./examples.ts";

/** Copy every log line of this process into `path` (plain text, with timestamps). */
export function teeLogTo(path: string): () => void {
  const reporter = {
    log(entry: { date: Date; type: string; args: unknown[] }) {
      const text = redactCredentials(
        entry.args.map((arg) => (typeof arg === "string" ? arg : arg instanceof Error ? arg.message : JSON.stringify(arg))).join(" "),
      );
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

function quote(text: string): string {
  return text
    .split("\n")
    .map((line) => `> ${line}`)
    .join("\n");
}

/** A handful of examples with their trajectory, for a person to read. */
export function examplesMarkdown(runName: string, items: readonly ExampleRun[]): string {
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
    parts.push(
      `**Answer:** ${result.answer ?? "(none)"}${result.failure ? ` · failed: ${result.failure.kind} in ${result.failure.module}: ${result.failure.message}` : ""}\n`,
    );
    parts.push(
      `EM ${score.em} · F1 ${score.f1.toFixed(3)} · recall ${score.recall.toFixed(3)} · support F1 ${score.supportF1.toFixed(3)} · reward ${score.reward.toFixed(3)}\n`,
    );
  }
  return parts.join("\n");
}

/** Up to `count` examples: half of them right, half wrong, in dataset order. */
export function pickExamples(items: readonly ExampleRun[], count = 6): ExampleRun[] {
  const right = items.filter((item) => item.score.em === 1).slice(0, Math.ceil(count / 2));
  const wrong = items.filter((item) => item.score.em !== 1).slice(0, count - right.length);
  return [...right, ...wrong];
}
