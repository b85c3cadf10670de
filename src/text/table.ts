/**
 * THE table printer for text people read (score tables, recall, compare, data, runs, query):
 * a header, a rule of dashes, one line per row; columns padded to their widest cell by display
 * width (Bun.stringWidth: CJK and emoji count as two), text left-aligned and numbers right-
 * aligned, two spaces between columns, no trailing spaces. Cells arrive as text: each caller
 * decides how its numbers read. A table may have a title line above it, labelled sections (a
 * blank line and the section's name, e.g. "by hop count") and footnotes below; given a maximum
 * width, it narrows the columns that may be cut (a model name) with "…" until it fits.
 */

type Align = "left" | "right";

export interface Column {
  header: string;
  /** Default: the first column left, the others right (labels, then numbers). */
  align?: Align;
  /** Narrowest this column may be cut to (with "…") when the table must fit a width; absent: never cut. */
  minWidth?: number;
}

/** A row, or the start of a labelled section of rows. */
export type Row = readonly string[] | { readonly section: string };

export interface TableOptions {
  /** A line above the table (e.g. "per hop count"). */
  title?: string;
  /** Lines under the table (e.g. what `reward` is). */
  footnotes?: readonly string[];
  /** Spaces before every line (default 0). */
  indent?: number;
  /** Cut the columns that have a minWidth (widest first) until every line fits. */
  maxWidth?: number;
}

/** Column widths and alignment, measured once; a streamed table keeps them for later rows. */
export interface TableLayout {
  widths: number[];
  aligns: Align[];
  /** Columns whose cells are cut to the width (those with a minWidth); others print whole. */
  cuts: boolean[];
  indent: number;
}

const GAP = "  ";

export function displayWidth(text: string): number {
  return Bun.stringWidth(text);
}

function pad(text: string, width: number, align: Align): string {
  const fill = " ".repeat(Math.max(0, width - displayWidth(text)));
  return align === "right" ? fill + text : text + fill;
}

function columnsOf(columns: readonly (Column | string)[]): Column[] {
  return columns.map((column) => (typeof column === "string" ? { header: column } : column));
}

function isSection(row: Row): row is { readonly section: string } {
  return !Array.isArray(row);
}

/** `text` cut to `width` display columns, ending in "…" when cut. */
export function cutText(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let kept = "";
  for (const character of text) {
    if (displayWidth(kept + character) > width - 1) break;
    kept += character;
  }
  return kept + "…";
}

/** Widths from the header and `rows`; alignment from the columns. */
export function measureTable(columns: readonly (Column | string)[], rows: readonly Row[], indent = 0): TableLayout {
  const all = columnsOf(columns);
  const widths = all.map((column) => displayWidth(column.header));
  for (const row of rows) {
    if (isSection(row)) continue;
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, displayWidth(cell));
    });
  }
  return {
    widths,
    aligns: all.map((column, index) => column.align ?? (index === 0 ? "left" : "right")),
    cuts: all.map((column) => column.minWidth !== undefined),
    indent,
  };
}

/** Narrow the cuttable columns, the widest by one column at a time, until a line is at most `maxWidth` wide. */
function fit(layout: TableLayout, columns: readonly Column[], maxWidth: number): void {
  let total = layout.indent + layout.widths.reduce((sum, width) => sum + width, 0) + GAP.length * (layout.widths.length - 1);
  while (total > maxWidth) {
    let widest = -1;
    columns.forEach((column, index) => {
      const width = layout.widths[index] ?? 0;
      if (column.minWidth !== undefined && width > column.minWidth && (widest < 0 || width > (layout.widths[widest] ?? 0))) widest = index;
    });
    if (widest < 0) return;
    layout.widths[widest] = (layout.widths[widest] ?? 0) - 1;
    total -= 1;
  }
}

/** One line of the table (no newline); a cell wider than a cut column is cut with "…", in another column it stays whole. */
export function tableLine(layout: TableLayout, cells: readonly string[]): string {
  const text = cells
    .map((cell, index) => {
      const width = layout.widths[index] ?? 0;
      return pad(layout.cuts[index] ? cutText(cell, width) : cell, width, layout.aligns[index] ?? "left");
    })
    .join(GAP);
  return (" ".repeat(layout.indent) + text).trimEnd();
}

/** The header line and the rule under it. */
export function tableHeader(layout: TableLayout, columns: readonly (Column | string)[]): string[] {
  const headers = columnsOf(columns).map((column) => column.header);
  return [tableLine(layout, headers), " ".repeat(layout.indent) + layout.widths.map((width) => "-".repeat(width)).join(GAP)];
}

/** A whole table as lines: title, header, rule, rows (sections: a blank line and the name), footnotes. */
export function tableLines(columns: readonly (Column | string)[], rows: readonly Row[], options: TableOptions = {}): string[] {
  const layout = measureTable(columns, rows, options.indent ?? 0);
  if (options.maxWidth !== undefined) fit(layout, columnsOf(columns), options.maxWidth);
  const margin = " ".repeat(layout.indent);
  const lines = options.title === undefined ? [] : [margin + options.title];
  lines.push(...tableHeader(layout, columns));
  for (const row of rows) {
    if (isSection(row)) lines.push("", margin + row.section);
    else lines.push(tableLine(layout, row));
  }
  for (const footnote of options.footnotes ?? []) lines.push(margin + footnote);
  return lines;
}

/** A whole table as text (no trailing newline). */
export function formatTable(columns: readonly (Column | string)[], rows: readonly Row[], options: TableOptions = {}): string {
  return tableLines(columns, rows, options).join("\n");
}
