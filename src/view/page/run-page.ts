/**
 * A run's page (/run/NAME): everything `report --html` shows (overview, configuration, scores,
 * training curves, per-hop charts, the worst examples with trajectories), rendered from
 * GET /api/runs/NAME with the report's own HTML fragments, plus the examples filter. Filter
 * values and open trajectories survive live refreshes.
 */
import { runReportBody } from "../../report/html.ts";
import type { RunPayload } from "../types.ts";
import { apiRunPath, byId, escapeHtml, getJson, renderKeepingOpen, runPath, type Page } from "./dom.ts";

/** The report's filter (text and hop count) over tbody.example rows, as its inline script does. */
function applyFilter(root: HTMLElement, state: { text: string; hops: string }): void {
  const text = root.querySelector<HTMLInputElement>("#filter-text");
  const hops = root.querySelector<HTMLSelectElement>("#filter-hops");
  const count = root.querySelector<HTMLElement>("#filter-count");
  if (!text || !hops || !count) return;
  text.value = state.text;
  if ([...hops.options].some((option) => option.value === state.hops)) hops.value = state.hops;
  const rows = [...root.querySelectorAll<HTMLElement>("tbody.example")];
  const query = state.text.trim().toLowerCase();
  let shown = 0;
  for (const row of rows) {
    const visible = (query === "" || (row.textContent ?? "").toLowerCase().includes(query)) && (hops.value === "all" || row.dataset.hops === hops.value);
    row.hidden = !visible;
    if (visible) shown += 1;
  }
  count.textContent = `${shown} of ${rows.length} examples shown`;
}

export function mountRunPage(app: HTMLElement, name: string): Page {
  app.innerHTML = `<p class="meta" id="run-links"></p><div id="run-body"></div>`;
  const body = byId<HTMLElement>(app, "run-body");
  const filter = { text: "", hops: "all" };
  body.addEventListener("input", (event) => {
    const target = event.target as HTMLElement;
    if (target.id === "filter-text") filter.text = (target as HTMLInputElement).value;
    else if (target.id === "filter-hops") filter.hops = (target as HTMLSelectElement).value;
    else return;
    applyFilter(body, filter);
  });
  return {
    async refresh() {
      const payload = await getJson<RunPayload>(apiRunPath(name));
      document.title = `${name} · musique view`;
      const training = payload.report.run.kind === "train";
      byId(app, "run-links").innerHTML = training ? `<a href="${escapeHtml(runPath(name))}/training">training health and group inspector →</a>` : "";
      renderKeepingOpen(body, runReportBody(payload.report, payload.worst));
      applyFilter(body, filter);
    },
  };
}
