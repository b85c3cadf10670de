/**
 * The group inspector of the training page: one step's examples (GET /api/runs/NAME/steps/STEP),
 * each with its rollouts (answer, EM, F1, reward, format failures; a rollout's trajectory on
 * demand) and its GRPO groups (rewards, advantages, spread); "samples" opens a group's samples as
 * sent to Arbor — prompt messages, completion, reward, advantage (GET /api/runs/NAME/groups/ID).
 */
import { hopHtml } from "../../report/trajectory-html.ts";
import type { GroupPayload, GroupSummary, RolloutPayload, StepExample, StepPayload } from "../types.ts";
import { apiRunPath, stepName, errorHtml, escapeHtml, formatNumber, getJson } from "./dom.ts";

function list(values: readonly number[]): string {
  return values.map((value) => formatNumber(value)).join(", ");
}

function groupRow(group: GroupSummary): string {
  return `<tr class="group" data-group="${group.id}">
<td>${escapeHtml(group.module)}#${group.invocation}</td><td class="number">${group.batchId ?? "-"}</td>
<td class="rewards">${list(group.rewards)}</td>
<td class="advantages">${list(group.advantages)}${group.advantagesComputed ? ' <span class="meta" title="not stored: computed with Arbor\'s formula">(computed)</span>' : ""}</td>
<td class="number${group.zeroSpread ? " zero-spread" : ""}">${formatNumber(group.spread)}${group.zeroSpread ? " (no signal)" : ""}</td>
<td><button type="button" class="show-samples" data-group="${group.id}">samples</button></td></tr>
<tr class="samples-row" data-group="${group.id}" hidden><td colspan="6"><div class="samples"></div></td></tr>`;
}

function exampleHtml(example: StepExample, step: number): string {
  const rollouts = example.rollouts
    .map(
      (
        rollout,
      ) => `<tr class="rollout" data-rollout="${rollout.rolloutIndex}"><td class="number">${rollout.rolloutIndex}</td><td>${escapeHtml(rollout.answer ?? "(none)")}</td>
<td class="number">${formatNumber(rollout.em, 0)}</td><td class="number">${formatNumber(rollout.f1)}</td><td class="number">${formatNumber(rollout.reward)}</td>
<td class="number">${rollout.formatFailures}</td>
<td><details class="trajectory" data-key="${escapeHtml(`${step}|${example.exampleId}|${rollout.rolloutIndex}`)}" data-example="${escapeHtml(example.exampleId)}" data-rollout="${rollout.rolloutIndex}"><summary>trajectory</summary><div class="hops"></div></details></td></tr>`,
    )
    .join("");
  const zero = example.groups.filter((group) => group.zeroSpread).length;
  return `<div class="example" data-id="${escapeHtml(example.exampleId)}">
<h3><code>${escapeHtml(example.exampleId)}</code> ${escapeHtml(example.question)}</h3>
<table class="rollouts"><thead><tr><th>rollout</th><th>answer</th><th>EM</th><th>F1</th><th>reward</th><th>format failures</th><th></th></tr></thead><tbody>${rollouts}</tbody></table>
<p class="meta">${example.groups.length} groups${zero > 0 ? `, <span class="zero-spread">${zero} with zero spread</span>` : ""}</p>
<table class="groups"><thead><tr><th>module#invocation</th><th>batch</th><th>rewards</th><th>advantages</th><th>spread</th><th></th></tr></thead><tbody>${example.groups.map(groupRow).join("")}</tbody></table>
</div>`;
}

function samplesHtml(payload: GroupPayload): string {
  const rows = payload.samples.map((sample, index) => {
    const prompt = sample.messages
      .map((message) => `<div><b>${escapeHtml(message.role)}</b><pre class="message">${escapeHtml(message.content)}</pre></div>`)
      .join("");
    return `<tr class="sample" data-sample="${index}"><td class="number">${index}</td><td class="number sample-reward">${formatNumber(sample.reward)}</td>
<td class="number sample-advantage">${formatNumber(sample.advantage)}</td>
<td><pre class="completion">${escapeHtml(sample.completion)}</pre><details class="prompt"><summary>prompt (${sample.messages.length} messages)</summary>${prompt}</details></td></tr>`;
  });
  return `<table class="group-samples"><thead><tr><th>#</th><th>reward</th><th>advantage</th><th>completion / prompt</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

export interface Inspector {
  /** Show `step` (null: nothing); re-fetch unless it is shown and complete. */
  show(step: number | null, force?: boolean): Promise<void>;
  readonly step: number | null;
}

export function createInspector(element: HTMLElement, name: string): Inspector {
  let current: number | null = null;
  let complete = false;
  element.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button.show-samples");
    const id = button?.dataset.group;
    if (!button || id === undefined) return;
    const row = element.querySelector<HTMLTableRowElement>(`tr.samples-row[data-group="${id}"]`);
    const box = row?.querySelector<HTMLElement>(".samples");
    if (!row || !box) return;
    row.hidden = !row.hidden;
    if (row.hidden || box.dataset.loaded === "1") return;
    box.innerHTML = '<p class="note">loading…</p>';
    getJson<GroupPayload>(`${apiRunPath(name)}/groups/${id}`)
      .then((payload) => {
        box.innerHTML = samplesHtml(payload);
        box.dataset.loaded = "1";
      })
      .catch((error: unknown) => {
        box.innerHTML = errorHtml(error);
      });
  });
  element.addEventListener(
    "toggle",
    (event) => {
      const details = event.target as HTMLDetailsElement;
      const hops = details.querySelector<HTMLElement>(".hops");
      if (!details.classList.contains("trajectory") || !details.open || !hops || hops.dataset.loaded === "1") return;
      const path = `${apiRunPath(name)}/rollouts/${current ?? 0}/${encodeURIComponent(details.dataset.example ?? "")}/${details.dataset.rollout ?? "0"}`;
      getJson<RolloutPayload>(path)
        .then((payload) => {
          hops.innerHTML = payload.hops.map(hopHtml).join("") + (payload.failure ? `<div class="error">${escapeHtml(payload.failure)}</div>` : "");
          hops.dataset.loaded = "1";
        })
        .catch((error: unknown) => {
          hops.innerHTML = errorHtml(error);
        });
    },
    true,
  );
  return {
    get step() {
      return current;
    },
    async show(step: number | null, force = false): Promise<void> {
      if (step === null) {
        current = null;
        element.innerHTML = "";
        return;
      }
      if (step === current && complete && !force) return;
      current = step;
      const payload = await getJson<StepPayload>(`${apiRunPath(name)}/steps/${step}`);
      if (current !== step) return;
      complete = payload.status === "completed" || payload.status === "skipped" || payload.status === "failed";
      element.innerHTML = `<h2 id="inspector-title">Rollouts of ${escapeHtml(stepName(step))} (sampled after ${step - 1} step${step === 2 ? "" : "s"}): ${payload.examples.length} examples, mean reward ${formatNumber(payload.meanReward)}${
        payload.status && payload.status !== "completed" ? ` (${escapeHtml(payload.status)})` : ""
      }</h2>${payload.examples.map((example) => exampleHtml(example, step)).join("") || '<p class="note">No rollouts recorded for this step yet.</p>'}`;
    },
  };
}
