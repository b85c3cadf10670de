/**
 * The stylesheet of the self-contained HTML pages (report --html, compare --html) and of the
 * same fragments inside musique view, and the document around a self-contained page. Plain CSS,
 * no external fonts or resources.
 */
import { escapeHtml } from "./escape.ts";
export const REPORT_STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #111827; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; }
.meta { color: #4b5563; } .status-completed { color: #15803d; } .status-failed, .status-interrupted { color: #b91c1c; }
table { border-collapse: collapse; margin: 8px 0; } th, td { padding: 4px 8px; border-bottom: 1px solid #e5e7eb; text-align: left; vertical-align: top; }
th { background: #f9fafb; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
tr.section th { background: #fff; padding-top: 12px; font-weight: 600; color: #374151; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; } .chart { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; }
.chart-title { font-weight: 600; font-size: 13px; } .tick, .legend, .bar-value { font-size: 11px; fill: #374151; } .axis-label { font-size: 12px; fill: #374151; }
.grid { stroke: #e5e7eb; } .axis { stroke: #6b7280; }
.note { color: #6b7280; font-style: italic; } code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
pre.config { background: #f9fafb; padding: 8px; white-space: pre-wrap; }
.filters { display: flex; gap: 12px; align-items: center; margin: 8px 0; } .filters input { width: 320px; padding: 4px; }
tbody.example tr.trajectory td { border-bottom: 2px solid #d1d5db; } details { margin: 2px 0; } summary { cursor: pointer; color: #1d4ed8; }
.hop { margin: 6px 0 10px 12px; } .document { margin: 2px 0 2px 12px; } .supporting { color: #15803d; font-weight: 600; }
.error { color: #b91c1c; }
.side-by-side { border-collapse: collapse; width: 100%; table-layout: fixed; } .side-by-side col.hop-label { width: 80px; }
.side-by-side td { border-left: 1px solid #e5e7eb; } .flip-counts td, .flip-counts th { text-align: right; }
.right { color: #15803d; } .wrong { color: #b91c1c; } .warning { color: #92400e; }`;

/** A whole self-contained page: `body` is trusted HTML (built from escaped values), the title is escaped here. */
export function standalonePage(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
