/**
 * One hop of a trajectory as HTML (query, retrieved paragraphs with the supporting ones marked,
 * extracted information), shared by report --html, compare --html and musique view. Hops are
 * 1-based on screen. Every value is escaped.
 */
import { escapeHtml } from "./escape.ts";
import type { TrajectoryHop } from "./trajectory.ts";

const DOCUMENT_PREVIEW = 400;

export function documentsHtml(hop: TrajectoryHop): string {
  const documents = hop.documents.map((document) => {
    const body = document.body.length > DOCUMENT_PREVIEW ? `${document.body.slice(0, DOCUMENT_PREVIEW)}…` : document.body;
    return `<div class="document${document.isSupporting ? " is-supporting" : ""}"><code>[${escapeHtml(document.id)}]</code> <b>${escapeHtml(document.title)}</b>${
      document.isSupporting ? ' <span class="supporting">supporting</span>' : ""
    }: ${escapeHtml(body)}</div>`;
  });
  return documents.join("") || '<div class="document note">no documents</div>';
}

export function extractedHtml(hop: TrajectoryHop): string {
  return `<div>extracted: ${escapeHtml(hop.keyInformation) || '<span class="note">(nothing)</span>'}</div>`;
}

/** `index` is 0-based (the stored hop); the heading shows it 1-based. */
export function hopHtml(hop: TrajectoryHop, index: number): string {
  return `<div class="hop"><div><b>hop ${index + 1}</b> query: ${escapeHtml(hop.query)}</div>${documentsHtml(hop)}${extractedHtml(hop)}</div>`;
}
