/**
 * Raw rows (official MuSiQue format, from JSONL, JSON or Parquet) → validated `Example`s.
 * A bad row names its source, its row (1-based line for JSONL), the field and the reason;
 * `--skip-invalid` skips and counts such rows instead.
 */
import * as v from "valibot";
import { DataError } from "../errors.ts";
import { log } from "../log.ts";
import { RowSchema, idShape, type Row } from "./official.ts";
import { fixQuotes } from "./quotes.ts";
import type { Example } from "./types.ts";

/**
 * One row before validation: a parsed value, or the reason it could not be parsed; `invalidUtf8`
 * when bytes that were not UTF-8 were replaced by U+FFFD while reading it.
 */
export type RawRow = ({ row: number; value: unknown } | { row: number; parseError: string }) & { invalidUtf8?: boolean };

/** Where rows came from: `file.jsonl` + "line", a Hub spec + "row", a JSON file + "record". */
export interface RowSource {
  source: string;
  unit: "line" | "row" | "record";
}

/** A validated row → Example (fix_quotes, supporting ids, hop count, shape, gold answers). */
export function toExample(row: Row): Example {
  const paragraphs = row.paragraphs.map((paragraph) => ({
    idx: paragraph.idx,
    title: paragraph.title,
    text: fixQuotes(paragraph.paragraph_text),
    isSupporting: paragraph.is_supporting,
  }));
  const supportingIds = paragraphs.filter((paragraph) => paragraph.isSupporting).map((paragraph) => String(paragraph.idx));
  const aliases = row.answer_aliases ?? [];
  const nHops = supportingIds.length;
  return {
    id: row.id,
    question: row.question,
    answer: row.answer,
    answerAliases: aliases,
    answers: [row.answer, ...aliases],
    paragraphs,
    supportingIds,
    nHops,
    // Ids that do not start with a MuSiQue shape fall back to the count.
    shape: idShape(row.id)?.shape ?? `${nHops}hop`,
    decomposition: (row.question_decomposition ?? []).map((step) => ({
      id: step.id,
      question: step.question,
      answer: step.answer,
      paragraphSupportIdx: step.paragraph_support_idx ?? null,
    })),
    answerable: row.answerable ?? true,
  };
}

function describeReceived(input: unknown): string {
  if (input === undefined) return "nothing";
  if (input === null) return "null";
  if (typeof input === "string") return JSON.stringify(input.length > 40 ? input.slice(0, 40) + "…" : input);
  if (typeof input === "bigint") return `${input}`;
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "an object";
  return String(input);
}

function fieldPath(issue: v.BaseIssue<unknown>): string {
  let out = "";
  for (const item of issue.path ?? []) {
    const key = item.key;
    out += typeof key === "number" ? `[${key}]` : out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** A row's one problem (field and reason), or what it validated to. */
export type RowCheck<T> = { field: string; reason: string } | { accepted: T };

/** Check a parsed JSON value against `schema`: the first problem, named by its field, or the output. */
export function checkAgainst<S extends v.GenericSchema<unknown, unknown>>(schema: S, value: unknown): RowCheck<v.InferOutput<S>> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { field: "(row)", reason: `must be a JSON object, got ${describeReceived(value)}` };
  }
  const result = v.safeParse(schema, value, { abortEarly: true });
  if (result.success) return { accepted: result.output };
  const issue = result.issues[0];
  const field = fieldPath(issue);
  if (field === "") return { field: "(row)", reason: `must be a JSON object, got ${describeReceived(value)}` };
  if (issue.input === undefined && issue.kind === "schema") return { field, reason: "is missing" };
  const expected = issue.kind === "schema" && issue.type !== "union" ? `must be ${expectedText(issue.expected)}` : issue.message;
  return { field, reason: `${expected}, got ${describeReceived(issue.input)}` };
}

/** A MuSiQue record (a dataset row, a gold-file line) → its Example, or its one problem. */
export function rowProblem(value: unknown): { field: string; reason: string } | { example: Example } {
  const checked = checkAgainst(RowSchema, value);
  if (!("accepted" in checked)) return checked;
  return contentProblem(checked.accepted) ?? { example: toExample(checked.accepted) };
}

/** What a validator accepts: how a row is checked, and what a message about a bad one says. */
export interface RowKind<T> {
  check(value: unknown): RowCheck<T>;
  cause: string;
  fix: string;
}

/** Dataset rows and gold files: MuSiQue records, as Examples. */
export const EXAMPLE_ROWS: RowKind<Example> = {
  check: (value) => {
    const checked = rowProblem(value);
    return "example" in checked ? { accepted: checked.example } : checked;
  },
  cause:
    "the row does not follow the official MuSiQue format (id, question, paragraphs [{idx, title, paragraph_text, is_supporting}], " +
    "question_decomposition, answer, answer_aliases, answerable)",
  fix: "fix or remove the row, or pass --skip-invalid to skip (and count) invalid rows",
};

/**
 * Rows of the right shape that still cannot be scored: no paragraphs, or an answerable question
 * without a supporting paragraph (its retrieval recall would be a meaningless 1.0).
 */
