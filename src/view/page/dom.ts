/**
 * Small helpers of the musique view pages: fetching the JSON API (an API error carries its
 * message and fix), formatting numbers and steps ("after N steps"; 0 = before training), and
 * re-rendering a part of a page without losing which <details> were open.
 */
import { escapeHtml } from "../../report/escape.ts";
import type { ApiError } from "../types.ts";

export { escapeHtml };

class ApiFailure extends Error {
  constructor(
    message: string,
    readonly fix: string | null,
  ) {
    super(message);
  }
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  const body: unknown = await response.json();
  if (!response.ok) {
    const failure = body as Partial<ApiError>;
    throw new ApiFailure(failure.error ?? `HTTP ${response.status}`, failure.fix ?? null);
  }
  return body as T;
}

export function errorHtml(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const fix = error instanceof ApiFailure && error.fix ? `<div>fix: ${escapeHtml(error.fix)}</div>` : "";
  return `<div class="error-box"><b>${escapeHtml(message)}</b>${fix}</div>`;
}

export function formatNumber(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || Number.isNaN(value) ? "-" : value.toFixed(digits);
}

/** "before training" for 0, else "after N steps". */
/** A training step: "step N" (its rollouts were sampled after N − 1 steps; its updates make N). */
export function stepName(step: number): string {
  return `step ${step}`;
}

export function afterSteps(step: number): string {
  return step === 0 ? "before training (after 0 steps)" : `after ${step} step${step === 1 ? "" : "s"}`;
}

export function runPath(name: string): string {
  return `/run/${encodeURIComponent(name)}`;
}

export function apiRunPath(name: string): string {
  return `/api/runs/${encodeURIComponent(name)}`;
}

/** A key for a <details> that survives re-rendering: its own data-key, or the enclosing data-id and its summary. */
function detailsKey(details: HTMLDetailsElement): string {
  if (details.dataset.key) return details.dataset.key;
  const scope = details.parentElement?.closest("[data-id]")?.getAttribute("data-id") ?? "";
  return `${scope}|${details.querySelector("summary")?.textContent?.slice(0, 60) ?? ""}`;
}

/** Replace `element`'s content, keeping open every <details> that was open (matched by detailsKey). */
export function renderKeepingOpen(element: HTMLElement, html: string): void {
  const open = new Set([...element.querySelectorAll<HTMLDetailsElement>("details[open]")].map(detailsKey));
  element.innerHTML = html;
  for (const details of element.querySelectorAll<HTMLDetailsElement>("details")) {
    if (open.has(detailsKey(details))) details.open = true;
  }
}

/** The element with this id inside `root` (throws if the page markup lacks it: a bug). */
export function byId<T extends HTMLElement>(root: ParentNode, id: string): T {
  const element = root.querySelector<T>(`#${id}`);
  if (!element) throw new Error(`page element #${id} is missing`);
  return element;
}

export interface Page {
  /** Re-fetch what the page shows and re-render it (called on load and on every database change). */
  refresh(): Promise<void>;
}
