/**
 * A fake Hugging Face Hub on 127.0.0.1 speaking the routes musique uses:
 *   GET /api/datasets/{name}/parquet                         → { config: { split: [shard URLs] } }
 *   GET /api/datasets/{name}/parquet/{config}/{split}        → [shard URLs]
 *   GET /api/datasets/{name}/parquet/{config}/{split}/{n}.parquet → 302 to the resolve URL below
 *   GET /api/datasets/{name}/tree/{revision}/{config}/{split} → [{ type, oid, size, path }]
 *   GET /datasets/{name}/resolve/{revision}/{path}           → file bytes (Parquet shards, raw files)
 * Parquet shards are written from official-format records with hyparquet-writer and an explicit
 * schema in the Hub's layout (3-level LIST groups of structs, INT64 integers), not JSON strings.
 * Fault injection: fail(match, status, times), breakDownloads(match, times), requireToken,
 * trickleDownloads(match, chunks, everyMs, stallMs?) (a slow link: the file in `chunks` pieces
 * `everyMs` apart, or a stall of `stallMs` before the last piece).
 */
import { parquetWriteBuffer } from "hyparquet-writer";

/** One record in the official MuSiQue format (as in test/fixtures/*.jsonl). */
export type MusiqueRecord = Record<string, unknown>;

interface FakeSplit {
  name: string;
  config: string;
  split: string;
  records: MusiqueRecord[];
  /** A commit of refs/convert/parquet; undefined = the latest conversion (what the listing API serves). */
  revision?: string;
  /** Number of Parquet shards (default 1). */
  shards?: number;
}

export interface FakeHubOptions {
  splits?: FakeSplit[];
  /** Raw repository files served at /datasets/{name}/resolve/{revision}/{file} ("name/file" → content). */
  rawFiles?: Record<string, string>;
  /** When set, every request must carry `Authorization: Bearer {token}` (else 401). */
  requireToken?: string;
}

interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | null;
}

interface Fault {
  match: string | RegExp;
  status: number;
  remaining: number;
  headers: Record<string, string>;
}

export interface FakeHub {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Answer the next `times` requests whose path matches with `status`. */
  fail(match: string | RegExp, status: number, times?: number, headers?: Record<string, string>): void;
  /** Cut the next `times` matching file downloads off half way through. */
  breakDownloads(match: string | RegExp, times?: number): void;
  /** Send the next matching download in `chunks` pieces, `everyMs` apart (then `stallMs` before the last one). */
  trickleDownloads(match: string | RegExp, chunks: number, everyMs: number, stallMs?: number): void;
  /** Requests whose path matches. */
  count(match: string | RegExp): number;
  stop(): Promise<void>;
}

const LATEST = "refs/convert/parquet";

