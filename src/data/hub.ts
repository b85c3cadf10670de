/**
 * Hugging Face Hub loading through the Hub's Parquet conversion (datasets.md):
 *   latest:  GET {HF_ENDPOINT}/api/datasets/{name}/parquet/{config}/{split} → ["…/0.parquet", …]
 *   pinned:  GET {HF_ENDPOINT}/api/datasets/{name}/tree/{revision}/{config}/{split} → [{type, path, size}]
 *            GET {HF_ENDPOINT}/datasets/{name}/resolve/{revision}/{config}/{split}/0000.parquet
 * where a pinned revision is a commit (or ref) of the conversion branch `refs/convert/parquet`.
 * Shards land in the cache (cache.ts); a complete cache entry is used without any request.
 * HF_TOKEN is sent as a Bearer token to the endpoint's origin; HF_HUB_OFFLINE=1 uses only the cache.
 * HF_HUB_DOWNLOAD_TIMEOUT is what it is in huggingface_hub: an idle limit (no byte for that many
 * seconds, default 10), not a cap on the whole download, so a large shard on a slow link finishes.
 * Metadata answers are capped (HUB_METADATA_LIMIT_BYTES); a shard streams to disk uncapped.
 */
import { join } from "node:path";
import { DEFAULTS } from "../config/defaults.ts";
import { DataError, ServiceError } from "../errors.ts";
import { fetchOrThrow, type ServiceResponse } from "../http/fetch.ts";
import { HUB_METADATA_LIMIT_BYTES } from "../http/limits.ts";
import { withRetries, type RetryPolicy } from "../http/retry.ts";
import { log, retryLog, startProgress } from "../log.ts";
import {
  ensureDir,
  looksLikeParquet,
  readManifest,
  removeOrphanDownloads,
  splitCacheDir,
  streamToFileAtomic,
  writeManifest,
  type Environment,
} from "./cache.ts";
import { formatBytes } from "../text/duration.ts";
import type { Progress, ProgressOptions } from "../text/progress.ts";
import { describeSpec, type HubSpec } from "./spec.ts";

const SERVICE = "Hugging Face Hub";
/** An unfinished download untouched this long (and whose process is gone) is removed. */
const ORPHAN_QUIET_MS = 60_000;
/** Downloads smaller than this show no progress line. */
const PROGRESS_MIN_BYTES = 5 * 1024 * 1024;
const CONVERSION_BRANCH = "refs/convert/parquet";

export interface HubOptions {
  env: Environment;
  signal?: AbortSignal | undefined;
  /** Overrides of the retry policy (tests use short delays). */
  retry?: Partial<RetryPolicy> | undefined;
  /** Overrides of the download progress reporter (tests: where lines go, how often). */
  progress?: Partial<Pick<ProgressOptions, "quietBelow" | "intervalMs" | "now" | "output">> | undefined;
}

interface HubSettings {
  endpoint: string;
  token: string | undefined;
  offline: boolean;
  /** HF_HUB_DOWNLOAD_TIMEOUT in ms: the longest the Hub may send nothing. */
  idleTimeoutMs: number;
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && ["1", "true", "yes", "on"].includes(value.trim().toLowerCase());
}

function hubSettings(env: Environment): HubSettings {
  const endpoint = (env.HF_ENDPOINT?.trim() || DEFAULTS.hubEndpoint).replace(/\/+$/, "");
  const token = env.HF_TOKEN?.trim() || env.HUGGING_FACE_HUB_TOKEN?.trim() || undefined;
  const timeoutSeconds = Number(env.HF_HUB_DOWNLOAD_TIMEOUT);
  return {
    endpoint,
    token,
    offline: truthy(env.HF_HUB_OFFLINE),
    idleTimeoutMs: (Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? timeoutSeconds : DEFAULTS.hubIdleTimeoutSeconds) * 1000,
  };
}

function datasetPath(name: string): string {
  return name.split("/").map(encodeURIComponent).join("/");
}

interface Request {
  settings: HubSettings;
  options: HubOptions;
}

function headersFor(url: string, settings: HubSettings): Record<string, string> {
  const headers: Record<string, string> = { "user-agent": "musique" };
  // The token goes only to the endpoint itself, never to a host it redirects or points us to.
  if (settings.token && new URL(url).origin === new URL(settings.endpoint).origin) {
    headers.authorization = `Bearer ${settings.token}`;
  }
  return headers;
}

function policy(options: HubOptions): RetryPolicy {
  return {
    maxRetries: DEFAULTS.maxRetries,
    onRetry: retryLog.onRetry,
    ...options.retry,
  };
}

function fetchHub(url: string, request: Request, maxBodyBytes: number): Promise<ServiceResponse> {
  return fetchOrThrow(
    url,
    {
      headers: headersFor(url, request.settings),
      idleTimeoutMs: request.settings.idleTimeoutMs,
      service: SERVICE,
      timeoutFlag: "HF_HUB_DOWNLOAD_TIMEOUT",
      fix: `check your connection and ${request.settings.endpoint} (HF_ENDPOINT)`,
      maxBodyBytes,
    },
    request.options.signal,
  );
}

