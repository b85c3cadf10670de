import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadExamples, type LoadOptions } from "../../src/data/index.ts";
import { DataError, ExitCode, ServiceError } from "../../src/errors.ts";
import { readRecords, startFakeHub, type FakeHub } from "../fakes/hub.ts";

const FIXTURES = join(import.meta.dir, "..", "fixtures");
const dev = await readRecords(join(FIXTURES, "musique_ans_dev_sample150.jsonl"));
const train = await readRecords(join(FIXTURES, "musique_ans_train_sample100.jsonl"));
const MUSIQUE = "bdsaglam/musique";
const VALIDATION = `${MUSIQUE},answerable,validation`;
const temporary: string[] = [];

let hub: FakeHub;
beforeAll(() => {
  hub = startFakeHub({
    splits: [
      { name: MUSIQUE, config: "answerable", split: "validation", records: dev, shards: 2 },
      { name: MUSIQUE, config: "answerable", split: "train", records: train },
      { name: MUSIQUE, config: "answerable", split: "validation", records: dev.slice(0, 10), revision: "abc123" },
      { name: MUSIQUE, config: "answerable", split: "broken", records: [dev[0] ?? {}, { ...dev[1], answer: null }] },
    ],
  });
});
afterAll(async () => {
  await hub.stop();
  await Promise.all(temporary.map((path) => rm(path, { recursive: true, force: true })));
});

async function freshHome(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), "musique-hub-"));
  temporary.push(path);
  return path;
}

function options(env: Record<string, string | undefined>, extra: Partial<LoadOptions> = {}): LoadOptions {
  return { seed: 89, noiseRate: 1, skipInvalid: false, env, retry: { initialDelayMs: 1, maxDelayMs: 2 }, ...extra };
}

async function filesUnder(path: string): Promise<string[]> {
  return (await readdir(path, { recursive: true })).map(String).sort();
}

function hopCounts(examples: Array<{ nHops: number }>): number[] {
  return [2, 3, 4].map((hops) => examples.filter((example) => example.nHops === hops).length);
}

describe("Hub download", () => {
  test("downloads the Parquet shards of a split and validates every row (109/23/18 hops)", async () => {
    const home = await freshHome();
    const before = hub.requests.length;
    const result = await loadExamples(VALIDATION, options({ HF_ENDPOINT: hub.url, HF_HOME: home }));
    expect(result.examples.length).toBe(150);
    expect(hopCounts(result.examples)).toEqual([109, 23, 18]);
    expect(result.sources).toEqual([VALIDATION]);
    expect(result.loaded[0]?.fromCache).toBe(false);
    const paths = hub.requests.slice(before).map((request) => request.path);
    expect(paths[0]).toBe(`/api/datasets/${MUSIQUE}/parquet/answerable/validation`);
    expect(paths).toContain(`/datasets/${MUSIQUE}/resolve/refs%2Fconvert%2Fparquet/answerable/validation/0001.parquet`);
  });

  test("the cache lives under $HF_HOME/musique, complete with a manifest and no temporary files", async () => {
    const home = await freshHome();
    await loadExamples(VALIDATION, options({ HF_ENDPOINT: hub.url, HF_HOME: home }));
    const dir = join(home, "musique", "datasets", "bdsaglam--musique", "answerable", "validation", "main");
    expect(await filesUnder(dir)).toEqual(["0000.parquet", "0001.parquet", "manifest.json"]);
  });

  test("without HF_HOME the cache is under $XDG_CACHE_HOME/huggingface/musique", async () => {
    const xdg = await freshHome();
    await loadExamples(`${MUSIQUE},answerable,train`, options({ HF_ENDPOINT: hub.url, XDG_CACHE_HOME: xdg }));
    expect(await filesUnder(join(xdg, "huggingface", "musique", "datasets"))).toContain(
      join("bdsaglam--musique", "answerable", "train", "main", "manifest.json"),
    );
  });

  test("a second run reuses the cache without any request, even with the server stopped", async () => {
    const home = await freshHome();
    const own = startFakeHub({ splits: [{ name: MUSIQUE, config: "answerable", split: "validation", records: dev }] });
    const first = await loadExamples(VALIDATION, options({ HF_ENDPOINT: own.url, HF_HOME: home }));
    await own.stop();
    const second = await loadExamples(VALIDATION, options({ HF_ENDPOINT: own.url, HF_HOME: home }));
    expect(second.examples).toEqual(first.examples);
    expect(second.loaded[0]?.fromCache).toBe(true);
  });

  test("the cache key does not include the endpoint (a mirror and the Hub share it)", async () => {
    const home = await freshHome();
    await loadExamples(VALIDATION, options({ HF_ENDPOINT: hub.url, HF_HOME: home }));
    const result = await loadExamples(VALIDATION, options({ HF_ENDPOINT: "http://127.0.0.1:9", HF_HOME: home }));
    expect(result.examples.length).toBe(150);
  });

  test("a slice of a Hub split keeps those rows of the split", async () => {
    const home = await freshHome();
    const result = await loadExamples(`${VALIDATION}[:10]`, options({ HF_ENDPOINT: hub.url, HF_HOME: home }));
    expect(result.examples.map((example) => example.id).sort()).toEqual(
      dev
        .slice(0, 10)
        .map((record) => String(record.id))
        .sort(),
    );
    expect(result.sources).toEqual([`${VALIDATION}[:10]`]);
  });
});

