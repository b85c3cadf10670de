/**
 * `musique data SPEC…`: load, validate and prepare datasets exactly as the other commands do,
 * then print what is in them (per source, hop count, shape; paragraphs; supporting paragraphs;
 * answer aliases; skipped rows), and optionally a few examples.
 */
import { DataSchema, type DataOptions } from "../config/schemas.ts";
import { datasetStats, loadExamples, type DatasetStats, type DuplicateRecord, type Example, type Summary } from "../data/index.ts";
import { hopLabel, shapesWorthShowing } from "../text/labels.ts";
import { formatTable, type Row } from "../text/table.ts";
import { musiqueCommand, printJson } from "./_command.ts";

function summaryText(summary: Summary): string {
  return `min ${summary.min}  mean ${summary.mean.toFixed(2)}  max ${summary.max}`;
}

/** Repeated records listed one by one in the text output before only counting. */
const DUPLICATES_SHOWN = 10;

function formatStats(stats: DatasetStats, skipped: number, duplicates: readonly DuplicateRecord[] = []): string {
  const lines: string[] = [];
  lines.push(`${stats.examples} examples${skipped > 0 ? ` (${skipped} invalid rows skipped)` : ""}`);
  lines.push("");
  const rows: Row[] = stats.bySource.map(({ source, examples }) => [source, String(examples)]);
  rows.push({ section: "by hop count" }, ...Object.entries(stats.byHops).map(([hops, count]) => [hopLabel(hops), String(count)]));
  const shapes = new Set(shapesWorthShowing(Object.keys(stats.byShape)));
  if (shapes.size > 0) rows.push({ section: "by shape" });
  for (const [shape, count] of Object.entries(stats.byShape)) if (shapes.has(shape)) rows.push([shape, String(count)]);
  lines.push(formatTable(["source", "examples"], rows));
  lines.push("");
  const aliases = stats.answerAliases;
  lines.push(`paragraphs per question:  ${summaryText(stats.paragraphs)}`);
  lines.push(`supporting paragraphs:    ${summaryText(stats.supporting)}  (total ${stats.supporting.total})`);
  lines.push(`answer aliases:           ${summaryText(aliases)}  (${aliases.withAliases} questions have aliases)`);
  lines.push(`answerable:               ${stats.answerable} of ${stats.examples}`);
  lines.push(`skipped invalid rows:     ${skipped}`);
  lines.push(`repeated records dropped: ${duplicates.length}`);
  for (const duplicate of duplicates.slice(0, DUPLICATES_SHOWN)) {
    lines.push(`  ${duplicate.id}: ${duplicate.dropped} repeats ${duplicate.kept}`);
  }
  if (duplicates.length > DUPLICATES_SHOWN) lines.push(`  … and ${duplicates.length - DUPLICATES_SHOWN} more (--json lists all)`);
  return lines.join("\n");
}

function formatExample(example: Example, position: number, source: string): string {
  const supporting = example.paragraphs
    .filter((paragraph) => paragraph.isSupporting)
    .map((paragraph) => `[${paragraph.idx}] ${paragraph.title}`)
    .join("; ");
  const aliases = example.answerAliases.length > 0 ? `  (aliases: ${example.answerAliases.join(" | ")})` : "";
  return [
    `#${position} ${example.id}  ${example.shape}, ${example.nHops} supporting of ${example.paragraphs.length} paragraphs  (${source})`,
    `  question:   ${example.question}`,
    `  answer:     ${example.answer}${aliases}`,
    `  supporting: ${supporting}`,
    ...example.decomposition.map(
      (step, index) => `  hop ${index + 1}:      ${step.question} → ${step.answer} (paragraph ${step.paragraphSupportIdx ?? "none"})`,
    ),
  ].join("\n");
}

async function runData(options: DataOptions, signal: AbortSignal): Promise<void> {
  const specs = options.specs.length > 0 ? options.specs.join(";") : options.datasets;
  const result = await loadExamples(specs, {
    revision: options.revision,
    seed: options.seed,
    noiseRate: options.noiseRate,
    size: options.limit,
    skipInvalid: options.skipInvalid,
    curriculum: options.curriculum,
    signal,
  });
  const stats = datasetStats(result.examples, { sources: result.sources, sourceOfExample: result.sourceOfExample });
  const shown = result.examples.slice(0, options.show);
  if (options.json) {
    printJson({ ...stats, skipped: result.skipped, duplicates: result.duplicates, loaded: result.loaded, shown });
    return;
  }
  const parts = [formatStats(stats, result.skipped, result.duplicates)];
  for (const [index, example] of shown.entries()) {
    parts.push(formatExample(example, index, result.sources[result.sourceOfExample[index] ?? 0] ?? ""));
  }
  process.stdout.write(parts.join("\n\n") + "\n");
}

export default musiqueCommand({
  name: "data",
  description: "Load, validate and describe datasets (Hub specs, local files, or the embedded sample)",
  schema: DataSchema,
  run: (options, context) => runData(options, context.signal),
});
