/**
 * The runs page (/): every run with kind, status, model, retriever, dataset, training progress,
 * headline scores and tags; a text filter, kind, status and tag filters (?tag=T, repeated: runs
 * carrying all of them, as `musique view --tag T` opens it; like `musique runs --tag`), sorting by
 * any column, and "compare selected". Selections, filters and sorting survive live refreshes.
 */
import type { RunListItem, RunsPayload } from "../types.ts";
import { byId, escapeHtml, formatNumber, getJson, runPath, type Page } from "./dom.ts";

type SortKey =
  | "name"
  | "kind"
  | "status"
  | "startedAt"
  | "model"
  | "retriever"
  | "dataset"
  | "progress"
  | "n"
  | "em"
  | "f1"
  | "recall"
  | "supportF1"
  | "reward"
  | "failures";

const COLUMNS: ReadonlyArray<{ key: SortKey; label: string; numeric?: boolean }> = [
  { key: "name", label: "run" },
  { key: "kind", label: "kind" },
  { key: "status", label: "status" },
  { key: "startedAt", label: "started" },
  { key: "model", label: "model" },
  { key: "retriever", label: "retriever" },
  { key: "dataset", label: "evaluated on" },
  { key: "progress", label: "steps", numeric: true },
  { key: "n", label: "n", numeric: true },
  { key: "em", label: "EM", numeric: true },
  { key: "f1", label: "F1", numeric: true },
  { key: "recall", label: "recall", numeric: true },
  { key: "supportF1", label: "support F1", numeric: true },
  { key: "reward", label: "reward", numeric: true },
  { key: "failures", label: "failures", numeric: true },
];

function sortValue(run: RunListItem, key: SortKey): string | number {
  if (key === "progress") return run.completedSteps;
  const value = run[key];
  return value === null ? -Infinity : value;
}

function progressText(run: RunListItem): string {
  if (run.kind !== "train" && run.kind !== "dry run") return "";
  return `${run.completedSteps}${run.plannedSteps === null ? "" : ` / ${run.plannedSteps}`}`;
}

/** The tags a URL filters by (?tag=a&tag=b: runs carrying all of them). */
function tagsOfSearch(search: string): string[] {
  return [...new Set(new URLSearchParams(search).getAll("tag").filter((tag) => tag.trim() !== ""))];
}

/** The tag filter's options: any tag, each tag of the runs, and the URL's combination when it names several. */
function tagOptionsHtml(runs: readonly RunListItem[], wanted: readonly string[]): string {
  const tags = [...new Set([...runs.flatMap((run) => run.tags), ...wanted])].sort();
  const options = [`<option value="">any tag</option>`, ...tags.map((tag) => `<option value="${escapeHtml(tag)}">tag ${escapeHtml(tag)}</option>`)];
  if (wanted.length > 1) options.push(`<option value="${escapeHtml(wanted.join(","))}">tags ${escapeHtml(wanted.join(" + "))}</option>`);
  return options.join("");
}

/** The last part of a model name or dataset path ("Qwen/Qwen2.5-7B-Instruct" → "Qwen2.5-7B-Instruct"); the full text is the cell's title. */
function shortName(text: string | null): string {
  if (text === null) return "-";
  return text.includes(",") ? text : (text.split("/").filter(Boolean).at(-1) ?? text);
}

/** Training runs open on their training page; evaluations on the run page. */
function runLink(run: RunListItem): string {
  return run.kind === "train" || run.kind === "dry run" ? `${runPath(run.name)}/training` : runPath(run.name);
}

function rowHtml(run: RunListItem, selected: boolean, withTags: boolean): string {
  const cells = [
    `<td><input type="checkbox" class="pick" data-run="${escapeHtml(run.name)}"${selected ? " checked" : ""} aria-label="select ${escapeHtml(run.name)}"></td>`,
    `<td><a href="${escapeHtml(runLink(run))}">${escapeHtml(run.name)}</a></td>`,
    `<td class="kind-${escapeHtml(run.kind.replace(" ", "-"))}">${escapeHtml(run.kind)}</td>`,
    `<td class="status-${escapeHtml(run.status)}" title="${escapeHtml(run.error ?? "")}">${escapeHtml(run.status)}</td>`,
    `<td title="${escapeHtml(run.startedAt)}">${escapeHtml(run.startedAt.replace("T", " ").slice(5, 16))}</td>`,
    `<td title="${escapeHtml(run.model ?? "")}">${escapeHtml(shortName(run.model))}</td>`,
    `<td>${escapeHtml(run.retriever ?? "-")}</td>`,
    `<td class="wide" title="${escapeHtml(run.dataset ?? "")}">${escapeHtml(shortName(run.dataset))}</td>`,
    `<td class="number">${escapeHtml(progressText(run))}</td>`,
    `<td class="number">${run.n}</td>`,
    ...[run.em, run.f1, run.recall, run.supportF1, run.reward].map((value) => `<td class="number">${formatNumber(value)}</td>`),
    `<td class="number">${run.failures}</td>`,
  ];
  if (withTags) cells.push(`<td>${run.tags.map((tag) => `<span class="tag">${escapeHtml(tag)}</span>`).join("")}</td>`);
  return `<tr data-run="${escapeHtml(run.name)}" data-kind="${escapeHtml(run.kind)}" data-status="${escapeHtml(run.status)}">${cells.join("")}</tr>`;
}