describe("HF_HUB_OFFLINE", () => {
  test("with an empty cache it fails clearly, without a request, and says how to fix it", async () => {
    const home = await freshHome();
    const before = hub.requests.length;
    const error = await loadExamples(VALIDATION, options({ HF_ENDPOINT: hub.url, HF_HOME: home, HF_HUB_OFFLINE: "1" })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).exitCode).toBe(ExitCode.data);
    expect((error as DataError).message).toBe(`${VALIDATION} is not in the cache and HF_HUB_OFFLINE=1 forbids downloading it`);
    expect((error as DataError).describe()).toContain("run once online (unset HF_HUB_OFFLINE)");
    expect(hub.requests.length).toBe(before);
  });

  test("with a filled cache it works", async () => {
    const home = await freshHome();
    await loadExamples(VALIDATION, options({ HF_ENDPOINT: hub.url, HF_HOME: home }));
    const result = await loadExamples(VALIDATION, options({ HF_ENDPOINT: hub.url, HF_HOME: home, HF_HUB_OFFLINE: "1" }));
    expect(result.examples.length).toBe(150);
  });
});

describe("revision pin", () => {
  test("@revision loads that commit of the Parquet conversion (different content), cached separately", async () => {
    const home = await freshHome();
    const before = hub.requests.length;
    const pinned = await loadExamples(`${VALIDATION}@abc123`, options({ HF_ENDPOINT: hub.url, HF_HOME: home }));
    expect(pinned.examples.length).toBe(10);
    const paths = hub.requests.slice(before).map((request) => request.path);
    expect(paths).toEqual([
      `/api/datasets/${MUSIQUE}/tree/abc123/answerable/validation`,
      `/datasets/${MUSIQUE}/resolve/abc123/answerable/validation/0000.parquet`,
    ]);
    const latest = await loadExamples(VALIDATION, options({ HF_ENDPOINT: hub.url, HF_HOME: home }));
    expect(latest.examples.length).toBe(150);
    const cached = await filesUnder(join(home, "musique", "datasets", "bdsaglam--musique", "answerable", "validation"));
    expect(cached.filter((path) => path.endsWith("manifest.json")).sort()).toEqual(["abc123/manifest.json", "main/manifest.json"]);
  });

  test("--revision applies to specs without their own @revision", async () => {
    const home = await freshHome();
    const result = await loadExamples(VALIDATION, options({ HF_ENDPOINT: hub.url, HF_HOME: home }, { revision: "abc123" }));
    expect(result.examples.length).toBe(10);
    expect(result.sources).toEqual([`${VALIDATION}@abc123`]);
  });

  test("an unknown revision names the revision and the conversion branch", async () => {
    const home = await freshHome();
    const error = await loadExamples(`${VALIDATION}@fff999`, options({ HF_ENDPOINT: hub.url, HF_HOME: home })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toContain('at revision "fff999" of bdsaglam/musique');
    expect((error as DataError).describe()).toContain("refs/convert/parquet");
  });
});

describe("Hub errors", () => {
  async function failure(spec: string, env: Record<string, string> = {}): Promise<DataError | ServiceError> {
    const home = await freshHome();
    const error = await loadExamples(spec, options({ HF_ENDPOINT: hub.url, HF_HOME: home, ...env })).catch((caught: unknown) => caught);
    if (!(error instanceof DataError) && !(error instanceof ServiceError)) throw new Error(`unexpected: ${String(error)}`);
    return error;
  }

  test("an unknown dataset is named", async () => {
    const error = await failure("nobody/nothing,answerable,validation");
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toStartWith('unknown dataset "nobody/nothing"');
  });

  test("an unknown config is named, with the configs that exist", async () => {
    const error = await failure(`${MUSIQUE},nope,validation`);
    expect(error.message).toStartWith(`unknown config "nope" of dataset ${MUSIQUE}`);
    expect(error.describe()).toContain("use one of: answerable");
  });

  test("an unknown split is named, with the splits that exist", async () => {
    const error = await failure(`${MUSIQUE},answerable,test`);
    expect(error.message).toStartWith(`unknown split "test" of dataset ${MUSIQUE}, config answerable`);
    expect(error.describe()).toContain("validation");
  });

  test("a bad row from the Hub names the spec, row and field (exit 3); --skip-invalid counts it", async () => {
    const error = await failure(`${MUSIQUE},answerable,broken`);
    expect(error.exitCode).toBe(ExitCode.data);
    expect(error.message).toBe(`${MUSIQUE},answerable,broken row 2: field answer must be a string, got null`);
    const home = await freshHome();
    const result = await loadExamples(`${MUSIQUE},answerable,broken`, options({ HF_ENDPOINT: hub.url, HF_HOME: home }, { skipInvalid: true }));
    expect([result.examples.length, result.skipped]).toEqual([1, 1]);
  });

  test("a listed shard that then answers 404 is not mistaken for an unknown split", async () => {
    hub.fail("/resolve/refs%2Fconvert%2Fparquet/answerable/train/", 404, 1);
    const error = await failure(`${MUSIQUE},answerable,train`);
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toContain("the Hub listed a Parquet file it then did not serve (HTTP 404");
  });

  test("a 5xx is retried (one retry policy) and then succeeds", async () => {
    const home = await freshHome();
    hub.fail("/parquet/answerable/train", 503, 1, { "retry-after-ms": "0" });
    const listing = new RegExp(`^/api/datasets/${MUSIQUE}/parquet/answerable/train$`);
    const before = hub.count(listing);
    const result = await loadExamples(`${MUSIQUE},answerable,train`, options({ HF_ENDPOINT: hub.url, HF_HOME: home }));
    expect(result.examples.length).toBe(100);
    expect(hub.count(listing) - before).toBe(2);
  });

  test("a download that breaks off is retried; no half file is ever left in the cache", async () => {
    const home = await freshHome();
    hub.breakDownloads("/answerable/train/0000.parquet", 1);
    const result = await loadExamples(`${MUSIQUE},answerable,train`, options({ HF_ENDPOINT: hub.url, HF_HOME: home }));
    expect(result.examples.length).toBe(100);
    const dir = join(home, "musique", "datasets", "bdsaglam--musique", "answerable", "train", "main");
    expect(await filesUnder(dir)).toEqual(["0000.parquet", "manifest.json"]);
  });

  test("when retries run out, the failed download leaves nothing behind and the next run starts clean", async () => {
    const home = await freshHome();
    hub.breakDownloads("/answerable/train/0000.parquet", 1);
    const error = await loadExamples(`${MUSIQUE},answerable,train`, options({ HF_ENDPOINT: hub.url, HF_HOME: home }, { retry: { maxRetries: 0 } })).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).exitCode).toBe(ExitCode.service);
    const dir = join(home, "musique", "datasets", "bdsaglam--musique", "answerable", "train", "main");
    expect(await filesUnder(dir)).toEqual([]);
    const again = await loadExamples(`${MUSIQUE},answerable,train`, options({ HF_ENDPOINT: hub.url, HF_HOME: home }));
    expect(again.examples.length).toBe(100);
  });

  test("HF_HUB_DOWNLOAD_TIMEOUT is an idle limit: a download slower in total than the limit but never silent that long completes", async () => {
    const home = await freshHome();
    // 6 pieces 150 ms apart: 900 ms in all, three times the 0.3 s limit, never 0.3 s without a byte.
    hub.trickleDownloads("/answerable/train/0000.parquet", 6, 150);
    const result = await loadExamples(`${MUSIQUE},answerable,train`, options({ HF_ENDPOINT: hub.url, HF_HOME: home, HF_HUB_DOWNLOAD_TIMEOUT: "0.3" }));
    expect(result.examples.length).toBe(100);
  });

  test("a download silent for longer than HF_HUB_DOWNLOAD_TIMEOUT fails naming it as an idle limit (exit 4), nothing cached", async () => {
    const home = await freshHome();
    hub.trickleDownloads("/answerable/train/0000.parquet", 2, 10, 1500);
    const error = await loadExamples(
      `${MUSIQUE},answerable,train`,
      options({ HF_ENDPOINT: hub.url, HF_HOME: home, HF_HUB_DOWNLOAD_TIMEOUT: "0.3" }, { retry: { maxRetries: 0 } }),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).message).toContain("sent nothing for 0.3 s (HF_HUB_DOWNLOAD_TIMEOUT, an idle limit)");
    expect((error as ServiceError).exitCode).toBe(ExitCode.service);
    const dir = join(home, "musique", "datasets", "bdsaglam--musique", "answerable", "train", "main");
    expect(await filesUnder(dir)).toEqual([]);
  });

  test("unfinished downloads left by kill -9 are removed by the next download of that split; a live one is kept", async () => {
    const home = await freshHome();
    const dir = join(home, "musique", "datasets", "bdsaglam--musique", "answerable", "train", "main");
    await mkdir(dir, { recursive: true });
    const gone = Bun.spawn(["true"]);
    await gone.exited;
    const hourAgo = new Date(Date.now() - 3_600_000);
    const orphan = `0000.parquet.tmp-${gone.pid}-k1ll3d`;
    const live = `0000.parquet.tmp-${process.pid}-l1v3`;
    for (const name of [orphan, live]) {
      await writeFile(join(dir, name), "half a shard");
      await utimes(join(dir, name), hourAgo, hourAgo);
    }
    const result = await loadExamples(`${MUSIQUE},answerable,train`, options({ HF_ENDPOINT: hub.url, HF_HOME: home }));
    expect(result.examples.length).toBe(100);
    expect(await filesUnder(dir)).toEqual(["0000.parquet", live, "manifest.json"]);
  });

  test("large downloads report progress (bytes / total) through the throttled reporter", async () => {
    const home = await freshHome();
    const lines: string[] = [];
    await loadExamples(
      `${MUSIQUE},answerable,train`,
      options(
        { HF_ENDPOINT: hub.url, HF_HOME: home },
        { progress: { quietBelow: 1, intervalMs: 0, output: { redraws: false, show: (line) => lines.push(line) } } },
      ),
    );
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatch(
      new RegExp(`^downloading ${MUSIQUE},answerable,train: [\\d.]+ kB / [\\d.]+ kB \\(100%\\)( \\| [\\d.]+ [kM]?B/s \\| in \\S+)?$`),
    );
  });
});

describe("HF_TOKEN", () => {
  let privateHub: FakeHub;
  beforeAll(() => {
    privateHub = startFakeHub({
      requireToken: "secret",
      splits: [{ name: "me/private", config: "default", split: "train", records: train.slice(0, 5) }],
    });
  });
  afterAll(() => privateHub.stop());

  test("a 401 says to set HF_TOKEN and exits 5", async () => {
    const home = await freshHome();
    const error = await loadExamples("me/private,default,train", options({ HF_ENDPOINT: privateHub.url, HF_HOME: home })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).exitCode).toBe(ExitCode.rejected);
    expect((error as ServiceError).message).toContain("refused me/private,default,train (HTTP 401)");
    expect((error as ServiceError).describe()).toContain("set HF_TOKEN");
  });

  test("with HF_TOKEN the request carries Authorization: Bearer and succeeds", async () => {
    const home = await freshHome();
    const result = await loadExamples("me/private,default,train", options({ HF_ENDPOINT: privateHub.url, HF_HOME: home, HF_TOKEN: "secret" }));
    expect(result.examples.length).toBe(5);
    expect(privateHub.requests.at(-1)?.authorization).toBe("Bearer secret");
  });
});
