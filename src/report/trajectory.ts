/**
 * A stored trajectory as reports show it (src/store/trajectory.ts writes and reads it): the hops
 * with their queries, retrieved documents and extracted information; which retrieved paragraphs
 * support the answer; the question of runs recorded before it was stored.
 */
import { readTrajectory } from "../store/trajectory.ts";

interface TrajectoryDocument {
  id: string;
  title: string;
  body: string;
  isSupporting: boolean;
}

export interface TrajectoryHop {
  query: string;
  documents: TrajectoryDocument[];
  keyInformation: string;
}

export interface Trajectory {
  hops: TrajectoryHop[];
  failure: string | null;
}

function record(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
}

/** A stored trajectory (src/store/trajectory.ts) as reports show it; missing or unreadable reads as "no hops". */
export function parseTrajectory(json: string | null): Trajectory {
  const stored = readTrajectory(json);
  if (stored === null) return { hops: [], failure: null };
  return {
    hops: stored.hops.map((hop) => ({
      query: hop.query,
      documents: hop.retrieved.map((document) => ({ id: document.id, title: document.title, body: document.body, isSupporting: document.isSupporting })),
      keyInformation: hop.keyInformation,
    })),
    failure: stored.failure ? `${stored.failure.kind} failure in ${stored.failure.module}: ${stored.failure.message}` : null,
  };
}

/**
 * Supporting ids among `retrievedIds`: from the trajectory's isSupporting flags, or (without a
 * trajectory) as many retrieved ids as the stored recall implies. Support F1 and recall depend
 * only on how many retrieved ids are supporting, so either gives the same scores.
 */
export function retrievedSupportingIds(retrievedIds: readonly string[], trajectory: Trajectory, recall: number | null, nHops: number): string[] {
  const supporting = new Set<string>();
  for (const hop of trajectory.hops) for (const document of hop.documents) if (document.isSupporting) supporting.add(document.id);
  if (trajectory.hops.length > 0) return retrievedIds.filter((id) => supporting.has(id));
  const found = Math.round((recall ?? 0) * nHops);
  return retrievedIds.slice(0, found);
}

/**
 * Recall of the supporting ids after hop 1, 2, …, `maxHops` (cumulative over hops). An example
 * that stopped earlier keeps its last value; one without a trajectory keeps its final recall.
 */
export function recallAfterEachHop(trajectory: Trajectory, goldCount: number, finalRecall: number | null, maxHops: number): number[] {
  if (trajectory.hops.length === 0 || goldCount === 0) return Array.from({ length: maxHops }, () => finalRecall ?? 0);
  const found = new Set<string>();
  const out: number[] = [];
  for (let index = 0; index < maxHops; index++) {
    const hop = trajectory.hops[index];
    if (hop) for (const document of hop.documents) if (document.isSupporting) found.add(document.id);
    out.push(found.size / goldCount);
  }
  return out;
}

/** The question as the program saw it: the `question` field of the first module call's user message. */
export function questionFromMessages(messagesJson: string | undefined): string {
  if (messagesJson === undefined) return "";
  let messages: unknown;
  try {
    messages = JSON.parse(messagesJson);
  } catch {
    return "";
  }
  if (!Array.isArray(messages)) return "";
  for (const message of messages) {
    const item = record(message);
    if (item?.role !== "user") continue;
    const match = /\[\[ ## question ## \]\]\n([\s\S]*?)(?:\n\n\[\[ ## |\n\nRespond with|$)/.exec(text(item.content));
    if (match) return (match[1] ?? "").trim();
  }
  return "";
}