async function getJson(url: string, request: Request, maxRetries?: number): Promise<unknown> {
  const retry = maxRetries === undefined ? policy(request.options) : { ...policy(request.options), maxRetries };
  const { value } = await withRetries(
    async () => {
      const response = await fetchHub(url, request, HUB_METADATA_LIMIT_BYTES);
      const text = await response.text();
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw response.malformed("something that is not JSON", text, {
          cause: "HF_ENDPOINT does not point to a Hugging Face Hub",
          fix: "check HF_ENDPOINT (default https://huggingface.co)",
        });
      }
    },
    retry,
    request.options.signal,
  );
  return value;
}

function unexpected(url: string, what: string): ServiceError {
  return new ServiceError(`${SERVICE} answered ${url} with an unexpected ${what}`, {
    service: SERVICE,
    url,
    retryable: false,
    cause: "HF_ENDPOINT does not point to a Hugging Face Hub, or the Hub API changed",
    fix: "check HF_ENDPOINT (default https://huggingface.co)",
  });
}

/** Configs and splits with a Parquet conversion, or undefined if the Hub would not say. */
async function availableSplits(spec: HubSpec, request: Request): Promise<Record<string, string[]> | undefined> {
  try {
    const url = `${request.settings.endpoint}/api/datasets/${datasetPath(spec.name)}/parquet`;
    const body = await getJson(url, request, 0);
    if (body === null || typeof body !== "object" || Array.isArray(body)) return undefined;
    return Object.fromEntries(Object.entries(body).map(([config, splits]) => [config, Object.keys(splits ?? {})]));
  } catch {
    return undefined;
  }
}

/** Turn a 401/403/404 from the Hub into a message that names what is wrong and the fix. */
async function explain(error: unknown, spec: HubSpec, request: Request, phase: "list" | "download"): Promise<unknown> {
  if (!(error instanceof ServiceError) || error.status === undefined) return error;
  const label = describeSpec(spec);
  if (error.kind === "auth") {
    const sent = request.settings.token !== undefined;
    return new ServiceError(`${SERVICE} refused ${label} (HTTP ${error.status}) at ${error.url}`, {
      service: SERVICE,
      url: error.url,
      status: error.status,
      retryable: false,
      cause: sent
        ? "HF_TOKEN was sent but has no access to this dataset (private, gated, or the name is wrong)"
        : "no HF_TOKEN was sent: the dataset is private or gated, or it does not exist (the Hub answers 401 for unknown names)",
      fix: `check the dataset name "${spec.name}"; for a private or gated dataset set HF_TOKEN to a read token (https://huggingface.co/settings/tokens) and accept its terms on the dataset page`,
      error,
    });
  }
  if (error.status !== 404) return error;
  if (phase === "download") {
    return new DataError(`${label}: the Hub listed a Parquet file it then did not serve (HTTP 404 at ${error.url})`, {
      cause: "the Parquet conversion was being updated while we downloaded",
      fix: "run again in a few minutes, or pin a revision with @revision",
      error,
    });
  }
  if (spec.revision !== undefined) {
    return new DataError(`${label}: the Hub has no ${spec.config}/${spec.split} at revision "${spec.revision}" of ${spec.name}`, {
      cause: `a pinned revision must be a commit (or ref) of the Parquet conversion branch ${CONVERSION_BRANCH}`,
      fix: `pick a commit from ${request.settings.endpoint}/datasets/${spec.name}/commits/${encodeURIComponent(CONVERSION_BRANCH)}, or drop @${spec.revision} for the latest conversion`,
      error,
    });
  }
  const available = await availableSplits(spec, request);
  if (available === undefined) {
    return new DataError(`unknown dataset "${spec.name}" on ${request.settings.endpoint} (${label})`, {
      cause: "the Hub has no dataset of that name, or no Parquet conversion of it",
      fix: "check the name (owner/name, as on the dataset's Hub page)",
      error,
    });
  }
  const configs = Object.keys(available);
  const splits = available[spec.config];
  if (splits === undefined) {
    return new DataError(`unknown config "${spec.config}" of dataset ${spec.name} (${label})`, {
      fix: `use one of: ${configs.join(", ") || "(none)"}`,
      error,
    });
  }
  return new DataError(`unknown split "${spec.split}" of dataset ${spec.name}, config ${spec.config} (${label})`, {
    fix: `use one of: ${splits.join(", ") || "(none)"}`,
    error,
  });
}

