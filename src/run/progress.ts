/**
 * A progress line on stderr: done/total, running scores, rate and ETA. On a terminal it
 * redraws in place; otherwise (CI, log files) it prints a line every `intervalMs`.
 */
import { log, stderrIsTerminal } from "../log.ts";

export interface ProgressOptions {
  label: string;
  total: number;
  /** Done before this process started (resume): counted as done, not in the rate. */
  alreadyDone?: number;
  intervalMs?: number;
  /** Force plain lines even on a terminal (tests). */
  plain?: boolean;
  write?: (text: string) => void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(rest).padStart(2, "0")}s`;
  return `${rest}s`;
}

export class Progress {
  private done: number;
  private readonly startedAt = Date.now();
  private lastDrawAt = 0;
  private metrics = "";
  private readonly terminal: boolean;
  private readonly write: (text: string) => void;

  constructor(private readonly options: ProgressOptions) {
    this.done = options.alreadyDone ?? 0;
    this.terminal = !options.plain && stderrIsTerminal();
    this.write = options.write ?? ((text) => process.stderr.write(text));
  }

  /** One more item finished; `metrics` is the running summary to show (e.g. "EM 0.41 F1 0.52"). */
  tick(metrics?: string): void {
    this.done += 1;
    if (metrics !== undefined) this.metrics = metrics;
    this.draw(false);
  }

  setMetrics(metrics: string): void {
    this.metrics = metrics;
  }

  line(): string {
    const { total, label } = this.options;
    const fresh = this.done - (this.options.alreadyDone ?? 0);
    const elapsed = (Date.now() - this.startedAt) / 1000;
    const rate = fresh > 0 ? fresh / elapsed : 0;
    const eta = rate > 0 ? (total - this.done) / rate : Number.NaN;
    const percent = total > 0 ? Math.floor((100 * this.done) / total) : 100;
    const width = 20;
    const filled = total > 0 ? Math.round((width * this.done) / total) : width;
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    const parts = [`${label} ${bar} ${this.done}/${total} (${percent}%)`];
    if (this.metrics) parts.push(this.metrics);
    parts.push(`${rate.toFixed(2)}/s`, `ETA ${formatDuration(eta)}`);
    return parts.join(" | ");
  }

  private draw(force: boolean): void {
    const now = Date.now();
    const interval = this.options.intervalMs ?? (this.terminal ? 100 : 10_000);
    const finished = this.done >= this.options.total;
    if (!force && !finished && now - this.lastDrawAt < interval) return;
    this.lastDrawAt = now;
    if (this.terminal) this.write(`\r\x1b[2K${this.line()}${finished ? "\n" : ""}`);
    else if (log.level >= 3) this.write(this.line() + "\n");
  }

  /** Final line (always printed). */
  finish(): void {
    if (this.terminal && this.done < this.options.total) this.write("\n");
    else if (!this.terminal && log.level >= 3 && this.done < this.options.total) this.write(this.line() + "\n");
  }
}
