/** The compact terminal table of `musique compare`. */
import type { Interval } from "./bootstrap.ts";
import type { Comparison, ComparisonBlock } from "./compare.ts";

function signed(value: number): string {
  return (value >= 0 ? "+" : "−") + Math.abs(value).toFixed(3);
}

function intervalText(interval: Interval): string {
  return `${signed(interval.mean)} [${signed(interval.low)}, ${signed(interval.high)}]`;
}

function table(rows: string[][]): string[] {
  const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  return rows.map((row) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

function blockLines(title: string, block: ComparisonBlock, names: readonly string[]): string[] {
  const [first, ...others] = names;
  const header = [title, ...names, ...others.map((name) => `${name} − ${first ?? ""} [95% CI]`)];
  const rows = block.metrics.map((metric) => [
    metric.label,
    ...metric.runs.map((column) => column.mean.toFixed(3)),
    ...metric.runs.slice(1).map((column) => (column.difference ? intervalText(column.difference) : "-")),
  ]);
  return table([header, ...rows]);
}

export function formatComparison(comparison: Comparison): string {
  const names = comparison.runs.map((run) => run.name);
  const dropped = comparison.dropped.map((entry) => `${entry.run} ${entry.count}`).join(", ");
  const out: string[] = [];
  for (const run of comparison.runs) {
    out.push(
      `${run.name}: ${run.kind}, ${run.status}, ${run.predicted} predictions${run.step !== null && run.step >= 0 ? ` (step ${run.step})` : ""}, ` +
        `dataset ${run.dataset ?? "-"}, retriever ${run.retriever ?? "-"}, model ${run.model ?? "-"}`,
    );
  }
  out.push(`paired ${comparison.paired} examples by id (dropped: ${dropped})`);
  out.push(
    `differences vs ${names[0] ?? ""}: ${Math.round(comparison.bootstrap.confidence * 100)}% ${comparison.bootstrap.method}, ` +
      `${comparison.bootstrap.resamples} resamples, seed ${comparison.bootstrap.seed}`,
  );
  out.push("");
  out.push(...blockLines(`overall (n=${comparison.overall.n})`, comparison.overall, names));
  for (const [hops, block] of Object.entries(comparison.byHops)) {
    out.push("");
    out.push(...blockLines(`${hops} hops (n=${block.n})`, block, names));
  }
  if (comparison.warnings.length > 0) {
    out.push("");
    out.push("warnings:");
    for (const warning of comparison.warnings) {
      out.push(`  ! ${warning.message}`);
      for (const entry of warning.keys ?? []) {
        out.push(`      ${entry.key}: ${Object.entries(entry.values).map(([run, value]) => `${run}=${JSON.stringify(value)}`).join(", ")}`);
      }
    }
  }
  return out.join("\n") + "\n";
}
