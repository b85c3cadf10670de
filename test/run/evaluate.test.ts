import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dspyResponder, startFakeOpenAI, type FakeOpenAI } from "../fakes/openai.ts";
import { MAIN, ROOT, cleanEnv, compiledBinary, runCli } from "../helpers/cli.ts";
import { keysNotSnakeCase } from "../helpers/keys.ts";

let fake: FakeOpenAI;
let directory: string;

beforeAll(async () => {
  fake = await startFakeOpenAI({});
  directory = mkdtempSync(join(tmpdir(), "musique-evaluate-"));
});
afterAll(async () => {
  await fake.stop();
});

function evaluateArgs(database: string, runName: string, extra: string[] = []): string[] {
  return [
    "evaluate",
    "--datasets",
    "test/fixtures/musique_ans_dev_sample150.jsonl",
    "--retriever",
    "lexical",
    "--base-url",
    fake.baseUrl,
    "--db",
    database,
    "--output-dir",
    join(directory, "outputs"),
    "--run-name",
    runName,
    ...extra,
  ];
}

function count(database: string, sql: string, ...params: Array<string | number>): number {
  const db = new Database(database, { readonly: true });
  try {
    const row = db.query(sql).get(...params) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

describe("musique evaluate against a fake OpenAI-compatible server", () => {
  test("writes outputs, one prediction per example, 2N module calls each, and scores.json equals musique score", async () => {
    const database = join(directory, "full.db");
    const result = await runCli(evaluateArgs(database, "full", ["--limit", "12", "--concurrency", "4", "--num-hops", "2"]));
    expect(result.stderr).not.toContain("ERROR");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("overall");
    expect(result.stdout).toContain("run: full");

    const out = join(directory, "outputs", "full");
    for (const file of ["config.json", "run.log", "scores.json", "predictions.jsonl", "gold.jsonl", "examples.md"]) {
      expect(existsSync(join(out, file))).toBe(true);
    }
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8")) as Record<string, unknown>;
    expect(config.temperature).toBe(0.5);
    expect(config).toMatchObject({ run_name: "full", num_hops: 2, top_n: 2 }); // snake_case, as in every file musique writes
    expect(keysNotSnakeCase(config)).toEqual([]);
    expect(keysNotSnakeCase(JSON.parse(readFileSync(join(out, "scores.json"), "utf8")))).toEqual([]);
    expect(config.api_key).toBeUndefined(); // secrets are never stored

    expect(count(database, "SELECT COUNT(*) AS n FROM predictions WHERE run_id = (SELECT id FROM runs WHERE name = 'full')")).toBe(12);
    expect(count(database, "SELECT COUNT(DISTINCT example_id) AS n FROM predictions")).toBe(12);
    expect(count(database, "SELECT COUNT(*) AS n FROM module_calls")).toBe(12 * 4);
    const db = new Database(database, { readonly: true });
    const perExample = db
      .query("SELECT example_id, group_concat(module || ':' || hop, ',') AS calls FROM (SELECT * FROM module_calls ORDER BY id) GROUP BY example_id")
      .all() as Array<{ example_id: string; calls: string }>;
    const status = db.query("SELECT status FROM runs WHERE name = 'full'").get() as { status: string };
    db.close();
    expect(status.status).toBe("completed");
    for (const row of perExample) {
      expect(row.calls.split(",").sort()).toEqual(["extract_information:0", "generate_query:1", "extract_information:1", "generate_answer:2"].sort());
    }
    // Every request used the ChatAdapter system message and T = 0.5.
    const bodies = fake.chatRequests();
    expect(bodies.length).toBeGreaterThanOrEqual(48);
    expect(bodies.every((body) => body.temperature === 0.5)).toBe(true);

    const scores = JSON.parse(readFileSync(join(out, "scores.json"), "utf8")) as {
      overall: { answer_f1: number; answer_em: number; support_f1: number; n: number };
    };
    expect(scores.overall.n).toBe(12);
    const scored = await runCli(["score", "--gold", join(out, "gold.jsonl"), "--predictions", join(out, "predictions.jsonl"), "--json"]);
    expect(scored.exitCode).toBe(0);
    const official = JSON.parse(scored.stdout) as { answer_f1: number; answer_em: number; support_f1: number };
    expect(official.answer_f1).toBe(scores.overall.answer_f1);
    expect(official.answer_em).toBe(scores.overall.answer_em);
    expect(official.support_f1).toBe(scores.overall.support_f1);
  });

  test("a run name that exists is refused with the resume hint", async () => {
    const database = join(directory, "full.db");
    const result = await runCli(evaluateArgs(database, "full", ["--limit", "2"]));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--resume full");
  });

  test("fails in seconds with the URL and the fix when the LM server is down", async () => {
    const result = await runCli([
      ...evaluateArgs(join(directory, "down.db"), "down", ["--limit", "2"]).filter((word) => word !== fake.baseUrl && word !== "--base-url"),
      "--base-url",
      "http://127.0.0.1:9/v1",
    ]);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain("http://127.0.0.1:9/v1");
    expect(existsSync(join(directory, "outputs", "down"))).toBe(false);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await Bun.sleep(50);
  }
}

function predictionCount(database: string, run: string): number {
  if (!existsSync(database)) return 0;
  try {
    return count(database, "SELECT COUNT(*) AS n FROM predictions WHERE run_id = (SELECT id FROM runs WHERE name = ?)", run);
  } catch {
    return 0;
  }
}

describe("interrupt and resume", () => {
  for (const signal of ["SIGINT", "SIGKILL"] as const) {
    test(`after ${signal} mid-run, --resume finishes only the missing examples: none missing, none duplicated`, async () => {
      const slow = dspyResponder();
      fake.setResponder(async (request) => {
        await Bun.sleep(40);
        return slow(request);
      });
      const database = join(directory, `resume-${signal}.db`);
      const run = `resume-${signal.toLowerCase()}`;
      const binary = compiledBinary();
      const child = Bun.spawn(
        binary
          ? [binary, ...evaluateArgs(database, run, ["--limit", "30", "--concurrency", "2"])]
          : [process.execPath, MAIN, ...evaluateArgs(database, run, ["--limit", "30", "--concurrency", "2"])],
        { cwd: ROOT, env: cleanEnv(), stdout: "pipe", stderr: "pipe" },
      );
      await waitFor(() => predictionCount(database, run) >= 4);
      child.kill(signal);
      const exitCode = await child.exited;
      const stderr = await new Response(child.stderr).text();
      const partial = predictionCount(database, run);
      expect(partial).toBeLessThan(30);
      if (signal === "SIGINT") {
        expect(exitCode).toBe(130);
        expect(stderr).toContain(`musique evaluate --resume ${run}`);
        const db = new Database(database, { readonly: true });
        expect((db.query("SELECT status FROM runs WHERE name = ?").get(run) as { status: string }).status).toBe("interrupted");
        db.close();
      }
      fake.setResponder(dspyResponder());
      const resumed = await runCli(["evaluate", "--resume", run, "--db", database, "--base-url", fake.baseUrl]);
      expect(resumed.exitCode).toBe(0);
      expect(resumed.stderr).toContain(`(${partial} already done)`);
      expect(predictionCount(database, run)).toBe(30);
      expect(count(database, "SELECT COUNT(DISTINCT example_id) AS n FROM predictions")).toBe(30);
      expect(count(database, "SELECT COUNT(*) AS n FROM module_calls")).toBe(30 * 4);
      const check = new Database(database, { readonly: true });
      expect((check.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
      expect((check.query("SELECT status FROM runs WHERE name = ?").get(run) as { status: string }).status).toBe("completed");
      check.close();
    });
  }
});