function contentProblem(row: Row): { field: string; reason: string } | undefined {
  if (row.paragraphs.length === 0) return { field: "paragraphs", reason: "is empty: a question needs its paragraphs" };
  const answerable = row.answerable ?? true;
  if (answerable && !row.paragraphs.some((paragraph) => paragraph.is_supporting)) {
    return { field: "paragraphs", reason: "has no supporting paragraph (is_supporting: true): an answerable question needs at least one" };
  }
  return undefined;
}

const EXPECTED: Record<string, string> = {
  Array: "a list",
  Object: "an object",
  string: "a string",
  boolean: "true or false",
  number: "a number",
};

function expectedText(expected: string | null): string {
  if (expected === null) return "valid";
  return EXPECTED[expected] ?? expected;
}

/** One JSONL line → a row (undefined for a blank line, which is not a row). */
export function parseJsonLine(text: string, line: number): RawRow | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  try {
    return { row: line, value: JSON.parse(trimmed) };
  } catch (error) {
    return { row: line, parseError: `not valid JSON (${error instanceof Error ? error.message : String(error)})` };
  }
}

/** JSONL text → rows (1-based line numbers; blank lines are not rows). */
export function parseJsonLines(content: string): RawRow[] {
  const rows: RawRow[] = [];
  let line = 0;
  let start = 0;
  while (start <= content.length) {
    let end = content.indexOf("\n", start);
    if (end < 0) end = content.length;
    line++;
    const row = parseJsonLine(content.slice(start, end), line);
    start = end + 1;
    if (row) rows.push(row);
  }
  return rows;
}

/** A JSON array file → rows (1-based record numbers). */
export function parseJsonArray(content: string, source: string): RawRow[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (error) {
    throw new DataError(`${source}: not valid JSON (${error instanceof Error ? error.message : String(error)})`, {
      fix: "a .json dataset is one JSON array of records; use .jsonl for one record per line",
    });
  }
  if (!Array.isArray(parsed)) {
    throw new DataError(`${source}: expected a JSON array of records, got ${describeReceived(parsed)}`, {
      fix: "a .json dataset is one JSON array of records; use .jsonl for one record per line",
    });
  }
  return parsed.map((value, index) => ({ row: index + 1, value }));
}

export interface ValidationResult {
  examples: Example[];
  skipped: number;
}

/** How many skipped rows are described one by one before only counting. */
const SKIP_REPORT_LIMIT = 5;

/**
 * Validates rows one at a time, so a loader can turn each row into an Example as soon as it is
 * read and drop the raw row. Without `skipInvalid` the first bad row throws a DataError naming
 * the source, row, field and reason; with it, bad rows are skipped, counted, and the first few logged.
 */
export class RowValidator<T> {
  skipped = 0;
  /** Rows read with invalid UTF-8 (replaced by U+FFFD). */
  invalidUtf8 = 0;

  /** `kind`: EXAMPLE_ROWS for MuSiQue records, PREDICTION_ROWS (official-files.ts) for predictions. */
  constructor(
    private readonly where: RowSource,
    private readonly skipInvalid: boolean,
    private readonly kind: RowKind<T>,
  ) {}

  /** What a valid row validated to, or undefined for a skipped invalid row. */
  accept(raw: RawRow): T | undefined {
    if (raw.invalidUtf8) this.warnInvalidUtf8(raw.row);
    let problem: string;
    if ("parseError" in raw) {
      problem = raw.parseError;
    } else {
      const checked = this.kind.check(raw.value);
      if ("accepted" in checked) return checked.accepted;
      problem = `field ${checked.field} ${checked.reason}`;
    }
    const message = `${this.where.source} ${this.where.unit} ${raw.row}: ${problem}`;
    if (!this.skipInvalid) {
      throw new DataError(message, {
        cause: this.kind.cause,
        fix: this.kind.fix,
      });
    }
    this.skipped++;
    if (this.skipped <= SKIP_REPORT_LIMIT) log.warn(`skipping ${message}`);
    return undefined;
  }

  private warnInvalidUtf8(row: number): void {
    this.invalidUtf8++;
    if (this.invalidUtf8 <= SKIP_REPORT_LIMIT) {
      log.warn(`${this.where.source} ${this.where.unit} ${row}: bytes that are not valid UTF-8 were replaced by U+FFFD`);
    }
  }

  /** Log the totals when more rows were skipped (or had invalid UTF-8) than described; returns the skipped count. */
  finish(): number {
    if (this.skipped > SKIP_REPORT_LIMIT) log.warn(`${this.where.source}: skipped ${this.skipped} invalid rows in all`);
    if (this.invalidUtf8 > SKIP_REPORT_LIMIT) {
      log.warn(`${this.where.source}: ${this.invalidUtf8} ${this.where.unit}s held bytes that are not valid UTF-8 (replaced by U+FFFD)`);
    }
    return this.skipped;
  }
}

/** Validate every row of a list (see RowValidator). */
export function validateRows(rows: readonly RawRow[], where: RowSource, skipInvalid: boolean): ValidationResult {
  const validator = new RowValidator(where, skipInvalid, EXAMPLE_ROWS);
  const examples: Example[] = [];
  for (const raw of rows) {
    const example = validator.accept(raw);
    if (example) examples.push(example);
  }
  return { examples, skipped: validator.finish() };
}
