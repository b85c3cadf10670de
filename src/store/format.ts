/** Printing query results: an aligned text table, CSV (RFC 4180) or JSON objects. */
import type { QueryResult, QueryValue } from "./query.ts";

const MAX_CELL = 80;

export interface TableOptions {
  /** Shown for SQL NULL (default "NULL"). */
  nullText?: string;
  /** Decimals shown for non-integer numbers (default 4). */
  decimals?: number;
}

function tableCell(value: QueryValue, options: Required<TableOptions>): string {
  if (value === null) return options.nullText;
  if (value instanceof Uint8Array) return `<blob ${value.byteLength} bytes>`;
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(options.decimals);
  const text = String(value).replace(/\r?\n/g, "⏎").replace(/\t/g, " ");
  return text.length > MAX_CELL ? text.slice(0, MAX_CELL - 1) + "…" : text;
}

function isNumeric(value: QueryValue): boolean {
  return typeof value === "number" || typeof value === "bigint";
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function formatTable(result: QueryResult, options: TableOptions = {}): string {
  const settings = { nullText: options.nullText ?? "NULL", decimals: options.decimals ?? 4 };
  const cells = result.rows.map((row) => row.map((value) => tableCell(value, settings)));
  const widths = result.columns.map((column, index) =>
    Math.max(column.length, ...cells.map((row) => (row[index] ?? "").length)),
  );
  const numeric = result.columns.map((_column, index) =>
    result.rows.length > 0 && result.rows.every((row) => row[index] === null || isNumeric(row[index] ?? null)),
  );
  const line = (values: string[], alignNumbers: boolean) =>
    values
      .map((value, index) => {
        const width = widths[index] ?? 0;
        return alignNumbers && numeric[index] ? value.padStart(width) : value.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  const out = [line(result.columns, true), widths.map((width) => "-".repeat(width)).join("  ")];
  for (const row of cells) out.push(line(row, true));
  out.push(`(${result.rows.length} row${result.rows.length === 1 ? "" : "s"})`);
  return out.join("\n") + "\n";
}

function csvField(value: QueryValue): string {
  if (value === null) return "";
  const text = value instanceof Uint8Array ? Buffer.from(value).toString("base64") : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV (RFC 4180 quoting) with LF line ends, as Unix tools and pandas expect. */
export function formatCsv(result: QueryResult): string {
  const lines = [result.columns.map(csvField), ...result.rows.map((row) => row.map(csvField))];
  return lines.map((fields) => fields.join(",")).join("\n") + "\n";
}

function jsonValue(value: QueryValue): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (typeof value === "bigint") return Number(value);
  return value;
}

/** One object per row, keyed by column name. */
export function rowsAsObjects(result: QueryResult): Record<string, unknown>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((column, index) => [column, jsonValue(row[index] ?? null)])));
}
