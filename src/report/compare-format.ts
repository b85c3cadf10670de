/** The compact terminal table of `musique compare`. */
import { snakeCase } from "../config/keys.ts";
import { hopLabel } from "../text/labels.ts";
import { tableLines } from "../text/table.ts";
import type { Interval } from "./bootstrap.ts";
import type { ComparedRun, Comparison, ComparisonBlock, FlipCounts, FlipLists } from "./compare.ts";

function signed(value: number): string {
  return (value >= 0 ? "+" : "−") + Math.abs(value).toFixed(3);
}

function intervalText(interval: Interval): string {
  return `${signed(interval.mean)} [${signed(interval.low)}, ${signed(interval.high)}]`;
}

function blockLines(title: string, block: ComparisonBlock, names: readonly string[]): string[] {
  const [first, ...others] = names;
  const header = [title, ...names, ...others.map((name) => `${name} − ${first ?? ""} [95% CI]`)];
  const rows = block.metrics.map((metric) => [
    metric.label,
    ...metric.runs.map((column) => column.mean.toFixed(3)),
    ...metric.runs.slice(1).map((column) => (column.difference ? intervalText(column.difference) : "-")),
  ]);
  return tableLines(header, rows);
}

/** "validation after 2 steps", "evaluation", "no predictions". */
export function stepText(step: number | null): string {
  if (step === null) return "no predictions";
  if (step < 0) return "evaluation";
  return step === 0 ? "validation before training (after 0 steps)" : `validation after ${step} step${step === 1 ? "" : "s"}`;
}

function runLine(run: ComparedRun): string {
  const failures = run.serviceFailures > 0 ? `, ${run.serviceFailures} service failures left out` : "";
  return (
    `${run.label}: ${run.kind} run, ${run.status}, ${stepText(run.step)}, ${run.predicted} evaluated${failures}; ` +
    `dataset ${run.dataset ?? "-"}, retriever ${run.retriever ?? "-"}, model ${run.model ?? "-"}`
  );
}

export function countsText(counts: FlipCounts): string {
  return `fixed ${counts.fixed}, broken ${counts.broken}, both right ${counts.bothRight}, both wrong ${counts.bothWrong}`;
}

export function listCounts(lists: FlipLists): FlipCounts {
  return { fixed: lists.fixed.length, broken: lists.broken.length, bothRight: lists.bothRight.length, bothWrong: lists.bothWrong.length };
}

export function formatComparison(comparison: Comparison): string {
  const names = comparison.runs.map((run) => run.label);
  const dropped = comparison.dropped.map((entry) => `${entry.run} ${entry.count}`).join(", ");
  const out: string[] = comparison.runs.map(runLine);
  out.push(`paired ${comparison.paired} examples evaluated by every side (dropped: ${dropped})`);
  out.push(
    `differences vs ${names[0] ?? ""}: ${Math.round(comparison.bootstrap.confidence * 100)}% ${comparison.bootstrap.method}, ` +
      `${comparison.bootstrap.resamples} resamples, seed ${comparison.bootstrap.seed}`,
  );
  out.push("");
  out.push(...blockLines(`overall (n=${comparison.overall.n})`, comparison.overall, names));
  for (const [hops, block] of Object.entries(comparison.byHops)) {
    out.push("");
    out.push(...blockLines(`${hopLabel(hops)} (n=${block.n})`, block, names));
  }
  for (const flips of comparison.flips) {
    out.push("");
    out.push(`${flips.run} vs ${flips.against} (answer EM): ${countsText(flips.overall)}`);
    for (const [hops, lists] of Object.entries(flips.byHops)) out.push(`  ${hopLabel(hops)}: ${countsText(listCounts(lists))}`);
  }
  if (comparison.warnings.length > 0) {
    out.push("");
    out.push("warnings:");
    for (const warning of comparison.warnings) {
      out.push(`  ! ${warning.message}`);
      if (warning.kind !== "config") continue;
      for (const entry of warning.keys ?? []) {
        out.push(
          `      ${snakeCase(entry.key)}: ${Object.entries(entry.values)
            .map(([run, value]) => `${run}=${JSON.stringify(value)}`)
            .join(", ")}`,
        );
      }
    }
  }
  return out.join("\n") + "\n";
}
