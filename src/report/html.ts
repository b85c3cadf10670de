/**
 * The self-contained HTML report of one run: no server, no CDN, no external library. Charts are
 * inline SVG from ./svg.ts; a small inline script filters the worst-examples table. Every value
 * from the database is escaped; the script reads only the DOM (no data is embedded in it).
 */
import { missingCauses, type RunScores, type ScoreBlock } from "../metrics/run-scores.ts";
import type { ExampleDetail, RunReport } from "./data.ts";
import { escapeHtml } from "./escape.ts";
import { standalonePage } from "./style.ts";
import { hopHtml } from "./trajectory-html.ts";
import { barChart, lineChart, type LineSeries } from "./svg.ts";
import { REWARDS, type RewardVersion } from "../metrics/reward-versions.ts";
import { rewardFootnote } from "../metrics/reward.ts";
import { formatDuration } from "../text/duration.ts";
import { hopLabel, shapesWorthShowing } from "../text/labels.ts";
import { configLines, failedExamples } from "./terminal.ts";
import type { ValidationRecord } from "../store/training.ts";
import type { TrainingReport } from "./training.ts";
import { rolloutsSection } from "./rollouts-format.ts";
import { healthLines } from "../metrics/training-health.ts";

const FILTER_SCRIPT = `
(function () {
  var text = document.getElementById("filter-text");
  var hops = document.getElementById("filter-hops");
  var count = document.getElementById("filter-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("tbody.example"));
  function apply() {
    var query = text.value.trim().toLowerCase();
    var wanted = hops.value;
    var shown = 0;
    rows.forEach(function (row) {
      var visible = (query === "" || row.textContent.toLowerCase().indexOf(query) >= 0) &&
        (wanted === "all" || row.getAttribute("data-hops") === wanted);
      row.hidden = !visible;
      if (visible) shown += 1;
    });
    count.textContent = shown + " of " + rows.length + " examples shown";
  }
  text.addEventListener("input", apply);
  hops.addEventListener("change", apply);
  apply();
})();`;

function number(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? "-" : value.toFixed(digits);
}

