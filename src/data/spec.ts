/**
 * Dataset specs (datasets.md "Dataset specs"): what `--datasets` and `musique data SPEC…` accept.
 *
 *   bdsaglam/musique,answerable,validation           a Hub dataset: name,config,split
 *   bdsaglam/musique,answerable,validation[:100]     … with a slice: [:end], [start:], [start:end]
 *   bdsaglam/musique,answerable,train@abc123         … pinned to a revision of the Parquet conversion
 *   ./my/dev.jsonl   ./dev.json   ./dev.parquet       a local file in the official format (slice allowed)
 *   sample   sample-train                             the embedded records (150 dev, 100 train)
 *
 * Several specs are joined by ';'. A spec without `@revision` takes `--revision` (if given).
 */
import { UsageError } from "../errors.ts";

/** Rows [start, end) of a split, counted from 0 like Python's slices (no negative bounds). */
export interface Slice {
  start: number;
  end: number | undefined;
}

type LocalFormat = "jsonl" | "json" | "parquet";
export type SampleName = "sample" | "sample-train";

interface SpecBase {
  /** The spec as the user wrote it (trimmed). */
  text: string;
  slice: Slice | undefined;
}

export interface HubSpec extends SpecBase {
  kind: "hub";
  /** `owner/name` (or `name`). */
  name: string;
  config: string;
  split: string;
  /** A commit or ref of the Parquet conversion; undefined = the latest conversion of main. */
  revision: string | undefined;
}

export interface FileSpec extends SpecBase {
  kind: "file";
  path: string;
  format: LocalFormat;
}

export interface SampleSpec extends SpecBase {
  kind: "sample";
  sample: SampleName;
}

export type DatasetSpec = HubSpec | FileSpec | SampleSpec;

const SPEC_SYNTAX =
  "write name,config,split (e.g. bdsaglam/musique,answerable,validation), optionally with a slice " +
  "[start:end] after the split and @revision at the end (bdsaglam/musique,answerable,validation[:100]@abc123), " +
  "a local .jsonl/.json/.parquet file, or sample / sample-train; join several with ';'";

/** Revisions that mean "the latest Parquet conversion of the default branch". */
const DEFAULT_REVISIONS = new Set(["main"]);

const NAME_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const CONFIG_OR_SPLIT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const REVISION = /^[A-Za-z0-9._/-]+$/;
const SLICE_TAIL = /\[([^\]]*)\]$/;
const LOCAL_EXTENSION = /\.(jsonl|json|parquet)$/i;

function specError(text: string, reason: string): UsageError {
  return new UsageError(`dataset spec "${text}": ${reason}`, { fix: SPEC_SYNTAX });
}

function parseBound(text: string, spec: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  if (!/^\d+$/.test(trimmed)) {
    throw specError(spec, `slice bound "${trimmed}" must be a whole number ≥ 0 (no negative or % bounds)`);
  }
  return Number(trimmed);
}

/** `[:100]`, `[100:200]`, `[100:]` → Slice. */
function parseSlice(inner: string, spec: string): Slice {
  const parts = inner.split(":");
  if (parts.length !== 2) throw specError(spec, `slice "[${inner}]" must look like [start:end], [:end] or [start:]`);
  const start = parseBound(parts[0] ?? "", spec) ?? 0;
  const end = parseBound(parts[1] ?? "", spec);
  if (end !== undefined && end < start) throw specError(spec, `slice "[${inner}]" ends before it starts`);
  return { start, end };
}

/** Split a trailing `[slice]` off `text`. */
function takeSlice(text: string, spec: string): { rest: string; slice: Slice | undefined } {
  const match = SLICE_TAIL.exec(text);
  if (!match) return { rest: text, slice: undefined };
  return { rest: text.slice(0, match.index), slice: parseSlice(match[1] ?? "", spec) };
}

