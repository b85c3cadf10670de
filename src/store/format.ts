/**
 * Printing query results: an aligned text table, CSV (RFC 4180 quoting, LF line ends unless CRLF
 * is asked for) or JSON
 * objects. `rowFormatter` turns rows into text as they arrive, so `musique query` never holds a
 * whole result: CSV and JSON write each row at once; the table measures its column widths on the
 * first TABLE_SAMPLE_ROWS rows (a result that fits is laid out exactly as formatTable does) and
 * prints later rows in those widths. Integers are exact at any size (bigint from safeIntegers).
 */
import type { QueryFormat } from "../config/defaults.ts";
import type { QueryResult, QueryValue } from "./query.ts";

const MAX_CELL = 80;

/** Rows a streamed table reads before it fixes its column widths. */
export const TABLE_SAMPLE_ROWS = 1000;

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

function rowCount(count: number): string {
  return `(${count} row${count === 1 ? "" : "s"})\n`;
}

/** A table's layout (widths, numeric columns) measured on some rows, and how it prints a row. */
class TableLayout {
  private readonly widths: number[];
  private readonly numeric: boolean[];

  constructor(
    private readonly columns: readonly string[],
    rows: readonly QueryValue[][],
    private readonly settings: Required<TableOptions>,
  ) {
    this.widths = columns.map((column) => column.length);
    for (const row of rows) {
      row.forEach((value, index) => {
        this.widths[index] = Math.max(this.widths[index] ?? 0, tableCell(value, settings).length);
      });
    }
    this.numeric = columns.map((_column, index) => rows.length > 0 && rows.every((row) => row[index] === null || isNumeric(row[index] ?? null)));
  }

  private line(values: readonly string[]): string {
    const text = values
      .map((value, index) => {
        const width = this.widths[index] ?? 0;
        return this.numeric[index] ? value.padStart(width) : value.padEnd(width);
      })
      .join("  ")
      .trimEnd();
    return text + "\n";
  }

  header(): string {
    return this.line(this.columns) + this.widths.map((width) => "-".repeat(width)).join("  ") + "\n";
  }

  row(values: readonly QueryValue[]): string {
    return this.line(values.map((value) => tableCell(value, this.settings)));
  }
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function formatTable(result: QueryResult, options: TableOptions = {}): string {
  const layout = new TableLayout(result.columns, result.rows, { nullText: options.nullText ?? "NULL", decimals: options.decimals ?? 4 });
  return layout.header() + result.rows.map((row) => layout.row(row)).join("") + rowCount(result.rows.length);
}

function csvField(value: QueryValue): string {
  if (value === null) return "";
  const text = value instanceof Uint8Array ? Buffer.from(value).toString("base64") : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(values: readonly QueryValue[], end = "\n"): string {
  return values.map(csvField).join(",") + end;
}

/** CSV (RFC 4180 quoting) with LF line ends, as Unix tools and pandas expect (CRLF when asked). */
export function formatCsv(result: QueryResult, options: { crlf?: boolean } = {}): string {
  const end = options.crlf ? "\r\n" : "\n";
  return csvLine(result.columns, end) + result.rows.map((row) => csvLine(row, end)).join("");
}

/** One value as JSON text; an integer keeps every digit (JSON numbers have no size limit). */
function jsonValue(value: QueryValue): string {
  if (value === null) return "null";
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString("base64"));
  return JSON.stringify(value) ?? "null";
}

/**
 * One row as a JSON object laid out like JSON.stringify(rows, null, 2) lays out an element; a
 * repeated column name keeps its first position and its last value (as an object would).
 */
function jsonObject(columns: readonly string[], values: readonly QueryValue[]): string {
  const last = new Map<string, number>();
  columns.forEach((column, index) => last.set(column, index));
  const fields = [...last.entries()].map(([column, index]) => `    ${JSON.stringify(column)}: ${jsonValue(values[index] ?? null)}`);
  return `  {\n${fields.join(",\n")}\n  }`;
}

/** One object per row, keyed by column name, as JSON text (an array). */
export function formatJson(result: QueryResult): string {
  if (result.rows.length === 0) return "[]\n";
  return "[\n" + result.rows.map((row) => jsonObject(result.columns, row)).join(",\n") + "\n]\n";
}

/** Text for a result as its rows arrive: `row` returns what can be written now, `end` the rest. */
export interface RowFormatter {
  row(values: QueryValue[]): string;
  end(): string;
}

class StreamedTable implements RowFormatter {
  private sample: QueryValue[][] | null = [];
  private layout: TableLayout | null = null;
  private count = 0;

  constructor(
    private readonly columns: readonly string[],
    private readonly settings: Required<TableOptions>,
  ) {}

  row(values: QueryValue[]): string {
    this.count++;
    if (this.layout) return this.layout.row(values);
    this.sample?.push(values);
    if ((this.sample?.length ?? 0) < TABLE_SAMPLE_ROWS) return "";
    return this.fix();
  }

  /** Measure the sampled rows, print them, and keep the layout for the rest. */
  private fix(): string {
    const rows = this.sample ?? [];
    this.sample = null;
    const layout = new TableLayout(this.columns, rows, this.settings);
    this.layout = layout;
    return layout.header() + rows.map((row) => layout.row(row)).join("");
  }

  end(): string {
    return (this.layout ? "" : this.fix()) + rowCount(this.count);
  }
}

/** A streaming formatter for `format` over `columns` (CSV lines end in CRLF with `crlf`). */
export function rowFormatter(
  format: QueryFormat,
  columns: readonly string[],
  options: { crlf?: boolean } = {},
): { begin: string; formatter: RowFormatter } {
  if (format === "csv") {
    const end = options.crlf ? "\r\n" : "\n";
    return { begin: csvLine(columns, end), formatter: { row: (values) => csvLine(values, end), end: () => "" } };
  }
  if (format === "json") {
    let count = 0;
    return {
      begin: "",
      formatter: {
        row: (values) => (count++ === 0 ? "[\n" : ",\n") + jsonObject(columns, values),
        end: () => (count === 0 ? "[]\n" : "\n]\n"),
      },
    };
  }
  return { begin: "", formatter: new StreamedTable(columns, { nullText: "NULL", decimals: 4 }) };
}
