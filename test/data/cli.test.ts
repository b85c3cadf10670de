/**
 * `musique data` as a user runs it (a child process; the compiled binary when MUSIQUE_BIN is set).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { readRecords, startFakeHub } from "../fakes/hub.ts";

const FIXTURES = join(import.meta.dir, "..", "fixtures");
const DEV = join(FIXTURES, "musique_ans_dev_sample150.jsonl");
const dev = await readRecords(DEV);
const directory = await mkdtemp(join(tmpdir(), "musique-data-cli-"));
afterAll(() => rm(directory, { recursive: true, force: true }));

async function write(name: string, lines: string[]): Promise<string> {
  const path = join(directory, name);
  await Bun.write(path, lines.join("\n") + "\n");
  return path;
}

const good = JSON.stringify(dev[0]);
const paragraphs = (dev[1]?.paragraphs ?? []) as Array<Record<string, unknown>>;
const wrongType = JSON.stringify({ ...dev[1], paragraphs: paragraphs.map((p, i) => (i === 3 ? { ...p, is_supporting: "yes" } : p)) });
const { answer: _answer, ...missingAnswer } = dev[2] ?? {};

describe("musique data against the (fake) Hub", () => {
  test("prints the per-hop counts of the split (109/23/18), and a second run works with the server stopped", async () => {
    const hub = startFakeHub({ splits: [{ name: "bdsaglam/musique", config: "answerable", split: "validation", records: dev }] });
    const home = await mkdtemp(join(directory, "home-"));
    const env = { HF_ENDPOINT: hub.url, HF_HOME: home, HF_HUB_OFFLINE: undefined };
    const first = await runCli(["data", "bdsaglam/musique,answerable,validation"], { env });
    expect(first.stderr).toContain("downloading bdsaglam/musique,answerable,validation");
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toMatch(/2 hops\s+109\n/);
    expect(first.stdout).toMatch(/3 hops\s+23\n/);
    expect(first.stdout).toMatch(/4 hops\s+18\n/);
    expect(first.stdout).toMatch(/bdsaglam\/musique,answerable,validation\s+150\n/);
    await hub.stop();
    const second = await runCli(["data", "bdsaglam/musique,answerable,validation"], { env });
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).not.toContain("downloading");
  });

  test("offline (HF_HUB_OFFLINE=1) with an empty cache: exit 3 and how to fix it", async () => {
    const home = await mkdtemp(join(directory, "home-"));
    const result = await runCli(["data", "bdsaglam/musique,answerable,validation"], { env: { HF_HOME: home } });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain("bdsaglam/musique,answerable,validation is not in the cache and HF_HUB_OFFLINE=1 forbids downloading it");
    expect(result.stderr).toContain("run once online (unset HF_HUB_OFFLINE)");
  });
});

describe("musique data on local and embedded data", () => {
  test("the embedded sample needs no file: 150 examples, 109/23/18", async () => {
    const result = await runCli(["data", "sample"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toStartWith("150 examples\n");
    expect(result.stdout).toMatch(/by hop count\n2 hops\s+109\n3 hops\s+23\n4 hops\s+18\n/);
  });

  test("--json prints one JSON document on stdout (logs stay on stderr)", async () => {
    const result = await runCli(["data", "sample", "sample-train[:10]", "--json"]);
    expect(result.exitCode).toBe(0);
    const document = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(document.examples).toBe(160);
    expect(document.bySource).toEqual([
      { source: "sample", examples: 150 },
      { source: "sample-train[:10]", examples: 10 },
    ]);
    expect(document.skipped).toBe(0);
    expect(document.paragraphs).toEqual({ min: 20, mean: 20, max: 20, total: 3200 });
  });

  test("--show N prints N examples", async () => {
    const result = await runCli(["data", "--datasets", "sample", "--show", "2"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.match(/^ {2}question: /gm)?.length).toBe(2);
  });

  test("--noise-rate, --limit and --curriculum shape what is described", async () => {
    const result = await runCli(["data", "sample", "--noise-rate", "0", "--limit", "40", "--curriculum", "--show", "40", "--json"]);
    expect(result.exitCode).toBe(0);
    const document = JSON.parse(result.stdout) as { examples: number; shown: Array<{ nHops: number; paragraphs: unknown[] }> };
    expect(document.examples).toBe(40);
    const hops = document.shown.map((example) => example.nHops);
    expect(hops).toEqual([...hops].sort((a, b) => a - b));
    expect(document.shown.every((example) => example.paragraphs.length === example.nHops)).toBe(true);
  });

  test("a local .jsonl file works as a spec", async () => {
    const result = await runCli(["data", `${DEV}[:7]`, "--json"]);
    expect(result.exitCode).toBe(0);
    expect((JSON.parse(result.stdout) as { examples: number }).examples).toBe(7);
  });
});

describe("musique data on bad rows", () => {
  test("a malformed JSON line: exit 3, naming the file and line", async () => {
    const path = await write("malformed.jsonl", [good, '{"id": "2hop__1_2", "paragraphs": [']);
    const result = await runCli(["data", path]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`${path} line 2: not valid JSON`);
    expect(result.stderr).toContain("--skip-invalid");
  });

  test("a wrong field type: exit 3, naming file, line, field and reason", async () => {
    const path = await write("wrong-type.jsonl", [good, good, wrongType]);
    const result = await runCli(["data", path]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`${path} line 3: field paragraphs[3].is_supporting must be true or false, got "yes"`);
  });

  test("a missing field: exit 3, naming file, line and field", async () => {
    const path = await write("missing.jsonl", [JSON.stringify(missingAnswer)]);
    const result = await runCli(["data", path]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain(`${path} line 1: field answer is missing`);
  });

  test("--skip-invalid skips and counts them", async () => {
    const path = await write("mixed.jsonl", [good, "{oops", wrongType, JSON.stringify(missingAnswer), JSON.stringify(dev[3])]);
    const result = await runCli(["data", path, "--skip-invalid"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toStartWith("2 examples (3 invalid rows skipped)\n");
    expect(result.stdout).toContain("skipped invalid rows:     3");
  });
});

describe("musique data on bad command lines", () => {
  test("--noise-rate 1.5: exit 2 with the allowed range", async () => {
    const result = await runCli(["data", "sample", "--noise-rate", "1.5"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--noise-rate 1.5: must be between 0 and 1");
  });

  test("--nosie-rate: exit 2 with a did-you-mean", async () => {
    const result = await runCli(["data", "sample", "--nosie-rate", "0.5"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("unknown flag --nosie-rate");
    expect(result.stderr).toContain("did you mean --noise-rate?");
  });

  test("a bad spec: exit 2 naming the spec and the syntax", async () => {
    const result = await runCli(["data", "bdsaglam/musique,answerable"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('dataset spec "bdsaglam/musique,answerable"');
    expect(result.stderr).toContain("name,config,split");
  });

  test("--help lists the data flags", async () => {
    const result = await runCli(["data", "--help"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout + result.stderr).toContain("--noise-rate");
  });
});
