/**
 * One measuring window of the adaptive limit (adaptive-limit.ts, whose header explains the
 * method): the cohort of requests it measures, their latencies against their sizes, the
 * requests in flight over time, and what that gives by Little's law. Pure functions over the
 * window's sums; no clock of its own.
 */

/** Cohort size bounds (adaptive-limit.ts's header). */
const MIN_COHORT = 16;
const MAX_COHORT = 64;
/** A window closes once this share of its cohort ended (the slowest few would double its length). */
const COHORT_SHARE = 0.9;

/** What one window measured. */
export interface WindowMeasure {
  limit: number;
  /** Requests/s by Little's law: average in flight ÷ mean latency. */
  throughput: number;
  /** Units (tokens) per second: average in flight ÷ latency per unit. */
  unitThroughput: number;
  medianLatencyMs: number;
  averageInFlight: number;
}

export interface Window {
  number: number;
  limit: number;
  /** Requests started under earlier windows, still in flight. */
  older: number;
  /** When measuring began (null while older requests drain). */
  startedAt: number | null;
  cohortSize: number;
  /** Cohort requests started, and ended (measured or not). */
  started: number;
  ended: number;
  /** Sums for the least-squares line latency = a + b·units over the cohort. */
  latencySum: number;
  unitSum: number;
  unitSquareSum: number;
  productSum: number;
  latencies: number[];
  /** ∫ in flight dt since startedAt. */
  inFlightArea: number;
}

/** A window for `limit`, with `inFlight` requests sent under earlier limits still running. */
export function emptyWindow(number: number, limit: number, inFlight: number): Window {
  return {
    number,
    limit,
    older: inFlight,
    startedAt: null,
    cohortSize: Math.max(MIN_COHORT, Math.min(limit, MAX_COHORT)),
    started: 0,
    ended: 0,
    latencySum: 0,
    unitSum: 0,
    unitSquareSum: 0,
    productSum: 0,
    latencies: [],
    inFlightArea: 0,
  };
}

/** Add one cohort request's latency and size (units, e.g. completion tokens); returns the units counted. */
export function addSample(window: Window, latencyMs: number, sizeUnits: number): number {
  const latency = Math.max(0, latencyMs);
  const units = Math.max(1, sizeUnits);
  window.latencySum += latency;
  window.unitSum += units;
  window.unitSquareSum += units * units;
  window.productSum += units * latency;
  window.latencies.push(latency);
  return units;
}

/** Whether the window's cohort has all started and COHORT_SHARE of it ended. */
export function cohortEnded(window: Window): boolean {
  return window.started >= window.cohortSize && window.ended >= Math.ceil(COHORT_SHARE * window.started);
}

/** What the window measured by `now` (null before it measured anything). */
export function measureWindow(window: Window, now: number, inFlight: number, typicalUnits: number): WindowMeasure | null {
  const count = window.latencies.length;
  if (window.startedAt === null || count === 0 || window.latencySum <= 0) return null;
  const elapsed = now - window.startedAt;
  const averageInFlight = elapsed > 0 ? window.inFlightArea / elapsed : inFlight;
  const latency = typicalLatency(window, typicalUnits);
  return {
    limit: window.limit,
    throughput: (1000 * averageInFlight) / latency,
    unitThroughput: (1000 * averageInFlight * typicalUnits) / latency,
    medianLatencyMs: median(window.latencies),
    averageInFlight,
  };
}

/**
 * The latency of a request of the typical size: the least-squares line latency = a + b·units
 * through the cohort, read at `typicalUnits`. A batching server's latency grows with the tokens a
 * request decodes, a queue adds the same wait to every request: the line separates the two, so
 * the estimate does not depend on which lengths happened to be in the cohort (the mean latency
 * alone varies by ~7 % between cohorts of 60 with lengths as varied as real completions).
 * Without varied sizes (no usage reported) it is the mean latency.
 */
function typicalLatency(window: Pick<Window, "latencySum" | "unitSum" | "unitSquareSum" | "productSum" | "latencies">, typicalUnits: number): number {
  const count = window.latencies.length;
  const meanUnits = window.unitSum / count;
  const meanLatency = window.latencySum / count;
  const unitVariance = window.unitSquareSum / count - meanUnits * meanUnits;
  if (count < 3 || unitVariance <= 1e-9 * meanUnits * meanUnits) return meanLatency;
  const slope = Math.max(0, (window.productSum / count - meanUnits * meanLatency) / unitVariance);
  const estimate = meanLatency + slope * (typicalUnits - meanUnits);
  return estimate > 0 ? estimate : meanLatency;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
