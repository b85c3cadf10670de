/**
 * THE duration and size formats of musique's text (progress lines, ETAs, reports, pages): one
 * compact style, `850ms`, `4.2s`, `45s`, `1m05s`, `2h03m`, `3d04h`, and bytes as `12.3 MB`.
 */

/** `-` when there is no duration (null), `?` when it cannot be known (NaN, infinite, negative). */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "-";
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, "0")}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${String(minutes % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, "0")}h`;
}

/** Bytes in powers of 1024: `10 B`, `2.0 kB`, `30.0 MB`, `1.25 GB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GB`;
}