function parseOne(text: string, globalRevision: string | undefined): DatasetSpec {
  const { rest: body, slice } = takeSlice(text, text);
  if (body === "sample" || body === "sample-train") return { kind: "sample", text, sample: body, slice };
  const extension = LOCAL_EXTENSION.exec(body);
  if (extension && !body.includes(",")) {
    return { kind: "file", text, path: body, format: (extension[1] ?? "").toLowerCase() as LocalFormat, slice };
  }
  if (!body.includes(",")) {
    if (body.includes("@")) throw specError(text, "a local file cannot take @revision; a Hub spec is name,config,split");
    throw specError(text, "neither name,config,split nor a file ending in .jsonl, .json or .parquet");
  }
  return parseHub(text, globalRevision);
}

function parseHub(text: string, globalRevision: string | undefined): HubSpec {
  const parts = text.split(",").map((part) => part.trim());
  if (parts.length !== 3) {
    throw specError(text, `a Hub spec has exactly three comma-separated parts (name,config,split), found ${parts.length}`);
  }
  const [name = "", config = "", splitPart = ""] = parts;
  const nameParts = name.split("/");
  if (nameParts.length > 2 || !nameParts.every((part) => NAME_PART.test(part))) {
    throw specError(text, `"${name}" is not a dataset name like owner/name`);
  }
  if (!CONFIG_OR_SPLIT.test(config)) throw specError(text, `config "${config}" must be letters, digits, '.', '_' or '-'`);

  // split, then optional [slice], optional @revision, optional [slice] (either position).
  let rest = splitPart;
  let slice: Slice | undefined;
  let revision: string | undefined;
  const sliceAfter = takeSlice(rest, text);
  rest = sliceAfter.rest;
  slice = sliceAfter.slice;
  const at = rest.indexOf("@");
  if (at >= 0) {
    revision = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (revision === "" || !REVISION.test(revision)) throw specError(text, `revision "${revision}" is not a branch, tag or commit`);
  }
  const sliceBefore = takeSlice(rest, text);
  if (sliceBefore.slice) {
    if (slice) throw specError(text, "give at most one slice");
    slice = sliceBefore.slice;
    rest = sliceBefore.rest;
  }
  const split = rest;
  if (!CONFIG_OR_SPLIT.test(split)) throw specError(text, `split "${split}" must be letters, digits, '.', '_' or '-'`);
  const chosen = revision ?? globalRevision;
  return {
    kind: "hub",
    text,
    name,
    config,
    split,
    slice,
    revision: chosen === undefined || DEFAULT_REVISIONS.has(chosen) ? undefined : chosen,
  };
}

/**
 * Parse `spec;spec;…`. Empty segments (a trailing ';') are ignored; no spec at all is a
 * UsageError, as is any spec that does not follow the syntax.
 */
export function parseDatasetSpecs(text: string, options: { revision?: string | undefined } = {}): DatasetSpec[] {
  if (options.revision !== undefined && !REVISION.test(options.revision)) {
    throw new UsageError(`--revision ${options.revision}: not a branch, tag or commit`, { fix: SPEC_SYNTAX });
  }
  const specs = text
    .split(";")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => parseOne(part, options.revision));
  if (specs.length === 0) throw new UsageError(`no dataset spec in "${text}"`, { fix: SPEC_SYNTAX });
  return specs;
}

/** The canonical text of a spec, used to name its examples' source. */
export function describeSpec(spec: DatasetSpec): string {
  const slice = spec.slice ? `[${spec.slice.start === 0 ? "" : spec.slice.start}:${spec.slice.end ?? ""}]` : "";
  if (spec.kind === "sample") return spec.sample + slice;
  if (spec.kind === "file") return spec.path + slice;
  return `${spec.name},${spec.config},${spec.split}${slice}${spec.revision ? `@${spec.revision}` : ""}`;
}

/** Keep rows [start, end) of a list. */
export function applySlice<T>(items: readonly T[], slice: Slice | undefined): T[] {
  if (!slice) return [...items];
  return items.slice(slice.start, slice.end);
}
