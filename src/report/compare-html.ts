/**
 * A comparison as HTML: the sides, the warnings, the paired-bootstrap CI tables (overall and per
 * hop count), and per hop count the examples training (or a change) fixed and broke, each with
 * the sides' trajectories side by side hop by hop. Used whole by `compare --html` (one
 * self-contained file) and piece by piece by musique view's compare page. Browser-safe: no
 * imports beyond other pure report modules; every value is escaped.
 */
import type { Interval } from "./bootstrap.ts";
import type { CompareExample, ComparedRun, Comparison, ComparisonBlock, DetailedComparison, FlipLists, RunFlips } from "./compare.ts";
import { countsText, listCounts, stepText } from "./compare-format.ts";
import { escapeHtml } from "./escape.ts";
import { standalonePage } from "./style.ts";
import { documentsHtml, extractedHtml } from "./trajectory-html.ts";

function number(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || Number.isNaN(value) ? "-" : value.toFixed(digits);
}

function signed(value: number): string {
  return (value >= 0 ? "+" : "−") + Math.abs(value).toFixed(3);
}

function intervalHtml(interval: Interval | null): string {
  if (!interval) return "-";
  const side = interval.low > 0 ? "right" : interval.high < 0 ? "wrong" : "";
  return `<span class="${side}">${signed(interval.mean)}</span> [${signed(interval.low)}, ${signed(interval.high)}]`;
}

