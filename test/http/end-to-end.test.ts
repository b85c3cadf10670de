/**
 * What a service's failure leaves in the user's terminal and files, through the CLI: credentials
 * inside URLs never appear (issue 14 item 15) and a server's huge error body is cut to an excerpt
 * everywhere (issue 14 item 11): stderr, run.log, examples.md, config.json and the database.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../src/errors.ts";
import { publicConfig, resumeOptions } from "../../src/run/config.ts";
import { refusedPort } from "../fakes/broken.ts";
import { startFakeOpenAI, type FakeFault, type FakeOpenAI } from "../fakes/openai.ts";
import { faultSchedule } from "../fakes/schedule.ts";
import { runCli } from "../helpers/cli.ts";

const directory = mkdtempSync(join(tmpdir(), "musique-http-e2e-"));
const fakes: FakeOpenAI[] = [];
afterAll(async () => {
  await Promise.all(fakes.map((fake) => fake.stop()));
  rmSync(directory, { recursive: true, force: true });
});

function evaluate(baseUrl: string, run: string, extra: string[] = []) {
  return runCli([
    "evaluate",
    ...["--datasets", "test/fixtures/musique_ans_dev_sample150.jsonl", "--limit", "2", "--retriever", "lexical"],
    ...["--base-url", baseUrl, "--db", join(directory, `${run}.db`), "--output-dir", join(directory, "out"), "--run-name", run],
    ...extra,
  ]);
}

function databaseText(run: string): string {
  const db = new Database(join(directory, `${run}.db`), { readonly: true });
  try {
    const rows = [
      ...db.query("SELECT config_json AS text FROM runs").all(),
      ...db.query("SELECT COALESCE(endpoint, '') || ' ' || COALESCE(error, '') AS text FROM module_calls").all(),
      ...db.query("SELECT COALESCE(error, '') AS text FROM predictions").all(),
    ];
    return rows.map((row) => (row as { text: string }).text).join("\n");
  } finally {
    db.close();
  }
}

function outputText(run: string, file: string): string {
  const path = join(directory, "out", run, file);
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

describe("credentials inside URLs", () => {
  test("http://user:password@host is redacted in stderr, run.log, config.json and the database", async () => {
    const fake = await startFakeOpenAI({});
    fakes.push(fake);
    fake.setFaults([{ kind: "status", status: 500 }]); // one retry: a warning that names the URL
    const baseUrl = fake.baseUrl.replace("http://", "http://alice:s3cret-pw@");
    const result = await evaluate(baseUrl, "credentials", ["--max-retries", "2"]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("://***@127.0.0.1");
    const places: Array<[string, string]> = [
      ["stderr", result.stderr + result.stdout],
      ["run.log", outputText("credentials", "run.log")],
      ["config.json", outputText("credentials", "config.json")],
      ["the database", databaseText("credentials")],
    ];
    for (const [where, text] of places) {
      expect({ where, leaked: text.includes("s3cret-pw") }).toEqual({ where, leaked: false });
    }
    expect(outputText("credentials", "config.json")).toContain("://***@127.0.0.1");
  }, 60_000);

  test("an unreachable URL with credentials fails (exit 4) without printing them", async () => {
    const result = await evaluate(`http://bob:hunter2@127.0.0.1:${await refusedPort()}/v1`, "refused");
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain("cannot reach");
    expect(result.stderr).not.toContain("hunter2");
  }, 60_000);

  test("the stored configuration keeps the URL without its credentials; a resume must be given it again", () => {
    const stored = publicConfig({ baseUrl: ["http://alice:pw@gpu:8000/v1"], apiKey: "sk-1", model: "m" });
    expect(stored).toEqual({ base_url: ["http://***@gpu:8000/v1"], model: "m" }); // stored with snake_case keys, as config.json
    expect(() => resumeOptions(JSON.stringify(stored), { baseUrl: undefined })).toThrow(UsageError);
    expect(resumeOptions(JSON.stringify(stored), { baseUrl: ["http://alice:pw@gpu:8000/v1"] })).toMatchObject({
      baseUrl: ["http://alice:pw@gpu:8000/v1"],
    });
  });
});

describe("a server's huge error bodies", () => {
  test("5 MB HTTP 400 bodies on every call: stderr, run.log, examples.md and the database keep only excerpts", async () => {
    const body = JSON.stringify({ error: { message: "E".repeat(5 * 1024 * 1024) } });
    const schedule = faultSchedule<FakeFault>({ seed: 1, rate: 1, faults: [{ kind: "status", status: 400, body }] });
    const fake = await startFakeOpenAI({ schedule });
    fakes.push(fake);
    const result = await evaluate(fake.baseUrl, "huge-bodies", ["--max-retries", "0"]);
    expect(fake.counts.faults).toBeGreaterThan(0);
    expect(databaseText("huge-bodies")).toContain("rejected the request (HTTP 400)");
    const sizes = {
      stderr: result.stderr.length + result.stdout.length,
      runLog: outputText("huge-bodies", "run.log").length,
      examples: outputText("huge-bodies", "examples.md").length,
      database: databaseText("huge-bodies").length,
    };
    // 5 MB bodies on every call; each place holds at most a few KB.
    for (const [where, size] of Object.entries(sizes)) expect({ where, small: size < 20_000 }).toEqual({ where, small: true });
  }, 60_000);
});
