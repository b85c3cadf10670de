/**
 * THE progress reporter of downloads, retrieve, evaluate and train: done / total (percent),
 * the caller's running numbers, the rate and an ETA (the time taken once complete), throttled to
 * one line per interval (the first after one interval; the complete one always).
 *   evaluate: 12/30 (40%) | EM 0.410 F1 0.520 | 1.9s/example | ETA 35s
 *   retrieve: 150/150 (100%) | 171.2/s | in 876ms
 *   downloading bdsaglam/musique,answerable,train: 12.3 MB / 30.1 MB (41%) | 4.1 MB/s | ETA 4.3s
 * Where a line goes is the output's business (src/log.ts `progressOutput`: redrawn in place on a
 * terminal, a log line otherwise); this module computes and throttles lines only.
 */
import { formatBytes, formatDuration } from "./duration.ts";

export interface ProgressOutput {
  /** Show a line; `final` is the last one. */
  show: (line: string, final: boolean) => void;
  /** Whether lines replace each other in place (a terminal): they may come often and carry a bar. */
  redraws: boolean;
}

export interface ProgressOptions {
  label: string;
  /** Unknown when undefined (a download without a length). */
  total?: number | undefined;
  /** `count` (default) or `bytes`. */
  unit?: "count" | "bytes";
  /** What one item is, for the rate when it is below one per second ("example" → 1.9s/example). */
  item?: string;
  /** Done before this process started (a resume): counted as done, left out of the rate. */
  alreadyDone?: number;
  /** Stay quiet unless the total (or, when unknown, the amount done) reaches this. */
  quietBelow?: number;
  /** Least time between two lines (default: 200 ms when redrawing, else 10 s). */
  intervalMs?: number;
  now?: () => number;
  output: ProgressOutput;
}

const BAR_WIDTH = 20;

export class Progress {
  private done: number;
  private metrics = "";
  private readonly startedAt: number;
  private lastShownAt: number;
  private shown = false;
  private finished = false;
  private readonly now: () => number;
  private readonly intervalMs: number;

  constructor(private readonly options: ProgressOptions) {
    this.done = options.alreadyDone ?? 0;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.lastShownAt = this.startedAt;
    this.intervalMs = options.intervalMs ?? (options.output.redraws ? 200 : 10_000);
  }

  /** `amount` more done (default 1); `metrics` replaces the running numbers shown. */
  add(amount = 1, metrics?: string): void {
    this.set(this.done + amount, metrics);
  }

  /** Set how much is done in all (e.g. the step a loop reached). */
  set(done: number, metrics?: string): void {
    this.done = done;
    if (metrics !== undefined) this.metrics = metrics;
    if (this.quiet()) return;
    const complete = this.options.total !== undefined && this.done >= this.options.total;
    if (!complete && this.now() - this.lastShownAt < this.intervalMs) return;
    this.show(complete);
  }

  /** The last line: shown when something was shown before and the end has not been (or when never quiet). */
  finish(): void {
    if (this.finished || (this.quiet() && !this.shown)) return;
    this.show(true);
  }

  line(): string {
    const { label, total, unit } = this.options;
    const amount = (value: number) => (unit === "bytes" ? formatBytes(value) : String(value));
    const parts: string[] = [];
    if (total === undefined || total <= 0) parts.push(`${label}: ${amount(this.done)}`);
    else {
      const percent = Math.min(100, Math.floor((100 * this.done) / total));
      const bar = this.options.output.redraws ? ` ${this.bar(total)}` : "";
      parts.push(`${label}: ${amount(this.done)}${unit === "bytes" ? " / " : "/"}${amount(total)} (${percent}%)${bar}`);
    }
    if (this.metrics) parts.push(this.metrics);
    const seconds = (this.now() - this.startedAt) / 1000;
    const fresh = this.done - (this.options.alreadyDone ?? 0);
    if (fresh > 0 && seconds > 0) {
      const rate = fresh / seconds;
      parts.push(this.rateText(rate));
      if (total !== undefined && total > this.done) parts.push(`ETA ${formatDuration((total - this.done) / rate)}`);
      else if (total !== undefined) parts.push(`in ${formatDuration(seconds)}`);
    }
    return parts.join(" | ");
  }

  private rateText(rate: number): string {
    if (this.options.unit === "bytes") return `${formatBytes(rate)}/s`;
    if (rate < 1) return `${formatDuration(1 / rate)}/${this.options.item ?? "item"}`;
    return `${rate.toFixed(1)}/s`;
  }

  private bar(total: number): string {
    const filled = Math.min(BAR_WIDTH, Math.round((BAR_WIDTH * this.done) / total));
    return "█".repeat(filled) + "░".repeat(BAR_WIDTH - filled);
  }

  private quiet(): boolean {
    const threshold = this.options.quietBelow;
    if (threshold === undefined) return false;
    const { total } = this.options;
    return total !== undefined && total > 0 ? total < threshold : this.done < threshold;
  }

  private show(final: boolean): void {
    this.lastShownAt = this.now();
    this.shown = true;
    this.finished = final;
    this.options.output.show(this.line(), final);
  }
}
