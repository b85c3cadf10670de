/**
 * Printing query results: an aligned text table (src/text/table.ts), CSV (RFC 4180 quoting, LF
 * line ends unless CRLF is asked for) or JSON objects. `rowFormatter` turns rows into text as they arrive, so `musique
 * query` never holds a whole result: CSV and JSON write each row at once; the table measures its
 * column widths on the first TABLE_SAMPLE_ROWS rows (a result that fits is laid out exactly as
 * formatTable does) and prints later rows in those widths (a wider later cell is printed whole).
 * Integers are exact at any size (bigint from safeIntegers); reals read as SQLite's own shell
 * prints them ("%!.15g": round(f1, 3) → 0.667, 1.0, 1.0e+20). A table cell longer
 * than `maxWidth` is cut and ends in "…", and the table says how many were cut (never silently);
 * CSV and JSON are never cut.
 */
import type { QueryFormat } from "../config/defaults.ts";
import { displayWidth, measureTable, tableHeader, tableLine, type TableLayout } from "../text/table.ts";
import type { QueryResult, QueryValue } from "./query.ts";

/** Rows a streamed table reads before it fixes its column widths. */
export const TABLE_SAMPLE_ROWS = 1000;

export interface TableOptions {
  /** Longest cell of a table in characters; 0 = no limit (default 80). */
  maxWidth?: number;
}

/** How `musique query` prints: table cell width, CSV line ends. */
export interface OutputOptions extends TableOptions {
  /** CSV lines end in CRLF instead of LF. */
  crlf?: boolean;
}

const DEFAULT_MAX_CELL = 80;

/** "0.500" → "0.5", "1.000" → "1.0": trailing zeros go, one digit stays after the point. */
function trimZeros(digits: string): string {
  return digits.includes(".") ? digits.replace(/0+$/, "").replace(/\.$/, ".0") : `${digits}.0`;
}

/**
 * A value as SQLite's shell prints it. INTEGER values (bigint: statements run with safeIntegers)
 * are printed whole; a REAL (a JS number) as printf's "%!.15g" does: 15 significant digits, a
 * point always (1.0, 0.0), trailing zeros dropped, an exponent of at least two digits below 1e-4
 * or from 1e15 on (1.0e+20, 1.0e-05), Inf for infinity. round(f1, 3) → 0.667.
 */
export function sqliteNumber(value: number | bigint): string {
  if (typeof value === "bigint") return String(value);
  if (Number.isNaN(value)) return "NULL";
  if (!Number.isFinite(value)) return value > 0 ? "Inf" : "-Inf";
  if (value === 0) return "0.0";
  const sign = value < 0 ? "-" : "";
  const [mantissa = "", exponentText = "0"] = Math.abs(value).toExponential(14).split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent > 14) {
    return `${sign}${trimZeros(mantissa)}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return sign + trimZeros(Math.abs(value).toFixed(14 - exponent));
}

/** The text of one table cell, and whether it was cut to `maxWidth`. */
function tableCell(value: QueryValue, maxWidth: number): { text: string; cut: boolean } {
  if (value === null) return { text: "NULL", cut: false };
  if (value instanceof Uint8Array) return { text: `<blob ${value.byteLength} bytes>`, cut: false };
  if (typeof value === "number" || typeof value === "bigint") return { text: sqliteNumber(value), cut: false };
  const text = String(value).replace(/\r?\n/g, "⏎").replace(/\t/g, " ");
  if (maxWidth <= 0 || displayWidth(text) <= maxWidth) return { text, cut: false };
  let kept = "";
  for (const character of text) {
    if (displayWidth(kept + character) > maxWidth - 1) break;
    kept += character;
  }
  return { text: kept + "…", cut: true };
}

function isNumeric(value: QueryValue): boolean {
  return typeof value === "number" || typeof value === "bigint";
}

/** The closing lines: the row count, and how many cells were cut (with the way to see them whole). */
function tableEnd(count: number, cuts: number, maxWidth: number): string {
  const rows = `(${count} row${count === 1 ? "" : "s"})\n`;
  if (cuts === 0) return rows;
  return (
    rows +
    `(${cuts} cell${cuts === 1 ? "" : "s"} cut at ${maxWidth} characters, ending in …: --max-width 0 shows them whole, --format csv or json never cuts)\n`
  );
}

/** A query table's layout measured on some rows: numbers right-aligned, text left. */
class QueryTable {
  private readonly layout: TableLayout;
  cuts = 0;

  constructor(
    private readonly columns: readonly string[],
    rows: readonly QueryValue[][],
    private readonly maxWidth: number,
  ) {
    const numeric = columns.map((_column, index) => rows.length > 0 && rows.every((row) => row[index] === null || isNumeric(row[index] ?? null)));
    const measured = rows.map((row) => row.map((value) => tableCell(value, maxWidth).text));
    this.layout = measureTable(
      columns.map((header, index) => ({ header, align: numeric[index] ? "right" : "left" })),
      measured,
    );
  }

  header(): string {
    return tableHeader(this.layout, this.columns).join("\n") + "\n";
  }

  row(values: readonly QueryValue[]): string {
    const cells = values.map((value) => {
      const cell = tableCell(value, this.maxWidth);
      if (cell.cut) this.cuts++;
      return cell.text;
    });
    return tableLine(this.layout, cells) + "\n";
  }
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function formatTable(result: QueryResult, options: TableOptions = {}): string {
  const maxWidth = options.maxWidth ?? DEFAULT_MAX_CELL;
  const table = new QueryTable(result.columns, result.rows, maxWidth);
  const body = result.rows.map((row) => table.row(row)).join("");
  return table.header() + body + tableEnd(result.rows.length, table.cuts, maxWidth);
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
  private table: QueryTable | null = null;
  private count = 0;

  constructor(
    private readonly columns: readonly string[],
    private readonly maxWidth: number,
  ) {}

  row(values: QueryValue[]): string {
    this.count++;
    if (this.table) return this.table.row(values);
    this.sample?.push(values);
    if ((this.sample?.length ?? 0) < TABLE_SAMPLE_ROWS) return "";
    return this.fix();
  }

  /** Measure the sampled rows, print them, and keep the layout for the rest. */
  private fix(): string {
    const rows = this.sample ?? [];
    this.sample = null;
    const table = new QueryTable(this.columns, rows, this.maxWidth);
    this.table = table;
    return table.header() + rows.map((row) => table.row(row)).join("");
  }

  end(): string {
    const rest = this.table ? "" : this.fix();
    return rest + tableEnd(this.count, this.table?.cuts ?? 0, this.maxWidth);
  }
}

/** A streaming formatter for `format` over `columns` (CSV lines end in CRLF with `crlf`). */
export function rowFormatter(format: QueryFormat, columns: readonly string[], options: OutputOptions = {}): { begin: string; formatter: RowFormatter } {
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
  return { begin: "", formatter: new StreamedTable(columns, options.maxWidth ?? DEFAULT_MAX_CELL) };
}
