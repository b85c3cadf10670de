/**
 * A seeded, probabilistic fault schedule shared by the fake servers (LM, rerank/TEI, Arbor):
 * each request draws once; with probability `rate` it gets a fault chosen uniformly from
 * `faults` (optionally weighted), otherwise it is answered normally. The same seed and the same
 * number of draws give the same sequence of faults, on every machine.
 *
 *   const schedule = faultSchedule({ seed: 7, rate: 0.1, faults: [{ kind: "reset" }, …] });
 *   startFakeOpenAI({ schedule });      // or startFakeRerank({ schedule }), startFakeArbor({ schedule })
 *   schedule.draws / schedule.injected.length / schedule.countsByKind()
 */
import { mulberry32 } from "../../src/data/random.ts";

export interface FaultScheduleOptions<F> {
  seed: number;
  /** Probability in [0, 1] that a request gets a fault. */
  rate: number;
  faults: readonly F[];
  /** Relative weights of `faults` (same length); default: all equal. */
  weights?: readonly number[];
}

export interface FaultSchedule<F> {
  readonly seed: number;
  readonly rate: number;
  /** Requests that drew (faulted or not). */
  readonly draws: number;
  /** The faults handed out, in order. */
  readonly injected: readonly F[];
  /**
   * The next request's fault, or undefined. `eligible` restricts the choice (e.g. to one
   * route); a request with no eligible fault still draws, so the sequence stays seeded.
   */
  next(eligible?: (fault: F) => boolean): F | undefined;
  /** Injected faults per label (`kind`, `status`, `route`…: see `labelOf`). */
  countsByKind(): Record<string, number>;
}

/** A short label for a fault object: its kind, plus the status for HTTP status faults. */
function labelOf(fault: unknown): string {
  if (typeof fault !== "object" || fault === null) return String(fault);
  const record = fault as { kind?: unknown; status?: unknown; route?: unknown; delayMs?: unknown; ms?: unknown; reset?: unknown };
  const parts: string[] = [];
  if (typeof record.route === "string") parts.push(record.route);
  if (typeof record.kind === "string") parts.push(record.kind);
  if (typeof record.delayMs === "number") parts.push(`delay ${record.delayMs}ms`);
  if (typeof record.ms === "number") parts.push(`${record.ms}ms`);
  if (typeof record.status === "number") parts.push(String(record.status));
  if (record.reset === true) parts.push("reset");
  return parts.join(":") || "fault";
}

export function faultSchedule<F>(options: FaultScheduleOptions<F>): FaultSchedule<F> {
  if (!(options.rate >= 0 && options.rate <= 1)) throw new RangeError(`rate must be in [0, 1], got ${options.rate}`);
  if (options.weights && options.weights.length !== options.faults.length) {
    throw new RangeError("weights must have one entry per fault");
  }
  const random = mulberry32(options.seed);
  const injected: F[] = [];
  let draws = 0;
  return {
    seed: options.seed,
    rate: options.rate,
    get draws() {
      return draws;
    },
    injected,
    next(eligible) {
      draws += 1;
      const hit = random() < options.rate;
      const pick = random();
      if (!hit) return undefined;
      const indexes = options.faults.map((_, index) => index).filter((index) => !eligible || eligible(options.faults[index] as F));
      if (indexes.length === 0) return undefined;
      const weights = indexes.map((index) => options.weights?.[index] ?? 1);
      const total = weights.reduce((sum, weight) => sum + weight, 0);
      let threshold = pick * total;
      let chosen = indexes[indexes.length - 1] as number;
      for (const [position, index] of indexes.entries()) {
        threshold -= weights[position] ?? 0;
        if (threshold < 0) {
          chosen = index;
          break;
        }
      }
      const fault = options.faults[chosen] as F;
      injected.push(fault);
      return fault;
    },
    countsByKind() {
      const counts: Record<string, number> = {};
      for (const fault of injected) counts[labelOf(fault)] = (counts[labelOf(fault)] ?? 0) + 1;
      return counts;
    },
  };
}