const string = (name: string) => ({ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" }) as const;
const int64 = (name: string) => ({ name, type: "INT64", repetition_type: "OPTIONAL" }) as const;
const boolean = (name: string) => ({ name, type: "BOOLEAN", repetition_type: "OPTIONAL" }) as const;
const list = (name: string) => [
  { name, repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 } as const,
  { name: "list", repetition_type: "REPEATED", num_children: 1 } as const,
];

/** The Hub's Parquet layout of bdsaglam/musique (pyarrow: list<struct<…>>, int64). */
export const MUSIQUE_PARQUET_SCHEMA = [
  { name: "schema", num_children: 7 },
  string("id"),
  ...list("paragraphs"),
  { name: "element", repetition_type: "OPTIONAL", num_children: 4 } as const,
  int64("idx"),
  string("title"),
  string("paragraph_text"),
  boolean("is_supporting"),
  string("question"),
  ...list("question_decomposition"),
  { name: "element", repetition_type: "OPTIONAL", num_children: 4 } as const,
  int64("id"),
  string("question"),
  string("answer"),
  int64("paragraph_support_idx"),
  string("answer"),
  ...list("answer_aliases"),
  string("element"),
  boolean("answerable"),
];

function big(value: unknown): unknown {
  return typeof value === "number" && Number.isInteger(value) ? BigInt(value) : value;
}

function records(value: unknown): Array<Record<string, unknown>> | unknown {
  return Array.isArray(value) ? value.map((item) => item as Record<string, unknown>) : value;
}

/** Official-format records → a Parquet file in the Hub's layout. */
export function musiqueParquet(rows: readonly MusiqueRecord[]): Uint8Array {
  const paragraphs = rows.map((row) => {
    const items = records(row.paragraphs);
    return Array.isArray(items) ? items.map((p: Record<string, unknown>) => ({ ...p, idx: big(p.idx) })) : items;
  });
  const steps = rows.map((row) => {
    const items = records(row.question_decomposition);
    return Array.isArray(items)
      ? items.map((s: Record<string, unknown>) => ({ ...s, id: big(s.id), paragraph_support_idx: big(s.paragraph_support_idx) }))
      : items;
  });
  const columnData = [
    { name: "id", data: rows.map((row) => row.id) },
    { name: "paragraphs", data: paragraphs },
    { name: "question", data: rows.map((row) => row.question) },
    { name: "question_decomposition", data: steps },
    { name: "answer", data: rows.map((row) => row.answer) },
    { name: "answer_aliases", data: rows.map((row) => row.answer_aliases) },
    { name: "answerable", data: rows.map((row) => row.answerable) },
  ];
  // hyparquet-writer's column types are looser than its runtime; the explicit schema is the point.
  const buffer = parquetWriteBuffer({ columnData, schema: MUSIQUE_PARQUET_SCHEMA } as unknown as Parameters<typeof parquetWriteBuffer>[0]);
  return new Uint8Array(buffer);
}

/** Read official-format JSONL records. */
export async function readRecords(path: string): Promise<MusiqueRecord[]> {
  const text = await Bun.file(path).text();
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as MusiqueRecord);
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

function notFound(code: string, message: string): Response {
  return json({ error: message }, 404, { "x-error-code": code, "x-error-message": message });
}

function matches(match: string | RegExp, path: string): boolean {
  return typeof match === "string" ? path.includes(match) : match.test(path);
}

function brokenBody(bytes: Uint8Array): Response {
  const half = bytes.slice(0, Math.floor(bytes.length / 2));
  // Announce every byte, send half, then end the response: the client sees a short body.
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(half);
      controller.close();
    },
  });
  return new Response(stream, { headers: { "content-length": String(bytes.length) } });
}

function trickledBody(bytes: Uint8Array, chunks: number, everyMs: number, stallMs: number): Response {
  const size = Math.ceil(bytes.length / chunks);
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (let index = 0; index < chunks; index++) {
        await Bun.sleep(index === chunks - 1 && stallMs > 0 ? stallMs : everyMs);
        controller.enqueue(bytes.slice(index * size, (index + 1) * size));
      }
      controller.close();
    },
  });
  return new Response(stream, { headers: { "content-length": String(bytes.length) } });
}