/** The shard URLs of the latest conversion (listing API), or of a pinned revision (tree API). */
async function shardUrls(spec: HubSpec, request: Request): Promise<string[]> {
  const { endpoint } = request.settings;
  const base = `${endpoint}/api/datasets/${datasetPath(spec.name)}`;
  const folder = `${encodeURIComponent(spec.config)}/${encodeURIComponent(spec.split)}`;
  if (spec.revision === undefined) {
    const url = `${base}/parquet/${folder}`;
    const body = await getJson(url, request);
    if (!Array.isArray(body) || !body.every((item) => typeof item === "string")) throw unexpected(url, "shard list");
    return body as string[];
  }
  const revision = encodeURIComponent(spec.revision);
  const url = `${base}/tree/${revision}/${folder}`;
  const body = await getJson(url, request);
  if (!Array.isArray(body)) throw unexpected(url, "file listing");
  const paths = body
    .filter((entry): entry is { type: string; path: string } => typeof entry?.path === "string" && entry.type === "file")
    .map((entry) => entry.path)
    .filter((path) => path.endsWith(".parquet"))
    .sort();
  if (paths.length === 0) {
    throw new ServiceError(`${SERVICE} has no Parquet files under ${spec.config}/${spec.split} at ${spec.revision}`, {
      service: SERVICE,
      url,
      status: 404,
      retryable: false,
    });
  }
  return paths.map((path) => `${endpoint}/datasets/${datasetPath(spec.name)}/resolve/${revision}/${datasetPath(path)}`);
}

/** The shard's bytes as they arrive (fetch.ts classifies a cut or a silence), counted for the progress line. */
async function* bodyChunks(response: ServiceResponse, progress: Progress): AsyncIterable<Uint8Array> {
  for await (const chunk of response.chunks(Number.POSITIVE_INFINITY)) {
    progress.add(chunk.byteLength);
    yield chunk;
  }
}

async function download(url: string, path: string, label: string, request: Request): Promise<number> {
  const { value } = await withRetries(
    async () => {
      const response = await fetchHub(url, request, Number.POSITIVE_INFINITY);
      const length = Number(response.headers.get("content-length") ?? Number.NaN);
      const total = Number.isFinite(length) ? length : undefined;
      const progress = startProgress({ label: `downloading ${label}`, total, unit: "bytes", quietBelow: PROGRESS_MIN_BYTES, ...request.options.progress });
      const bytes = await streamToFileAtomic(path, bodyChunks(response, progress), async (temporary, written) => {
        // A body cut short (with or without Content-Length) must never become a cache entry.
        if ((total !== undefined && written !== total) || !(await looksLikeParquet(temporary))) {
          throw new ServiceError(
            `the download from ${url} is incomplete (${written}${total === undefined ? "" : ` of ${total}`} bytes, not a whole Parquet file)`,
            { service: SERVICE, url, retryable: true, cause: "the connection broke off", fix: "run again" },
          );
        }
      });
      progress.finish();
      return bytes;
    },
    policy(request.options),
    request.options.signal,
  );
  return value;
}

export interface HubFiles {
  /** Parquet shard paths in the cache, in row order. */
  files: string[];
  /** True when nothing was requested from the Hub. */
  fromCache: boolean;
  dir: string;
}

/** Make sure the split's shards are in the cache (downloading them if needed) and list them. */
export async function hubShardFiles(spec: HubSpec, options: HubOptions): Promise<HubFiles> {
  const settings = hubSettings(options.env);
  const dir = splitCacheDir(options.env, spec);
  const cached = await readManifest(dir);
  const label = describeSpec({ ...spec, slice: undefined });
  if (cached) {
    log.debug(`${label}: using the cache in ${dir}`);
    return { files: cached.shards.map((shard) => join(dir, shard)), fromCache: true, dir };
  }
  if (settings.offline) {
    throw new DataError(`${label} is not in the cache and HF_HUB_OFFLINE=${options.env.HF_HUB_OFFLINE} forbids downloading it`, {
      cause: `nothing complete in ${dir}`,
      fix: "run once online (unset HF_HUB_OFFLINE) to fill the cache, or use a local file or the embedded sample (--datasets sample)",
    });
  }
  const request: Request = { settings, options };
  let urls: string[];
  try {
    urls = await shardUrls(spec, request);
  } catch (error) {
    throw await explain(error, spec, request, "list");
  }
  if (urls.length === 0) throw unexpected(`${settings.endpoint}/api/datasets/${spec.name}`, "empty shard list");
  await ensureDir(dir);
  // A live download writes at least every idle limit; one quiet for far longer is an orphan.
  const orphans = await removeOrphanDownloads(dir, Math.max(ORPHAN_QUIET_MS, 2 * settings.idleTimeoutMs));
  if (orphans.length > 0) log.info(`${label}: removed ${orphans.length} unfinished download${orphans.length === 1 ? "" : "s"} left by a killed run`);
  const shards = urls.map((_, index) => `${String(index).padStart(4, "0")}.parquet`);
  log.info(`downloading ${label} (${urls.length} Parquet file${urls.length === 1 ? "" : "s"}) from ${settings.endpoint}`);
  let bytes = 0;
  for (const [index, url] of urls.entries()) {
    const shard = shards[index] ?? "";
    try {
      bytes += await download(url, join(dir, shard), urls.length === 1 ? label : `${label} ${shard}`, request);
    } catch (error) {
      throw await explain(error, spec, request, "download");
    }
  }
  await writeManifest(dir, { shards, urls, downloadedAt: new Date().toISOString() });
  log.info(`cached ${label} (${formatBytes(bytes)}) in ${dir}`);
  return { files: shards.map((shard) => join(dir, shard)), fromCache: false, dir };
}
