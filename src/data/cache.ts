/**
 * The on-disk cache of Hub downloads: `$HF_HOME/musique`, else `$XDG_CACHE_HOME/huggingface/musique`,
 * else `~/.cache/huggingface/musique`. One folder per dataset/config/split/revision (the endpoint
 * is not part of the key, so a mirror and the Hub share it). A folder counts as complete only
 * when its manifest exists, and the manifest is written last; every file is written to a
 * temporary name and renamed, so an interrupted download never leaves a half file behind — except
 * after `kill -9`: such orphans (`<file>.tmp-<pid>-<random>`) are removed by the next download of
 * that split (`removeOrphanDownloads`) once their process is gone and they have been untouched
 * longer than a live download may be silent.
 */
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { temporaryPath, writeFileAtomic } from "../files.ts";

export type Environment = Record<string, string | undefined>;

const MANIFEST = "manifest.json";

export interface CacheManifest {
  /** Shard files in this folder, in row order. */
  shards: string[];
  /** Where they were downloaded from (for --log-level debug and curiosity). */
  urls: string[];
  downloadedAt: string;
}

/** manifest.json as written: snake_case keys, as in every file musique writes. */
interface ManifestFile {
  shards: string[];
  urls: string[];
  downloaded_at: string;
}

/** The root of musique's dataset cache. */
export function cacheRoot(env: Environment): string {
  const hfHome = env.HF_HOME?.trim();
  if (hfHome) return join(hfHome, "musique");
  const xdg = env.XDG_CACHE_HOME?.trim();
  if (xdg) return join(xdg, "huggingface", "musique");
  const home = env.HOME?.trim() || homedir();
  return join(home, ".cache", "huggingface", "musique");
}

/** A path component that cannot escape its folder ("..", "/") and stays readable. */
export function safeComponent(text: string): string {
  const encoded = encodeURIComponent(text).replaceAll("%2F", "--").replaceAll("%", "_");
  return encoded.startsWith(".") ? "_" + encoded : encoded;
}

/** The cache folder of one Hub split at one revision. */
export function splitCacheDir(env: Environment, key: { name: string; config: string; split: string; revision: string | undefined }): string {
  return join(cacheRoot(env), "datasets", safeComponent(key.name), safeComponent(key.config), safeComponent(key.split), safeComponent(key.revision ?? "main"));
}

/**
 * Stream `chunks` into `path` atomically. If the stream fails, or `verify` (given the temporary
 * file) throws, the temporary file is removed and `path` is untouched. Returns the bytes written.
 */
export async function streamToFileAtomic(
  path: string,
  chunks: AsyncIterable<Uint8Array>,
  verify?: (temporary: string, bytes: number) => Promise<void>,
): Promise<number> {
  const temporary = temporaryPath(path);
  const writer = Bun.file(temporary).writer();
  let bytes = 0;
  try {
    for await (const chunk of chunks) {
      writer.write(chunk);
      bytes += chunk.byteLength;
    }
    await writer.end();
    await verify?.(temporary, bytes);
    await rename(temporary, path);
    return bytes;
  } catch (error) {
    try {
      await writer.end();
    } catch {
      // already closed
    }
    await rm(temporary, { force: true });
    throw error;
  }
}

/** True when the file starts and ends with the Parquet magic "PAR1" (a complete Parquet file). */
export async function looksLikeParquet(path: string): Promise<boolean> {
  const file = Bun.file(path);
  if (file.size < 12) return false;
  const magic = "PAR1";
  const head = await file.slice(0, 4).text();
  const tail = await file.slice(file.size - 4).text();
  return head === magic && tail === magic;
}

/** `<name>.tmp-<pid>-<random>`, the temporary name of src/files.ts `temporaryPath`. */
const TEMPORARY_NAME = /\.tmp-(\d+)-[a-z0-9]+$/;

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as { code?: unknown }).code === "EPERM";
  }
}

/**
 * Remove the unfinished downloads a killed process left in `dir`: temporary files whose process
 * is not running here and that nothing has written to for `quietMs` (a live download on another
 * machine sharing the cache writes within its idle limit). Returns the names removed.
 */
export async function removeOrphanDownloads(dir: string, quietMs: number, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMPORARY_NAME.exec(name);
    if (!match || processIsAlive(Number(match[1]))) continue;
    const path = join(dir, name);
    try {
      if (now - (await stat(path)).mtimeMs < quietMs) continue;
      await rm(path, { force: true });
      removed.push(name);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

export async function ensureDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The manifest of a complete cache folder, or undefined when absent, unreadable or incomplete. */
export async function readManifest(dir: string): Promise<CacheManifest | undefined> {
  const file = Bun.file(join(dir, MANIFEST));
  if (!(await file.exists())) return undefined;
  let manifest: unknown;
  try {
    manifest = await file.json();
  } catch {
    return undefined;
  }
  const shards = (manifest as { shards?: unknown } | null)?.shards;
  if (!Array.isArray(shards) || shards.length === 0 || !shards.every((shard) => typeof shard === "string")) {
    return undefined;
  }
  for (const shard of shards as string[]) if (!(await exists(join(dir, shard)))) return undefined;
  const urls = (manifest as { urls?: unknown }).urls;
  // downloaded_at; downloadedAt in manifests written before files had one key style
  const record = manifest as { downloaded_at?: unknown; downloadedAt?: unknown };
  const downloadedAt = record.downloaded_at ?? record.downloadedAt;
  return {
    shards: shards as string[],
    urls: Array.isArray(urls) ? urls.map(String) : [],
    downloadedAt: typeof downloadedAt === "string" ? downloadedAt : "",
  };
}

export async function writeManifest(dir: string, manifest: CacheManifest): Promise<void> {
  const file: ManifestFile = { shards: manifest.shards, urls: manifest.urls, downloaded_at: manifest.downloadedAt };
  writeFileAtomic(join(dir, MANIFEST), JSON.stringify(file, null, 2) + "\n");
}
