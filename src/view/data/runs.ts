/**
 * The runs page's data (GET /api/runs): every run with its kind (a dry run is labelled as one),
 * status, model, retriever, the dataset its scores were measured on, headline scores of its
 * latest predictions, training progress, and its tags (musique runs tag).
 */
import { parseConfig } from "../../report/data.ts";
import type { Store } from "../../store/database.ts";
import { runListOf, type RunListRow } from "../../store/view.ts";
import type { RunKindLabel, RunListItem, RunsPayload } from "../types.ts";

function text(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export function kindLabel(kind: string, config: Record<string, unknown>): RunKindLabel {
  if (kind === "train") return config.dryRun === true ? "dry run" : "train";
  return kind === "retrieve" ? "retrieve" : "evaluate";
}

/** Steps a training run plans: --num-train-steps, or --dry-run-steps for a dry run. */
export function plannedStepsOf(config: Record<string, unknown>): number | null {
  const steps = numberOrNull(config.numTrainSteps);
  const dry = numberOrNull(config.dryRunSteps);
  if (config.dryRun === true && dry !== null) return steps === null ? dry : Math.min(dry, steps);
  return steps;
}

function item(row: RunListRow): RunListItem {
  const config = parseConfig(row.configJson);
  const kind = kindLabel(row.kind, config);
  const training = row.kind === "train";
  return {
    name: row.name,
    kind,
    status: row.status,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    model: text(config.model) ?? row.model,
    retriever: text(config.retriever) ?? row.retriever,
    dataset: training ? (kind === "dry run" ? null : text(config.evalDatasets)) : (text(config.datasets) ?? row.dataset),
    step: row.step,
    n: row.n,
    em: row.em,
    f1: row.f1,
    recall: row.recall,
    supportF1: row.supportF1,
    reward: row.reward,
    failures: row.formatFailures + row.serviceFailures,
    completedSteps: row.completedSteps,
    plannedSteps: training ? plannedStepsOf(config) : null,
    tags: row.tags,
    error: row.error,
  };
}

export function runsPayload(store: Store): RunsPayload {
  return { database: store.path, runs: runListOf(store).map(item) };
}
