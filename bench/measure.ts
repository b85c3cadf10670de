/**
 * What every suite reports: figures (median of several runs, with min and max), each with an
 * optional goal that is either MET or MISSED. Nothing here hides a miss.
 */

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Every run's value, in run order. */
  runs: number[];
}

type GoalDirection = "at least" | "at most";

export interface Goal {
  direction: GoalDirection;
  target: number;
  /** How the goal reads in the table, e.g. "≥ 5×". */
  text: string;
}

type Status = "MET" | "MISSED" | "info";

export interface Figure {
  suite: string;
  name: string;
  unit: string;
  value: Summary;
  /** Decimals shown for the value. */
  decimals: number;
  goal?: Goal | undefined;
  status: Status;
  note?: string | undefined;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error("summarize: no values");
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, runs: [...values] };
}

/** One value (no spread), e.g. a ratio of two medians. */
export function single(value: number): Summary {
  return { median: value, min: value, max: value, runs: [value] };
}

export function atLeast(target: number, text: string): Goal {
  return { direction: "at least", target, text };
}

export function atMost(target: number, text: string): Goal {
  return { direction: "at most", target, text };
}

/** Judge the median against the goal. */
function statusOf(value: Summary, goal: Goal | undefined): Status {
  if (!goal) return "info";
  const met = goal.direction === "at least" ? value.median >= goal.target : value.median <= goal.target;
  return met ? "MET" : "MISSED";
}

export interface FigureInput {
  name: string;
  unit: string;
  value: Summary;
  decimals?: number;
  goal?: Goal | undefined;
  note?: string | undefined;
}

/** A figure builder bound to one suite name. */
export function figuresFor(suite: string): (input: FigureInput) => Figure {
  return (input) => ({
    suite,
    name: input.name,
    unit: input.unit,
    value: input.value,
    decimals: input.decimals ?? 0,
    goal: input.goal,
    status: statusOf(input.value, input.goal),
    note: input.note,
  });
}

/** Run `work` `runs` times (after `warmups` untimed runs); each returns its own figure value. */
export async function repeat(runs: number, work: (run: number) => Promise<number> | number, warmups = 0): Promise<Summary> {
  for (let index = 0; index < warmups; index++) await work(-1 - index);
  const values: number[] = [];
  for (let index = 0; index < runs; index++) {
    Bun.gc(true);
    values.push(await work(index));
  }
  return summarize(values);
}

/** Progress lines for the person waiting (stderr; stdout carries the report). */
export function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

export function formatNumber(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return String(value);
  return value.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}