export function startFakeHub(options: FakeHubOptions = {}): FakeHub {
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  const breaks: Array<{ match: string | RegExp; remaining: number }> = [];
  const trickles: Array<{ match: string | RegExp; chunks: number; everyMs: number; stallMs: number; used: boolean }> = [];
  // revision → name → config → split → shard bytes
  const files = new Map<string, Uint8Array[]>();
  const key = (revision: string, name: string, config: string, split: string) => `${revision}\u0000${name}\u0000${config}\u0000${split}`;
  const names = new Set<string>();
  for (const entry of options.splits ?? []) {
    const shards = Math.max(1, entry.shards ?? 1);
    const size = Math.ceil(entry.records.length / shards);
    const parts = Array.from({ length: shards }, (_, index) => musiqueParquet(entry.records.slice(index * size, (index + 1) * size)));
    files.set(key(entry.revision ?? LATEST, entry.name, entry.config, entry.split), parts);
    names.add(entry.name);
  }
  for (const path of Object.keys(options.rawFiles ?? {})) names.add(path.split("/").slice(0, -1).join("/"));

  /** Split a raw "owner/name/rest…" into a known dataset name and the decoded segments after it. */
  function splitName(rawPath: string): { name: string; rest: string[] } | undefined {
    const segments = rawPath.split("/").filter(Boolean).map(decodeURIComponent);
    for (const name of names) {
      const length = name.split("/").length;
      if (segments.slice(0, length).join("/") === name) return { name, rest: segments.slice(length) };
    }
    return undefined;
  }

  /** A revision segment, also when a client sent refs/convert/parquet unencoded. */
  function takeRevision(segments: string[]): { revision: string; after: string[] } {
    const count = segments[0] === "refs" ? 3 : 1;
    return { revision: segments.slice(0, count).join("/"), after: segments.slice(count) };
  }

  function latestSplits(base: string, name: string): Record<string, Record<string, string[]>> {
    const out: Record<string, Record<string, string[]>> = {};
    for (const [fileKey, shards] of files) {
      const [revision, entryName, config = "", split = ""] = fileKey.split("\u0000");
      if (revision !== LATEST || entryName !== name) continue;
      out[config] ??= {};
      out[config][split] = shards.map((_, index) => `${base}/api/datasets/${name}/parquet/${config}/${split}/${index}.parquet`);
    }
    return out;
  }

  function handle(request: Request, base: string): Response {
    const url = new URL(request.url);
    const path = url.pathname;
    if (options.requireToken && request.headers.get("authorization") !== `Bearer ${options.requireToken}`) {
      return json({ error: "Invalid credentials in Authorization header" }, 401);
    }
    const fault = faults.find((item) => item.remaining > 0 && matches(item.match, path));
    if (fault) {
      fault.remaining--;
      return json({ error: `injected HTTP ${fault.status}` }, fault.status, fault.headers);
    }
    const api = /^\/api\/datasets\/(.+)$/.exec(path);
    if (api) {
      const found = splitName(api[1] ?? "");
      if (!found) return notFound("RepoNotFound", "Repository not found");
      const [kind, ...rest] = found.rest;
      if (kind === "parquet") {
        const all = latestSplits(base, found.name);
        if (rest.length === 0) return json(all);
        const [config = "", split = "", shard] = rest;
        const urls = all[config]?.[split];
        if (!urls) return notFound("EntryNotFound", "Not found");
        if (shard === undefined) return json(urls);
        const index = Number(shard.replace(/\.parquet$/, ""));
        if (!Number.isInteger(index) || index >= urls.length) return notFound("EntryNotFound", "Not found");
        const target = `/datasets/${found.name}/resolve/${encodeURIComponent(LATEST)}/${config}/${split}/${String(index).padStart(4, "0")}.parquet`;
        return new Response(null, { status: 302, headers: { location: target } });
      }
      if (kind === "tree") {
        const { revision, after } = takeRevision(rest);
        const [config = "", split = ""] = after;
        const shards = files.get(key(revision, found.name, config, split));
        const known = [...files.keys()].some((fileKey) => fileKey.startsWith(`${revision}\u0000${found.name}\u0000`));
        if (!known) return notFound("RevisionNotFound", `Invalid rev id: ${revision}`);
        if (!shards) return notFound("EntryNotFound", `${config}/${split} does not exist on "${revision}"`);
        return json(
          shards.map((bytes, index) => ({
            type: "file",
            oid: `fake${index}`,
            size: bytes.length,
            path: `${config}/${split}/${String(index).padStart(4, "0")}.parquet`,
          })),
        );
      }
      return notFound("EntryNotFound", "Not found");
    }
    const resolve = /^\/datasets\/(.+)$/.exec(path);
    if (resolve) {
      const found = splitName(resolve[1] ?? "");
      if (!found) return notFound("RepoNotFound", "Repository not found");
      if (found.rest[0] !== "resolve") return notFound("EntryNotFound", "Not found");
      const { revision, after: filePath } = takeRevision(found.rest.slice(1));
      const raw = options.rawFiles?.[`${found.name}/${filePath.join("/")}`];
      if (raw !== undefined) return new Response(raw, { headers: { "content-type": "application/octet-stream" } });
      const [config = "", split = "", file = ""] = filePath;
      const shards = files.get(key(revision, found.name, config, split));
      const bytes = shards?.[Number(file.replace(/\.parquet$/, ""))];
      if (!bytes) return notFound("EntryNotFound", "Entry not found");
      const broken = breaks.find((item) => item.remaining > 0 && matches(item.match, path));
      if (broken) {
        broken.remaining--;
        return brokenBody(bytes);
      }
      const trickle = trickles.find((item) => !item.used && matches(item.match, path));
      if (trickle) {
        trickle.used = true;
        return trickledBody(bytes, trickle.chunks, trickle.everyMs, trickle.stallMs);
      }
      return new Response(bytes, { headers: { "content-type": "application/octet-stream" } });
    }
    return json({ error: "Not found" }, 404);
  }

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch(request): Response {
      const url = new URL(request.url);
      requests.push({ method: request.method, path: url.pathname + url.search, authorization: request.headers.get("authorization") });
      return handle(request, url.origin);
    },
  });
  const port = server.port ?? 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    fail(match, status, times = 1, headers = {}) {
      faults.push({ match, status, remaining: times, headers });
    },
    breakDownloads(match, times = 1) {
      breaks.push({ match, remaining: times });
    },
    trickleDownloads(match, chunks, everyMs, stallMs = 0) {
      trickles.push({ match, chunks, everyMs, stallMs, used: false });
    },
    count(match) {
      return requests.filter((request) => matches(match, request.path)).length;
    },
    async stop() {
      await server.stop(true);
    },
  };
}
