/**
 * valibot building blocks for flag values. The command line hands every value over as a string
 * (or a boolean, or a list for repeatable flags); these schemas convert and check it, with
 * messages that say what is allowed.
 */
import * as v from "valibot";
import { didYouMean } from "../errors.ts";
import { MAX_FIXED_HOPS, type NumHops } from "../program/hops.ts";

type Raw = string | number | boolean;

function toNumber(input: Raw): number {
  if (typeof input === "number") return input;
  if (typeof input === "boolean") return Number.NaN;
  const trimmed = input.trim();
  return trimmed === "" ? Number.NaN : Number(trimmed);
}

const rawValue = v.union([v.string(), v.number(), v.boolean()], "must be a value");

function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `between ${min} and ${max}`;
  if (min !== undefined) return `at least ${min}`;
  if (max !== undefined) return `at most ${max}`;
  return "";
}

/** A finite number, optionally bounded (inclusive). */
export function numberField(min?: number, max?: number) {
  const range = rangeText(min, max);
  const message = range ? `must be a number ${range}` : "must be a number";
  return v.pipe(
    rawValue,
    v.transform(toNumber),
    v.check((n) => Number.isFinite(n), message),
    v.check((n) => (min === undefined || n >= min) && (max === undefined || n <= max), `must be ${range}`),
  );
}

/** A whole number, optionally bounded (inclusive). */
export function integerField(min?: number, max?: number) {
  const range = rangeText(min, max);
  return v.pipe(
    rawValue,
    v.transform(toNumber),
    v.check((n) => Number.isInteger(n), range ? `must be a whole number ${range}` : "must be a whole number"),
    v.check((n) => (min === undefined || n >= min) && (max === undefined || n <= max), `must be ${range}`),
  );
}

/** `--concurrency`: a fixed number of requests in flight, or `auto` (adaptive per endpoint). */
export type ConcurrencySetting = number | "auto";

/** `auto` or a whole number between 1 and `max`. */
export function concurrencyField(max: number) {
  return v.pipe(
    rawValue,
    v.transform((input): ConcurrencySetting => (typeof input === "string" && input.trim().toLowerCase() === "auto" ? "auto" : toNumber(input))),
    v.check((value) => value === "auto" || (Number.isInteger(value) && value >= 1 && value <= max), `must be auto or a whole number between 1 and ${max}`),
  );
}

/** One of a fixed list (or one of its aliases, e.g. `bm25` for `lexical`), with a did-you-mean hint. */
export function enumField<const T extends readonly string[]>(values: T, aliases: Readonly<Record<string, T[number]>> = {}) {
  const accepted: readonly string[] = [...values, ...Object.keys(aliases)];
  return v.pipe(
    v.string("must be one of " + values.join(", ")),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      if (accepted.includes(dataset.value)) return;
      const suggestion = didYouMean(dataset.value, accepted);
      addIssue({
        message: `must be one of ${values.join(", ")}${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`,
      });
    }),
    v.transform((value): T[number] => aliases[value] ?? (value as T[number])),
  );
}

export function booleanField() {
  return v.pipe(
    rawValue,
    v.transform((input): boolean | undefined => {
      if (typeof input === "boolean") return input;
      const text = String(input).trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(text)) return true;
      if (["0", "false", "no", "off"].includes(text)) return false;
      return undefined;
    }),
    v.check((value) => value !== undefined, "must be true or false"),
    v.transform((value) => value === true),
  );
}

export function stringField(what = "a value") {
  return v.pipe(v.string(`must be ${what}`), v.trim(), v.nonEmpty(`must be ${what}, not empty`));
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/** An http(s) URL; a trailing slash is kept as given (Arbor needs it, see arbor.md §1). */
export function urlField() {
  return v.pipe(v.string("must be a URL"), v.trim(), v.check(isHttpUrl, "must be an http:// or https:// URL"));
}

/** A repeatable flag: `--x a --x b` or `--x a,b`. */
export function urlListField() {
  return v.pipe(
    v.union([v.string(), v.array(v.string())], "must be a URL"),
    v.transform((input) =>
      (Array.isArray(input) ? input : [input])
        .flatMap((item) => item.split(","))
        .map((item) => item.trim())
        .filter((item) => item !== ""),
    ),
    v.check((list) => list.length > 0, "needs at least one URL"),
    v.check((list) => list.every(isHttpUrl), "every value must be an http:// or https:// URL"),
  );
}

/** What a run name may be (--run-name, runs rename, import --rename): it names the run's folder under --output-dir too. */
export const RUN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A repeatable flag of words: `--tag a --tag b` or `--tag a,b`. */
export function stringListField(what: string) {
  return v.pipe(
    v.union([v.string(), v.array(v.string())], `must be ${what}`),
    v.transform((input) =>
      (Array.isArray(input) ? input : [input])
        .flatMap((item) => item.split(","))
        .map((item) => item.trim())
        .filter((item) => item !== ""),
    ),
  );
}

/** `--num-hops`: 1–6, `auto`, or `gold`. */
export function numHopsField() {
  return v.pipe(
    rawValue,
    v.transform((input): NumHops | undefined => {
      const text = String(input).trim().toLowerCase();
      if (text === "auto" || text === "gold") return text;
      const n = Number(text);
      return Number.isInteger(n) && n >= 1 && n <= MAX_FIXED_HOPS ? n : undefined;
    }),
    v.check((value) => value !== undefined, `must be a whole number from 1 to ${MAX_FIXED_HOPS}, "auto" or "gold"`),
    v.transform((value) => value as NumHops),
  );
}

/** A port number. */
export function portField() {
  return integerField(1, 65535);
}
