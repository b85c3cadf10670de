import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheRoot, readManifest, safeComponent, splitCacheDir, streamToFileAtomic, writeManifest } from "../../src/data/cache.ts";

const directory = await mkdtemp(join(tmpdir(), "musique-cache-"));
afterAll(() => rm(directory, { recursive: true, force: true }));

describe("cache location", () => {
  test("HF_HOME wins, then XDG_CACHE_HOME, then ~/.cache", () => {
    expect(cacheRoot({ HF_HOME: "/h", XDG_CACHE_HOME: "/x", HOME: "/home/u" })).toBe("/h/musique");
    expect(cacheRoot({ XDG_CACHE_HOME: "/x", HOME: "/home/u" })).toBe("/x/huggingface/musique");
    expect(cacheRoot({ HOME: "/home/u" })).toBe("/home/u/.cache/huggingface/musique");
  });

  test("the key is name/config/split/revision, and no component can escape the cache", () => {
    expect(splitCacheDir({ HF_HOME: "/h" }, { name: "a/b", config: "c", split: "s", revision: undefined })).toBe("/h/musique/datasets/a--b/c/s/main");
    expect(safeComponent("..")).not.toContain("/");
    expect(safeComponent("..").startsWith(".")).toBe(false);
    expect(safeComponent("refs/convert/parquet")).toBe("refs--convert--parquet");
  });
});

describe("atomic writes", () => {
  test("a stream that fails leaves neither the file nor a temporary file", async () => {
    const path = join(directory, "broken.bin");
    async function* chunks(): AsyncIterable<Uint8Array> {
      yield new Uint8Array([1, 2, 3]);
      throw new Error("connection lost");
    }
    await expect(streamToFileAtomic(path, chunks())).rejects.toThrow("connection lost");
    expect(await readdir(directory)).not.toContainEqual(expect.stringContaining("broken.bin"));
  });

  test("a failed verification leaves nothing behind either", async () => {
    const path = join(directory, "unverified.bin");
    async function* chunks(): AsyncIterable<Uint8Array> {
      yield new Uint8Array([1, 2, 3]);
    }
    const verify = async () => {
      throw new Error("incomplete");
    };
    await expect(streamToFileAtomic(path, chunks(), verify)).rejects.toThrow("incomplete");
    expect(await readdir(directory)).not.toContainEqual(expect.stringContaining("unverified.bin"));
  });

  test("a manifest naming a missing shard does not count as cached", async () => {
    const dir = await mkdtemp(join(directory, "split-"));
    await writeManifest(dir, { shards: ["0000.parquet"], urls: [], downloadedAt: "" });
    expect(await readManifest(dir)).toBeUndefined();
    await Bun.write(join(dir, "0000.parquet"), "x");
    expect(await readManifest(dir)).toMatchObject({ shards: ["0000.parquet"] });
  });

  test("manifest.json has snake_case keys (downloaded_at); one written before (downloadedAt) still reads", async () => {
    const dir = await mkdtemp(join(directory, "split-"));
    await Bun.write(join(dir, "0000.parquet"), "x");
    await writeManifest(dir, { shards: ["0000.parquet"], urls: ["u"], downloadedAt: "2026-01-01T00:00:00.000Z" });
    expect(await Bun.file(join(dir, "manifest.json")).json()).toEqual({ shards: ["0000.parquet"], urls: ["u"], downloaded_at: "2026-01-01T00:00:00.000Z" });
    await Bun.write(join(dir, "manifest.json"), JSON.stringify({ shards: ["0000.parquet"], urls: [], downloadedAt: "2025-01-01T00:00:00.000Z" }));
    expect(await readManifest(dir)).toMatchObject({ downloadedAt: "2025-01-01T00:00:00.000Z" });
  });
});