export function mountRunsPage(app: HTMLElement): Page {
  app.innerHTML = `<h1>Runs</h1>
<p class="meta" id="database"></p>
<div class="filters">
  <input id="runs-filter" type="search" placeholder="filter: name, model, retriever, dataset, tag…" aria-label="filter runs">
  <select id="runs-kind" aria-label="kind"><option value="">all kinds</option><option>evaluate</option><option>train</option><option>dry run</option><option>retrieve</option></select>
  <select id="runs-tag" aria-label="tag"><option value="">any tag</option></select>
  <select id="runs-status" aria-label="status"><option value="">any status</option><option>running</option><option>completed</option><option>failed</option><option>interrupted</option></select>
  <button id="compare-selected" type="button" disabled>compare selected</button>
  <span id="runs-count" class="meta"></span>
</div>
<table class="runs"><thead id="runs-head"></thead><tbody id="runs-body"></tbody></table>`;
  const filter = byId<HTMLInputElement>(app, "runs-filter");
  const kind = byId<HTMLSelectElement>(app, "runs-kind");
  const status = byId<HTMLSelectElement>(app, "runs-status");
  const tag = byId<HTMLSelectElement>(app, "runs-tag");
  let wantedTags = tagsOfSearch(location.search);
  let tagOptions = "";
  const compare = byId<HTMLButtonElement>(app, "compare-selected");
  let runs: RunListItem[] = [];
  let sort: { key: SortKey; descending: boolean } = { key: "startedAt", descending: true };
  const selected: string[] = [];

  const render = () => {
    const withTags = runs.some((run) => run.tags.length > 0);
    const header = [
      "<th></th>",
      ...COLUMNS.map(
        (column) =>
          `<th class="sortable${column.key === sort.key ? (sort.descending ? " sorted-descending" : " sorted-ascending") : ""}" data-sort="${column.key}">${escapeHtml(column.label)}</th>`,
      ),
      withTags ? "<th>tags</th>" : "",
    ];
    byId(app, "runs-head").innerHTML = `<tr>${header.join("")}</tr>`;
    const options = tagOptionsHtml(runs, wantedTags);
    if (options !== tagOptions) {
      tagOptions = options;
      tag.innerHTML = options;
    }
    tag.value = wantedTags.join(",");
    const query = filter.value.trim().toLowerCase();
    const shown = runs
      .filter((run) => (kind.value === "" || run.kind === kind.value) && (status.value === "" || run.status === status.value))
      .filter((run) => wantedTags.every((wanted) => run.tags.includes(wanted)))
      .filter((run) => query === "" || [run.name, run.model, run.retriever, run.dataset, run.kind, ...run.tags].join(" ").toLowerCase().includes(query))
      .sort((a, b) => {
        const left = sortValue(a, sort.key);
        const right = sortValue(b, sort.key);
        const order = typeof left === "number" && typeof right === "number" ? left - right : String(left).localeCompare(String(right));
        return sort.descending ? -order : order;
      });
    byId(app, "runs-body").innerHTML = shown.map((run) => rowHtml(run, selected.includes(run.name), withTags)).join("");
    byId(app, "runs-count").textContent = `${shown.length} of ${runs.length} runs`;
    compare.disabled = selected.length < 2;
    compare.textContent = selected.length >= 2 ? `compare ${selected.join(" vs ")}` : "compare selected (pick two or more)";
  };

  for (const control of [filter, kind, status]) control.addEventListener("input", render);
  tag.addEventListener("input", () => {
    wantedTags = tag.value === "" ? [] : tag.value.split(",");
    const search = wantedTags.map((wanted) => `tag=${encodeURIComponent(wanted)}`).join("&");
    history.replaceState(null, "", search === "" ? location.pathname : `?${search}`);
    render();
  });
  app.addEventListener("click", (event) => {
    const target = event.target as HTMLElement;
    const header = target.closest<HTMLElement>("th[data-sort]");
    if (header?.dataset.sort) {
      const key = header.dataset.sort as SortKey;
      sort = { key, descending: sort.key === key ? !sort.descending : COLUMNS.find((column) => column.key === key)?.numeric === true };
      render();
    }
  });
  app.addEventListener("change", (event) => {
    const box = event.target as HTMLInputElement;
    const name = box.dataset.run;
    if (!box.classList.contains("pick") || name === undefined) return;
    const index = selected.indexOf(name);
    if (box.checked && index < 0) selected.push(name);
    if (!box.checked && index >= 0) selected.splice(index, 1);
    render();
  });
  compare.addEventListener("click", () => {
    location.href = `/compare?${selected.map((name) => `side=${encodeURIComponent(name)}`).join("&")}`;
  });

  return {
    async refresh() {
      const payload = await getJson<RunsPayload>("/api/runs");
      runs = payload.runs;
      byId(app, "database").textContent = `${payload.database}: ${runs.length} runs`;
      render();
    },
  };
}
