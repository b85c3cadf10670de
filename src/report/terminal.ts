/** The terminal form of `musique report RUN`. */
import { missingCauses } from "../metrics/run-scores.ts";
import { scoresTable } from "./scores-table.ts";
import { REWARDS, type RewardVersion } from "../metrics/reward-versions.ts";
import { snakeKeys } from "../config/keys.ts";
import { formatDuration } from "../text/duration.ts";
import { wrapText } from "../text/wrap.ts";
import { hopLabel } from "../text/labels.ts";
import { formatTable, type Row } from "../text/table.ts";
import { healthLines } from "../metrics/training-health.ts";
import { trainingTimesLine } from "./step-times.ts";
import type { RunReport } from "./data.ts";
import { rolloutLines } from "./rollouts-format.ts";

/** The reward version a run was scored with (its stored --reward), if known. */
function rewardVersionOf(config: Record<string, unknown>): RewardVersion | undefined {
  return REWARDS.find((version) => version === config.reward);
}

function configValue(value: unknown): string {
  if (Array.isArray(value)) return value.map((item) => String(item)).join(",");
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** key=value pairs with the keys of config.json (snake_case), sorted, wrapped at `width` columns. */
export function configLines(config: Record<string, unknown>, width = 100): string[] {
  const lines: string[] = [];
  let line = "";
  for (const [key, value] of Object.entries(snakeKeys(config)).sort(([a], [b]) => a.localeCompare(b))) {
    const pair = `${key}=${configValue(value)}`;
    if (line && line.length + 1 + pair.length > width) {
      lines.push(line);
      line = pair;
    } else line = line ? `${line} ${pair}` : pair;
  }
  if (line) lines.push(line);
  return lines;
}

/** Recall of the supporting paragraphs after each hop, overall and by hop count. */
function recallTable(report: RunReport): string {
  const { recallAtHop } = report;
  const columns = ["recall after hop", ...recallAtHop.hops.map(String)];
  const rows: Row[] = [["overall", ...recallAtHop.overall.map((value) => value.toFixed(3))], { section: "by hop count" }];
  for (const [hops, curve] of Object.entries(recallAtHop.byHops)) rows.push([hopLabel(hops), ...curve.map((value) => value.toFixed(3))]);
  return formatTable(columns, rows);
}

/** The trainer's loss / KL / grad norm / learning rate at the last step that has them, or why there are none. */
function trainerMetricsLines(training: NonNullable<RunReport["training"]>): string[] {
  const series = Object.entries(training.trainerMetrics);
  if (series.length === 0) return [`  trainer loss / KL / grad norm / learning rate: not recorded: ${training.trainerMetricsReason ?? "unknown"}`];
  const last = series.map(([name, points]) => {
    const point = points.at(-1);
    return point
      ? `${name} ${Math.abs(point.value) < 0.001 && point.value !== 0 ? point.value.toExponential(2) : point.value.toFixed(4)} (step ${point.step})`
      : name;
  });
  return [`  trainer metrics, last logged: ${last.join(", ")}; from ${training.trainerMetricsSource ?? "-"}`];
}

function trainingLines(report: RunReport): string[] {
  const training = report.training;
  if (!training) return [];
  const lines = [`training: ${training.completedSteps} of ${training.steps} recorded steps completed`];
  const last = training.rewardCurve[training.rewardCurve.length - 1];
  if (last) lines.push(`  last step ${last.step}: mean reward ${last.mean.toFixed(3)} (${training.rewardBand} ${last.low.toFixed(3)}–${last.high.toFixed(3)})`);
  const best = training.best;
  if (best) {
    lines.push(
      `  best validation: after ${best.step} steps, reward ${best.reward?.toFixed(3) ?? "-"}, EM ${best.em?.toFixed(3) ?? "-"}, F1 ${best.f1?.toFixed(3) ?? "-"} (n=${best.nExamples})`,
    );
  }
  lines.push(...trainerMetricsLines(training));
  if (training.times) lines.push(trainingTimesLine(training.times));
  lines.push(`health: ${healthLines(training.health).join("\n")}`, ...training.warnings.map((warning) => `WARNING: ${warning}`));
  return lines;
}

/** A line of prose wrapped at `width`, its continuation lines indented by two spaces. */
function prose(text: string, width: number): string[] {
  const [first = "", ...rest] = wrapText(text, width);
  return [
    first,
    ...wrapText(rest.join(" "), width - 2)
      .filter((line) => line !== "")
      .map((line) => `  ${line}`),
  ];
}

/** Examples without a result, by their real cause ("2 LM-error, 1 retrieval-error and 0 past-deadline examples (no result)"). */
export function failedExamples(failures: RunReport["failures"]): string {
  return `${failures.lmErrorExamples} LM-error, ${failures.retrievalErrorExamples} retrieval-error and ${failures.deadlineExamples} past-deadline examples (no result)`;
}

/** The report of one run for a terminal `width` columns wide (100 in a pipe). */
export function formatRunReport(report: RunReport, width = 100): string {
  const { run, usage, failures } = report;
  const out: string[] = [];
  out.push(...prose(`run ${run.name} (${run.kind}): ${run.status}${run.error ? ` — ${run.error}` : ""}`, width));
  out.push(...prose(`started ${run.startedAt}, finished ${run.finishedAt ?? "-"}, duration ${formatDuration(run.durationSeconds)}`, width));
  out.push(
    ...prose(
      `model ${run.model ?? "-"}, dataset ${run.dataset ?? "-"}, retriever ${run.retriever ?? "-"}, seed ${run.seed ?? "-"}, musique ${run.toolVersion}`,
      width,
    ),
  );
  out.push("config:");
  for (const line of configLines(report.config, width - 2)) out.push(`  ${line}`);
  out.push("");
  if (report.scores) {
    const stepText = report.step !== null && report.step >= 0 ? ` (validation after ${report.step} steps)` : "";
    const { overall } = report.scores;
    out.push(
      ...prose(
        `scored ${overall.n} of ${report.examples} examples${stepText}` +
          (overall.missing > 0 ? `; ${overall.missing} have no result (${missingCauses(overall)}) and are left out of the scores` : ""),
        width,
      ),
    );
    out.push("");
    out.push(scoresTable(report.scores, rewardVersionOf(report.config)));
    // Recall is measured on examples with a result: none, no table of zeros.
    if (overall.n > 0) out.push("", recallTable(report));
  } else if (report.dryRun) {
    out.push("a dry run trains and validates nothing: its rollouts (GRPO rewards, −1 for a format failure) and groups by step");
    out.push(...rolloutLines(report.dryRun));
  } else {
    out.push("no predictions recorded yet");
  }
  out.push("");
  out.push(
    ...prose(
      `LM usage: ${usage.calls} calls (${usage.cachedCalls} cached), ${usage.promptTokens} prompt + ${usage.completionTokens} completion = ${usage.totalTokens} tokens` +
        (usage.meanLatencyMs === null ? "" : `, mean latency ${usage.meanLatencyMs.toFixed(0)} ms`),
      width,
    ),
  );
  out.push(
    ...prose(
      `failures: ${failures.parseFailures} parse failures (${failures.rescuedCalls} more rescued by the JSON fallback), ` +
        `${failures.lmErrors} LM errors, ${failures.retries} retries (calls); ` +
        `${failures.formatFailureExamples} format-failure examples (scored); ${failedExamples(failures)}`,
      width,
    ),
  );
  out.push(...trainingLines(report));
  return out.join("\n") + "\n";
}
