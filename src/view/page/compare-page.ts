/**
 * The compare page (/compare?side=A&side=B…): sides are runs or validations of a training run
 * (RUN@STEP, RUN@best), as for `musique compare`; shows the paired-bootstrap CI tables, the
 * warnings, and per hop count the fixed / broken examples with both trajectories side by side
 * hop by hop — the same HTML as `compare --html`, from GET /api/compare.
 */
import { comparisonSummaryHtml, flipsHtml } from "../../report/compare-html.ts";
import type { ComparePayload } from "../types.ts";
import { byId, errorHtml, escapeHtml, getJson, renderKeepingOpen, type Page } from "./dom.ts";

function sidesOf(search: string): string[] {
  return new URLSearchParams(search).getAll("side").filter((side) => side.trim() !== "");
}

export function mountComparePage(app: HTMLElement): Page {
  const sides = sidesOf(location.search);
  app.innerHTML = `<h1>Compare</h1>
<form class="sides-form" id="sides-form"><label>sides: <input id="sides" name="sides" value="${escapeHtml(sides.join(" "))}"
 placeholder="RUN_A RUN_B, or TRAIN@0 TRAIN@best (steps completed)" aria-label="sides to compare"></label> <button type="submit">compare</button></form>
<p class="meta">A side is a run (an evaluation, or a training run's last validation), RUN@STEP (its validation after STEP steps; @0 is before training) or RUN@best. Differences are against the first side.</p>
<div id="compare-body"></div>`;
  byId<HTMLFormElement>(app, "sides-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const words = byId<HTMLInputElement>(app, "sides").value.split(/\s+/).filter(Boolean);
    location.href = `/compare?${words.map((word) => `side=${encodeURIComponent(word)}`).join("&")}`;
  });
  const body = byId<HTMLElement>(app, "compare-body");
  return {
    async refresh() {
      if (sides.length < 2) {
        body.innerHTML = '<p class="note">Pick two or more runs on the runs page, or type their names above.</p>';
        return;
      }
      const query = sides.map((side) => `side=${encodeURIComponent(side)}`).join("&");
      document.title = `compare ${sides.join(" vs ")} · musique view`;
      try {
        const payload = await getJson<ComparePayload>(`/api/compare?${query}`);
        renderKeepingOpen(body, `${comparisonSummaryHtml(payload.comparison)}\n${flipsHtml(payload.comparison, payload.examples)}`);
      } catch (error) {
        body.innerHTML = errorHtml(error);
      }
    },
  };
}
