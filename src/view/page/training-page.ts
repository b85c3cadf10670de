/**
 * A training run's page (/run/NAME/training?step=N): progress, health warnings, the charts
 * (training-charts.ts), a table of steps, checkpoints, and the group inspector (inspector.ts) for
 * the step picked on the reward chart or in the table (kept in the address as ?step=N). Charts
 * and table redraw on every database change; the inspector re-fetches while its step is running.
 */
import type { StepHealth, TrainingPayload } from "../types.ts";
import { afterSteps, apiRunPath, stepName, byId, escapeHtml, formatNumber, getJson, runPath, type Page } from "./dom.ts";
import { createInspector } from "./inspector.ts";
import { failureChart, fallbackNote, lengthChart, moduleChart, rewardChart, signalChart, trainerChart, validationChart } from "./training-charts.ts";

function box(name: string, html: string): string {
  return `<div class="chart-box" data-chart="${name}">${html}</div>`;
}

function stepRow(step: StepHealth, selected: number | null): string {
  const completion = step.completion;
  return `<tr class="step-row${step.step === selected ? " selected" : ""}" data-step="${step.step}">
<td>${escapeHtml(stepName(step.step))}</td><td class="status-${escapeHtml(step.status)}">${escapeHtml(step.status)}</td>
<td class="number">${step.rollouts}</td><td class="number">${formatNumber(step.meanReward)}</td><td class="number">${formatNumber(step.meanGroupSpread)}</td>
<td class="number${step.groups > 0 && step.zeroSpreadGroups * 2 > step.groups ? " zero-spread" : ""}">${step.zeroSpreadGroups} of ${step.groups}</td>
<td class="number">${step.formatFailureRollouts}</td><td class="number">${formatNumber(completion?.meanTokens ?? null, 0)}</td><td class="number">${completion?.truncated ?? "-"}</td></tr>`;
}

function headerHtml(payload: TrainingPayload): string {
  const { run } = payload;
  const completed = payload.steps.filter((step) => step.status === "completed").length;
  const best = payload.best
    ? `; best validation ${escapeHtml(afterSteps(payload.best.step))} (reward ${formatNumber(payload.best.reward)}, F1 ${formatNumber(payload.best.f1)})`
    : "";
  const compare =
    payload.validations.length >= 2
      ? ` · <a href="/compare?side=${encodeURIComponent(`${run.name}@0`)}&side=${encodeURIComponent(`${run.name}@best`)}">compare before training vs best</a>`
      : "";
  return `<h1>${escapeHtml(run.name)} <span class="meta">(${escapeHtml(run.kind)}, <span class="status-${escapeHtml(run.status)}">${escapeHtml(run.status)}</span>)</span></h1>
<p id="progress"><b>${completed}</b> of ${payload.plannedSteps ?? "?"} steps completed${best}. ${payload.examplesPerStep ?? "?"} examples × ${payload.rolloutsPerStep ?? "?"} rollouts per step; model ${escapeHtml(run.model ?? "-")}.
<a href="${escapeHtml(runPath(run.name))}">run report</a>${compare}</p>
${run.error ? `<div class="error-box">${escapeHtml(run.error)}</div>` : ""}
${payload.warnings.map((warning) => `<div class="warning-box health-warning">${escapeHtml(warning)}</div>`).join("")}`;
}

function checkpointsHtml(payload: TrainingPayload): string {
  if (payload.checkpoints.length === 0) return "";
  const rows = payload.checkpoints.map(
    (checkpoint) =>
      `<tr><td>${escapeHtml(checkpoint.name)}</td><td>${escapeHtml(afterSteps(checkpoint.step))}</td><td><code>${escapeHtml(checkpoint.directory ?? "-")}</code></td></tr>`,
  );
  return `<h2>Checkpoints</h2><table class="checkpoints"><thead><tr><th>name</th><th>saved</th><th>directory</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

export function mountTrainingPage(app: HTMLElement, name: string): Page {
  app.innerHTML = `<div id="training-header"></div><div class="charts" id="training-charts"></div><div id="training-notes"></div>
<h2>Steps</h2><table class="steps"><thead><tr><th>step</th><th>status</th><th>rollouts</th><th>mean reward</th><th>within-group spread</th>
<th>zero-spread groups</th><th>format failures</th><th>mean tokens</th><th>truncated</th></tr></thead><tbody id="steps-body"></tbody></table>
<div id="checkpoints"></div><div class="inspector" id="inspector"></div>`;
  const inspector = createInspector(byId(app, "inspector"), name);
  const initial = new URLSearchParams(location.search).get("step");
  let selected: number | null = initial !== null && /^\d+$/.test(initial) ? Number(initial) : null;
  let payload: TrainingPayload | null = null;

  const drawCharts = () => {
    if (!payload) return;
    byId(app, "training-charts").innerHTML = [
      box("reward", rewardChart(payload, selected)),
      box("signal", signalChart(payload)),
      box("failures", failureChart(payload)),
      box("length", lengthChart(payload)),
      box("modules", moduleChart(payload)),
      box("validation", validationChart(payload)),
      box("trainer", trainerChart(payload)),
    ].join("\n");
    byId(app, "steps-body").innerHTML =
      payload.steps.map((step) => stepRow(step, selected)).join("") || '<tr><td colspan="9" class="note">no steps yet</td></tr>';
  };

  const select = (step: number) => {
    selected = step;
    const url = new URL(location.href);
    url.searchParams.set("step", String(step));
    history.replaceState(null, "", url);
    drawCharts();
    void inspector.show(step, true);
  };

  app.addEventListener("click", (event) => {
    const target = (event.target as Element).closest<Element>("[data-step]");
    if (!target || !(target.matches("rect.step-target") || target.matches("tr.step-row"))) return;
    const step = Number(target.getAttribute("data-step"));
    if (Number.isInteger(step)) select(step);
  });

  return {
    async refresh() {
      payload = await getJson<TrainingPayload>(`${apiRunPath(name)}/training`);
      document.title = `${name} training · musique view`;
      byId(app, "training-header").innerHTML = headerHtml(payload);
      byId(app, "training-notes").innerHTML = fallbackNote(payload);
      byId(app, "checkpoints").innerHTML = checkpointsHtml(payload);
      drawCharts();
      await inspector.show(selected);
    },
  };
}
