/**
 * Download progress on stderr for large downloads: "label: 12.3 MB / 30.1 MB (41%)", at most
 * once per interval. On a terminal the line redraws in place; otherwise one log line per update.
 */
import { log, stderrIsTerminal } from "../log.ts";
import { formatBytes } from "../http/limits.ts";

export interface ProgressOptions {
  /** Only report downloads at least this large (or of unknown size once this many bytes came). */
  minBytes?: number;
  intervalMs?: number;
  /** Where lines go (tests capture them); `redraw` says the line may overwrite the previous one. */
  write?: (line: string, redraw: boolean, final: boolean) => void;
  now?: () => number;
  terminal?: boolean;
}

export const PROGRESS_MIN_BYTES = 5 * 1024 * 1024;


function defaultWrite(line: string, redraw: boolean, final: boolean): void {
  if (redraw) process.stderr.write(`\r${line}\u001b[K${final ? "\n" : ""}`);
  else log.info(line);
}

export class DownloadProgress {
  private bytes = 0;
  private lastReport: number;
  private reported = false;
  private readonly minBytes: number;
  private readonly intervalMs: number;
  private readonly write: (line: string, redraw: boolean, final: boolean) => void;
  private readonly now: () => number;
  private readonly terminal: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
    options: ProgressOptions = {},
  ) {
    this.minBytes = options.minBytes ?? PROGRESS_MIN_BYTES;
    this.terminal = options.terminal ?? stderrIsTerminal();
    this.intervalMs = options.intervalMs ?? (this.terminal ? 500 : 5000);
    this.write = options.write ?? defaultWrite;
    this.now = options.now ?? Date.now;
    this.lastReport = this.now();
  }

  private line(): string {
    if (this.total === undefined || this.total <= 0) return `${this.label}: ${formatBytes(this.bytes)}`;
    const percent = Math.min(100, Math.floor((this.bytes / this.total) * 100));
    return `${this.label}: ${formatBytes(this.bytes)} / ${formatBytes(this.total)} (${percent}%)`;
  }

  private large(): boolean {
    return this.total !== undefined && this.total > 0 ? this.total >= this.minBytes : this.bytes >= this.minBytes;
  }

  /** Count `bytes` more; report when the download is large and the interval has passed. */
  add(bytes: number): void {
    this.bytes += bytes;
    if (!this.large()) return;
    const now = this.now();
    if (now - this.lastReport < this.intervalMs) return;
    this.lastReport = now;
    this.reported = true;
    this.write(this.line(), this.terminal, false);
  }

  /** The final line (only when something was reported before). */
  finish(): void {
    if (!this.reported) return;
    this.write(this.line(), this.terminal, true);
  }
}