/** The score table (over the examples with a result, missing next to them): overall, by hop count, by shape where a hop count has several; what reward is under it. */
function scoresTableHtml(scores: RunScores, reward: RewardVersion | undefined): string {
  const header = ["", "n", "EM", "F1", "support F1", "recall", "reward", "format fail", "missing"];
  const row = (label: string, block: ScoreBlock) =>
    `<tr><th>${escapeHtml(label)}</th>${[block.n, block.answer_em, block.answer_f1, block.support_f1, block.recall, block.reward]
      .map((value, index) => `<td class="number">${index === 0 ? value : number(value)}</td>`)
      .join("")}<td class="number">${block.format_failures}</td><td class="number">${block.missing}</td></tr>`;
  const section = (title: string) => `<tr class="section"><th colspan="${header.length}">${escapeHtml(title)}</th></tr>`;
  const rows = [row("overall", scores.overall), section("by hop count")];
  for (const [hops, block] of Object.entries(scores.by_hops)) rows.push(row(hopLabel(hops), block));
  const shapes = new Set(shapesWorthShowing(Object.keys(scores.by_shape)));
  if (shapes.size > 0) rows.push(section("by shape"));
  for (const [shape, block] of Object.entries(scores.by_shape)) if (shapes.has(shape)) rows.push(row(shape, block));
  const footnote = rewardFootnote(reward).map(escapeHtml).join("<br>");
  return `<table class="scores"><thead><tr>${header.map((cell) => `<th>${escapeHtml(cell)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table><p class="note">${footnote}</p>`;
}

function overview(report: RunReport): string {
  const { run, usage, failures } = report;
  const facts: Array<[string, string]> = [
    ["status", run.status + (run.error ? ` — ${run.error}` : "")],
    ["started", run.startedAt],
    ["finished", run.finishedAt ?? "-"],
    ["duration", formatDuration(run.durationSeconds)],
    ["model", run.model ?? "-"],
    ["dataset", run.dataset ?? "-"],
    ["retriever", run.retriever ?? "-"],
    report.dryRun && report.training
      ? ["rollouts", `${report.training.health.total.rollouts} in ${report.training.health.total.steps} steps (a dry run: nothing trained or validated)`]
      : [
          "examples scored",
          `${report.scores?.overall.n ?? 0} of ${report.examples}${report.step !== null && report.step >= 0 ? ` (validation after ${report.step} steps)` : ""}` +
            (report.scores && report.scores.overall.missing > 0
              ? `; ${report.scores.overall.missing} without a result (${missingCauses(report.scores.overall)})`
              : ""),
        ],
    ["LM calls", `${usage.calls} (${usage.cachedCalls} cached)`],
    ["tokens", `${usage.promptTokens} prompt + ${usage.completionTokens} completion = ${usage.totalTokens}`],
    [
      "failures",
      `${failures.parseFailures} parse failures (${failures.rescuedCalls} more rescued by the JSON fallback), ${failures.lmErrors} LM errors, ${failures.retries} retries`,
    ],
    ["failed examples", `${failures.formatFailureExamples} format failures (scored); ${failedExamples(failures)}`],
  ];
  return `<table class="facts">${facts.map(([key, value]) => `<tr><th>${escapeHtml(key)}</th><td>${escapeHtml(value)}</td></tr>`).join("")}</table>
<details><summary>configuration</summary><pre class="config">${escapeHtml(configLines(report.config, 110).join("\n"))}</pre></details>`;
}

/** One line per validation metric (EM, F1, recall, support F1, reward) over the validations' steps. */
export function validationSeries(validations: readonly ValidationRecord[]): LineSeries[] {
  const metrics = [
    ["EM", "em"],
    ["F1", "f1"],
    ["recall", "recall"],
    ["support F1", "supportF1"],
    ["reward", "reward"],
  ] as const;
  return metrics.map(([name, key]) => ({
    name,
    points: validations.filter((row) => row[key] !== null).map((row) => ({ x: row.step, y: row[key] ?? 0 })),
  }));
}

/** One x axis for a run's training charts: step N is the N-th step and the validation after it; 0 is before training. */
const STEP_AXIS = "step (0 = before training)";

function stepDomain(training: TrainingReport): [number, number] {
  const last = Math.max(0, ...training.rewardCurve.map((point) => point.step), ...training.validations.map((row) => row.step));
  return [0, last];
}

function trainingSection(training: TrainingReport): string {
  const charts: string[] = [];
  if (training.rewardCurve.length > 0) {
    charts.push(
      lineChart(
        [
          {
            name: `mean reward (band: ${training.rewardBand})`,
            points: training.rewardCurve.map((point) => ({ x: point.step, y: point.mean })),
            band: training.rewardCurve.map((point) => ({ x: point.step, low: point.low, high: point.high })),
          },
        ],
        { title: "Reward per training step", xLabel: STEP_AXIS, yLabel: "reward", xDomain: stepDomain(training) },
      ),
    );
  } else charts.push(`<p class="note">No rollouts or step rewards recorded yet.</p>`);
  if (training.validations.length > 0) {
    charts.push(
      lineChart(validationSeries(training.validations), { title: "Validation over steps", xLabel: STEP_AXIS, yLabel: "score", xDomain: stepDomain(training) }),
    );
  } else charts.push(`<p class="note">No validations recorded.</p>`);
  // One chart per metric: a learning rate of 2e-5 and a loss of 0.1 share no scale.
  const trainer = Object.entries(training.trainerMetrics);
  const trainerHtml =
    trainer.length > 0
      ? trainer
          .map(([name, points]) =>
            lineChart([{ name, points: points.map((point) => ({ x: point.step, y: point.value })) }], {
              title: `Trainer ${name.replaceAll("_", " ")} per step`,
              xLabel: STEP_AXIS,
              yLabel: name,
              xDomain: stepDomain(training),
            }),
          )
          .join("\n") + `<p class="note" id="trainer-metrics">Trainer metrics from ${escapeHtml(training.trainerMetricsSource ?? "-")}.</p>`
      : `<p class="note" id="trainer-metrics">Trainer loss / KL / grad norm / learning rate: not recorded: ${escapeHtml(training.trainerMetricsReason ?? "unknown")}.</p>`;
  const best = training.best;
  const warnings = training.warnings.map((warning) => `<p class="warning health-warning">WARNING: ${escapeHtml(warning)}</p>`).join("");
  return `<h2>Training</h2>
<p>${training.completedSteps} of ${training.steps} recorded steps completed${best ? `; best validation after ${best.step} steps (reward ${number(best.reward)}, F1 ${number(best.f1)})` : ""}.</p>
${warnings}<pre class="config" id="training-health">${escapeHtml(healthLines(training.health).join("\n"))}</pre>
<div class="charts">${charts.join("\n")}${trainerHtml}</div>`;
}

function resultCharts(report: RunReport): string {
  const scores = report.scores;
  if (!scores) return `<p class="note">No predictions recorded yet.</p>`;
  // Service failures are not scores: no chart of zeros when no example has a result.
  if (scores.overall.n === 0) return `<p class="note">No example has a result yet (${escapeHtml(missingCauses(scores.overall))}).</p>`;
  const hops = Object.keys(scores.by_hops);
  const bars = barChart(
    hops.map((key) => `${hopLabel(key)} (n=${scores.by_hops[key]?.n ?? 0})`),
    [
      { name: "EM", values: hops.map((key) => scores.by_hops[key]?.answer_em ?? 0) },
      { name: "F1", values: hops.map((key) => scores.by_hops[key]?.answer_f1 ?? 0) },
    ],
    { title: "Answer EM and F1 per hop count", xLabel: "hop count", yLabel: "score", yRange: [0, 1] },
  );
  const recall = report.recallAtHop;
  const series: LineSeries[] = [
    { name: "all", points: recall.hops.map((hop, index) => ({ x: hop, y: recall.overall[index] ?? 0 })) },
    ...Object.entries(recall.byHops).map(([key, curve]) => ({
      name: hopLabel(key),
      points: recall.hops.map((hop, index) => ({ x: hop, y: curve[index] ?? 0 })),
    })),
  ];
  const recallChart = lineChart(series, { title: "Retrieval recall after each hop", xLabel: "after hop", yLabel: "recall", yRange: [0, 1] });
  return `<div class="charts">${bars}\n${recallChart}</div>`;
}

function trajectoryHtml(example: ExampleDetail): string {
  const error = example.error ? `<div class="error">${escapeHtml(example.error)}</div>` : "";
  return `<details><summary>trajectory (${example.hops.length} hops)</summary>${example.hops.map(hopHtml).join("")}${error}</details>`;
}

function examplesSection(examples: readonly ExampleDetail[], total: number): string {
  const hopCounts = [...new Set(examples.map((example) => example.nHops))].sort((a, b) => a - b);
  const options = ['<option value="all">all hop counts</option>', ...hopCounts.map((hops) => `<option value="${hops}">${hopLabel(hops)}</option>`)];
  const bodies = examples.map(
    (example) => `<tbody class="example" data-hops="${example.nHops}" data-id="${escapeHtml(example.id)}">
<tr><td><code>${escapeHtml(example.id)}</code></td><td class="number">${example.nHops}</td><td class="number">${number(example.f1)}</td><td class="number">${number(example.em, 0)}</td><td class="number">${number(example.reward)}</td><td class="number">${number(example.recall)}</td><td>${escapeHtml(example.status)}</td><td>${escapeHtml(example.question)}</td><td>${escapeHtml(example.answer ?? "(none)")}</td><td>${escapeHtml(example.gold.join(" | "))}</td></tr>
<tr class="trajectory"><td colspan="10">${trajectoryHtml(example)}</td></tr>
</tbody>`,
  );
  const header = ["id", "hops", "F1", "EM", "reward", "recall", "status", "question", "answer", "gold"];
  return `<h2>Worst examples</h2>
<p>The ${examples.length} examples with the lowest F1 (then reward) of ${total}.</p>
<div class="filters"><input id="filter-text" type="search" placeholder="filter: id, question, answer, document text…" aria-label="filter examples">
<select id="filter-hops" aria-label="hop count">${options.join("")}</select><span id="filter-count"></span></div>
<table class="examples"><thead><tr>${header.map((cell) => `<th>${cell}</th>`).join("")}</tr></thead>${bodies.join("\n")}</table>`;
}

/** The report's content (heading, overview, scores, training, charts, worst examples — a dry run's rollouts instead), without the filter script. */
export function runReportBody(report: RunReport, worst: readonly ExampleDetail[]): string {
  if (report.dryRun) {
    return `<h1>${escapeHtml(report.run.name)} <span class="meta">(dry run, <span class="status-${escapeHtml(report.run.status)}">${escapeHtml(report.run.status)}</span>)</span></h1>
${overview(report)}
<h2>Scores</h2>
<p class="note">A dry run validates nothing, so it has no scores: its rollouts and groups are <a href="#rollouts">below</a>.</p>
${report.training ? trainingSection(report.training) : ""}
${rolloutsSection(report.dryRun)}`;
  }
  return `<h1>${escapeHtml(report.run.name)} <span class="meta">(${escapeHtml(report.run.kind)} run, <span class="status-${escapeHtml(report.run.status)}">${escapeHtml(report.run.status)}</span>)</span></h1>
${overview(report)}
<h2>Scores</h2>
${
  report.scores
    ? scoresTableHtml(
        report.scores,
        REWARDS.find((version) => version === report.config.reward),
      )
    : '<p class="note">No predictions recorded yet.</p>'
}
${report.training ? trainingSection(report.training) : ""}
<h2>Per hop count and retrieval</h2>
${resultCharts(report)}
${examplesSection(worst, report.predicted)}`;
}

export function renderHtmlReport(report: RunReport, worst: readonly ExampleDetail[]): string {
  return standalonePage(`musique report: ${report.run.name}`, `${runReportBody(report, worst)}\n<script>${FILTER_SCRIPT}</script>`);
}
