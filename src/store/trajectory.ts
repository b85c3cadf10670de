/**
 * The stored trajectory (predictions.trajectory_json, rollouts.trajectory_json), written and read
 * here only: every hop (query, ranked documents with id, title, body, score and whether they
 * support the answer, the extracted information, and with --num-hops auto whether the model had
 * enough), the collected information and the failure that ended the run, if any. The documents
 * text the LM saw is the extract call's user message in module_calls, so it is not repeated.
 */
import * as v from "valibot";
import type { ProgramResult } from "../program/types.ts";
import { jsonColumn } from "./json.ts";

const StoredDocumentSchema = v.object({
  id: v.string(),
  title: v.optional(v.string(), ""),
  body: v.optional(v.string(), ""),
  score: v.optional(v.nullable(v.number()), null),
  isSupporting: v.optional(v.boolean(), false),
});

const StoredHopSchema = v.object({
  hop: v.optional(v.number(), 0),
  query: v.optional(v.string(), ""),
  retrieved: v.optional(v.array(StoredDocumentSchema), []),
  keyInformation: v.optional(v.string(), ""),
  enough: v.optional(v.boolean()),
});

const StoredFailureSchema = v.object({
  kind: v.string(),
  module: v.optional(v.string(), ""),
  message: v.optional(v.string(), ""),
  service: v.optional(v.string()),
});

const StoredTrajectorySchema = v.object({
  hops: v.optional(v.array(StoredHopSchema), []),
  collectedInfo: v.optional(v.array(v.string()), []),
  failure: v.optional(v.nullable(StoredFailureSchema), null),
});

export type StoredTrajectory = v.InferOutput<typeof StoredTrajectorySchema>;

/** What trajectory_json holds for a program result. */
export function trajectoryOf(result: ProgramResult): StoredTrajectory {
  return {
    hops: result.hops.map((hop) => ({
      hop: hop.hop,
      query: hop.query,
      retrieved: hop.retrieved.map((document) => ({
        id: document.id,
        title: document.title,
        body: document.body,
        score: document.score,
        isSupporting: document.isSupporting,
      })),
      keyInformation: hop.keyInformation,
      ...(hop.enough === undefined ? {} : { enough: hop.enough }),
    })),
    collectedInfo: result.collectedInfo,
    failure: result.failure,
  };
}

/** A stored trajectory, or null when there is none (NULL) or it cannot be read. */
export function readTrajectory(text: string | null): StoredTrajectory | null {
  return jsonColumn(text, StoredTrajectorySchema);
}
