/**
 * Comparability warnings of `musique compare`: differences in what was *evaluated* (dataset,
 * model, retriever, hops, temperature, the example sample), never in how a run was trained or
 * where it ran; and a short config diff of the other keys that change the numbers.
 */
import { snakeCase } from "../config/keys.ts";
import { canonicalJson } from "../store/runs.ts";
import type { LoadedRun } from "./compare-runs.ts";

export interface CompareWarning {
  kind: "same" | "dataset" | "model" | "retriever" | "hops" | "temperature" | "sample" | "config";
  message: string;
  /** The differing keys with each side's value ("config" lists several, the others one or two). */
  keys?: Array<{ key: string; values: Record<string, unknown> }>;
}

/** Keys with a warning of their own, in the order they are reported. */
const NAMED: ReadonlyArray<{ kind: CompareWarning["kind"]; keys: readonly string[]; what: string }> = [
  { kind: "dataset", keys: ["datasets"], what: "evaluated different datasets" },
  { kind: "model", keys: ["model"], what: "evaluated different base models" },
  { kind: "retriever", keys: ["retriever"], what: "differ in retriever" },
  { kind: "hops", keys: ["numHops", "maxHops"], what: "differ in hops" },
  { kind: "temperature", keys: ["temperature"], what: "differ in sampling temperature" },
];

function differs(values: readonly unknown[]): boolean {
  return new Set(values.map((value) => canonicalJson(value ?? null))).size > 1;
}

/** Keys whose values differ between the sides' evaluated settings, each side's value by label. */
export function configDifferences(
  sides: ReadonlyArray<{ run: string; config: Record<string, unknown> }>,
  keys?: readonly string[],
): Array<{ key: string; values: Record<string, unknown> }> {
  const all = keys ?? [...new Set(sides.flatMap((side) => Object.keys(side.config)))].sort();
  return all
    .filter((key) => differs(sides.map((side) => side.config[key])))
    .map((key) => ({ key, values: Object.fromEntries(sides.map((side) => [side.run, side.config[key] ?? null])) }));
}

function describe(entry: { key: string; values: Record<string, unknown> }): string {
  return Object.entries(entry.values)
    .map(([run, value]) => `${run}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
}

export function comparabilityWarnings(loaded: readonly LoadedRun[], pairedCount: number): CompareWarning[] {
  const sides = loaded.map((run) => ({ run: run.label, config: run.evaluated }));
  const warnings: CompareWarning[] = [];
  loaded.forEach((run, index) => {
    const same = loaded.slice(0, index).find((other) => other.record.id === run.record.id && other.step === run.step);
    if (same)
      warnings.push({ kind: "same", message: `${run.label} and ${same.label} are the same predictions (step ${run.step ?? "-"}): their differences are 0` });
  });
  const named = new Set<string>();
  for (const { kind, keys, what } of NAMED) {
    for (const key of keys) named.add(key);
    // maxHops only matters when a side lets the model decide (--num-hops auto)
    const relevant = kind === "hops" && !sides.some((side) => side.config.numHops === "auto") ? ["numHops"] : keys;
    const found = configDifferences(sides, relevant);
    if (found.length > 0) warnings.push({ kind, message: `runs ${what}: ${found.map(describe).join("; ")}`, keys: found });
  }
  const samples = loaded.map((run) => [...run.plannedIds].sort().join("\n"));
  const evaluated = loaded.map((run) => [...run.byId.keys()].sort().join("\n"));
  if (differs(samples) || differs(evaluated)) {
    const sizes = loaded.map((run) => `${run.label}: ${run.byId.size} of ${run.plannedIds.length}`).join(", ");
    warnings.push({
      kind: "sample",
      message: `runs evaluated different examples (${sizes}); only the ${pairedCount} examples all of them evaluated are compared`,
    });
  }
  const rest = configDifferences(sides).filter((entry) => !named.has(entry.key));
  if (rest.length > 0) {
    warnings.push({
      kind: "config",
      message: `runs differ in settings that change the scores: ${rest.map((entry) => snakeCase(entry.key)).join(", ")}`,
      keys: rest,
    });
  }
  return warnings;
}