function runsTable(runs: readonly ComparedRun[]): string {
  const rows = runs.map(
    (run) =>
      `<tr data-run="${escapeHtml(run.label)}"><th>${escapeHtml(run.label)}</th>` +
      `<td>${escapeHtml(run.kind)}</td><td class="status-${escapeHtml(run.status)}">${escapeHtml(run.status)}</td><td>${escapeHtml(stepText(run.step))}</td>` +
      `<td class="number">${run.predicted}${run.serviceFailures > 0 ? ` (+${run.serviceFailures} service failures)` : ""}</td>` +
      `<td>${escapeHtml(run.dataset ?? "-")}</td><td>${escapeHtml(run.retriever ?? "-")}</td><td>${escapeHtml(run.model ?? "-")}</td></tr>`,
  );
  return `<table class="compared-runs"><thead><tr><th>side</th><th>kind</th><th>status</th><th>predictions of</th><th>examples</th><th>dataset</th><th>retriever</th><th>model</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function blockTable(title: string, block: ComparisonBlock, labels: readonly string[]): string {
  const [first, ...others] = labels;
  const header = [title, ...labels, ...others.map((label) => `${label} − ${first ?? ""} [95% CI]`)];
  const rows = block.metrics.map(
    (metric) =>
      `<tr><th>${escapeHtml(metric.label)}</th>${metric.runs.map((column) => `<td class="number">${number(column.mean)}</td>`).join("")}` +
      `${metric.runs
        .slice(1)
        .map((column) => `<td class="number">${intervalHtml(column.difference)}</td>`)
        .join("")}</tr>`,
  );
  return `<table class="ci"><thead><tr>${header.map((cell) => `<th>${escapeHtml(cell)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** The sides, warnings and CI tables. */
export function comparisonSummaryHtml(comparison: Comparison): string {
  const labels = comparison.runs.map((run) => run.label);
  const warnings =
    comparison.warnings.length > 0
      ? `<ul class="warnings">${comparison.warnings.map((warning) => `<li class="warning" data-kind="${escapeHtml(warning.kind)}">${escapeHtml(warning.message)}</li>`).join("")}</ul>`
      : "";
  const dropped = comparison.dropped.map((entry) => `${entry.run} ${entry.count}`).join(", ");
  const blocks = [
    blockTable(`overall (n=${comparison.overall.n})`, comparison.overall, labels),
    ...Object.entries(comparison.byHops).map(([hops, block]) => blockTable(`${hops} hops (n=${block.n})`, block, labels)),
  ];
  return `${runsTable(comparison.runs)}
<p>Paired <b>${comparison.paired}</b> examples evaluated by every side (dropped: ${escapeHtml(dropped)}). Differences against ${escapeHtml(labels[0] ?? "")}:
${Math.round(comparison.bootstrap.confidence * 100)}% ${escapeHtml(comparison.bootstrap.method)}, ${comparison.bootstrap.resamples} resamples, seed ${comparison.bootstrap.seed}.</p>
${warnings}
${blocks.join("\n")}`;
}

function answerHtml(example: CompareExample, label: string): string {
  const side = example.sides[label];
  if (!side) return '<span class="note">not evaluated</span>';
  const verdict = side.em === 1 ? "right" : "wrong";
  return `<span class="${verdict}">${escapeHtml(side.answer ?? "(none)")}</span> <span class="meta">EM ${number(side.em, 0)} · F1 ${number(side.f1)}${
    side.status !== "ok" ? ` · ${escapeHtml(side.status)}` : ""
  }</span>`;
}

/** Both sides hop by hop: one row per hop (1-based), one column per side, then the answers. */
function sideBySideHtml(example: CompareExample, labels: readonly string[]): string {
  const hops = Math.max(0, ...labels.map((label) => example.sides[label]?.hops.length ?? 0));
  const header = `<tr><th></th>${labels.map((label) => `<th>${escapeHtml(label)}</th>`).join("")}</tr>`;
  const rows: string[] = [];
  for (let index = 0; index < hops; index++) {
    const cells = labels.map((label) => {
      const hop = example.sides[label]?.hops[index];
      if (!hop) return '<td class="note">(no hop)</td>';
      return `<td><div>query: ${escapeHtml(hop.query)}</div>${documentsHtml(hop)}${extractedHtml(hop)}</td>`;
    });
    rows.push(`<tr class="hop-row" data-hop="${index + 1}"><th>hop ${index + 1}</th>${cells.join("")}</tr>`);
  }
  rows.push(`<tr><th>answer</th>${labels.map((label) => `<td>${answerHtml(example, label)}</td>`).join("")}</tr>`);
  const errors = labels.map((label) => example.sides[label]?.error).filter((error): error is string => Boolean(error));
  const columns = `<colgroup><col class="hop-label">${labels.map(() => "<col>").join("")}</colgroup>`;
  return `<table class="side-by-side">${columns}<thead>${header}</thead><tbody>${rows.join("")}</tbody></table>${errors
    .map((error) => `<div class="error">${escapeHtml(error)}</div>`)
    .join("")}`;
}

function flipItem(kind: "fixed" | "broken", hops: string, id: string, example: CompareExample | undefined, labels: readonly string[]): string {
  const summary = example
    ? `<code>${escapeHtml(id)}</code> ${escapeHtml(example.question)} <span class="meta">gold: ${escapeHtml(example.gold.join(" | "))}</span>`
    : `<code>${escapeHtml(id)}</code>`;
  const body = example ? sideBySideHtml(example, labels) : '<p class="note">trajectories not loaded</p>';
  return `<details class="flip" data-kind="${kind}" data-hops="${escapeHtml(hops)}" data-id="${escapeHtml(id)}"><summary>${summary}</summary>${body}</details>`;
}

function idList(kind: "bothRight" | "bothWrong", ids: readonly string[]): string {
  const title = kind === "bothRight" ? "both right" : "both wrong";
  if (ids.length === 0) return "";
  return `<details class="ids" data-kind="${kind}"><summary>${title} (${ids.length})</summary><p>${ids.map((id) => `<code>${escapeHtml(id)}</code>`).join(" ")}</p></details>`;
}

function hopSection(flips: RunFlips, hops: string, lists: FlipLists, examples: Readonly<Record<string, CompareExample>>): string {
  const labels = [flips.against, flips.run];
  const section = (kind: "fixed" | "broken") => {
    const ids = lists[kind];
    const items = ids.map((id) => flipItem(kind, hops, id, examples[id], labels)).join("");
    return `<h4>${kind} <span class="count" data-kind="${kind}" data-hops="${escapeHtml(hops)}">${ids.length}</span></h4>${items || '<p class="note">none</p>'}`;
  };
  return `<section class="flip-hops" data-hops="${escapeHtml(hops)}"><h3>${escapeHtml(hops)} hops: ${escapeHtml(countsText(listCounts(lists)))}</h3>
${section("fixed")}${section("broken")}${idList("bothRight", lists.bothRight)}${idList("bothWrong", lists.bothWrong)}</section>`;
}

/** Fixed / broken examples of every side against the first, per hop count, with side-by-side trajectories. */
export function flipsHtml(comparison: Comparison, examples: Readonly<Record<string, CompareExample>>): string {
  return comparison.flips
    .map(
      (flips) => `<section class="flips" data-run="${escapeHtml(flips.run)}">
<h2>${escapeHtml(flips.run)} vs ${escapeHtml(flips.against)}: what changed (answer EM)</h2>
<p class="flip-total">${escapeHtml(countsText(flips.overall))}</p>
${Object.entries(flips.byHops)
  .map(([hops, lists]) => hopSection(flips, hops, lists, examples))
  .join("\n")}</section>`,
    )
    .join("\n");
}

export function renderComparisonHtml(detailed: DetailedComparison): string {
  const { comparison, examples } = detailed;
  const title = `musique compare: ${comparison.runs.map((run) => run.label).join(" vs ")}`;
  return standalonePage(title, `<h1>${escapeHtml(title)}</h1>\n${comparisonSummaryHtml(comparison)}\n${flipsHtml(comparison, examples)}`);
}
