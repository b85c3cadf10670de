import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode } from "../../src/errors.ts";
import { runCli } from "../helpers/cli.ts";
import { startFakeRerank } from "../fakes/rerank.ts";
import { closedUrl, startFakeTei, type FakeServer } from "../fakes/tei.ts";
import { referenceRecords } from "./helpers.ts";

const SAMPLE = "test/fixtures/musique_ans_dev_sample150.jsonl";
const servers: FakeServer[] = [];
const directory = await mkdtemp(join(tmpdir(), "musique-retrieve-"));
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await rm(directory, { recursive: true, force: true });
});

interface RecallJson {
  examples: number;
  recall: Record<string, number>;
  byHops: Record<string, { examples: number; recall: Record<string, number> }>;
  byShape: Record<string, { examples: number; recall: Record<string, number> }>;
}

function fakeRerank(): FakeServer {
  const server = startFakeRerank();
  servers.push(server);
  return server;
}

describe("musique retrieve --retriever lexical", () => {
  test("recall@1…5 equals recall computed from the bm25s reference rankings", async () => {
    const result = await runCli(["retrieve", "--retriever", "lexical", "--datasets", SAMPLE, "--top-n", "5", "--json"]);
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(result.stdout).toContain('"recall"');
    const report = JSON.parse(result.stdout) as RecallJson;
    const references = await referenceRecords();
    expect(report.examples).toBe(references.length);
    for (let k = 1; k <= 5; k++) {
      const expected =
        references.reduce((sum, reference) => {
          const top = new Set((reference.bm25s_lib_ranking ?? reference.bm25_ranking).slice(0, k).map(String));
          const found = reference.supporting_ids.filter((id) => top.has(id)).length;
          return sum + found / reference.supporting_ids.length;
        }, 0) / references.length;
      expect(report.recall[String(k)]).toBeCloseTo(expected, 12);
    }
    expect(Object.keys(report.byHops)).toEqual(["2", "3", "4"]);
    expect(report.byHops["2"]!.examples).toBe(109);
    expect(report.byShape["2hop"]!.examples).toBe(109);
  });

  test("--output writes {id, ranked_ids, scores} per question, matching the reference top 3", async () => {
    const output = join(directory, "rankings.jsonl");
    const result = await runCli(["retrieve", "--retriever", "lexical", "--datasets", SAMPLE, "--top-n", "3", "--output", output]);
    expect(result.exitCode).toBe(ExitCode.ok);
    const lines = (await Bun.file(output).text()).trim().split("\n");
    expect(lines.length).toBe(150);
    const byId = new Map((await referenceRecords()).map((reference) => [reference.id, reference]));
    for (const line of lines) {
      const row = JSON.parse(line) as { id: string; ranked_ids: string[]; scores: number[] };
      const reference = byId.get(row.id)!;
      expect(row.ranked_ids).toEqual((reference.bm25s_lib_ranking ?? reference.bm25_ranking).slice(0, 3).map(String));
      row.scores.forEach((score, position) => expect(Math.abs(score - reference.bm25_scores[position]!)).toBeLessThan(1e-6));
    }
  });

  test("without --json prints a readable table (overall, per hop, per shape)", async () => {
    const result = await runCli(["retrieve", "--datasets", "sample", "--retriever", "lexical"]);
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(result.stdout).toContain("R@1");
    expect(result.stdout).toContain("R@2");
    expect(result.stdout).toMatch(/^all\s+150\s/m);
    expect(result.stdout).toMatch(/^by hop count\n2 hops\s+109\s[^\n]*\n3 hops\s+23\s[^\n]*\n4 hops\s+18\s/m);
    expect(result.stdout).toMatch(/^by shape\n3hop1\s+19\s/m);
    expect(result.stdout).toMatch(/^4hop1\s/m);
    expect(result.stdout).not.toMatch(/^2hop\s/m); // the only 2-hop shape would repeat the "2 hops" row
  });
});

describe("musique retrieve with the rerank service", () => {
  test("rerank service down: exit code 4, the URL and `docker compose up rerank` in the message", async () => {
    const url = await closedUrl();
    const result = await runCli(["retrieve", "--datasets", SAMPLE, "--retriever", "semantic", "--rerank-url", url]);
    expect(result.exitCode).toBe(ExitCode.service);
    expect(result.stderr).toContain(`${url}/health`);
    expect(result.stderr).toContain("docker compose up rerank");
    expect(result.stderr).toContain("--retriever lexical");
  });

  test("semantic against the fake service ranks every question (RERANK_URL from the environment)", async () => {
    const fake = fakeRerank();
    const result = await runCli(["retrieve", "--datasets", SAMPLE, "--retriever", "semantic", "--limit", "10", "--json"], {
      env: { RERANK_URL: fake.url },
    });
    expect(result.exitCode).toBe(ExitCode.ok);
    expect((JSON.parse(result.stdout) as RecallJson).examples).toBe(10);
    expect(fake.requests.filter((request) => request.path === "/rerank").length).toBe(10);
  });

  test("hybrid survives a 500 (retried) and reports recall", async () => {
    const fake = fakeRerank();
    fake.faults.push({ kind: "status", status: 500 });
    const result = await runCli([
      "retrieve",
      "--datasets",
      SAMPLE,
      "--retriever",
      "hybrid",
      "--limit",
      "5",
      "--top-n",
      "3",
      "--rerank-url",
      fake.url,
      "--json",
    ]);
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(result.stderr).toContain("HTTP 500");
    expect(Object.keys((JSON.parse(result.stdout) as RecallJson).recall)).toEqual(["1", "2", "3"]);
  });

  test("a service that keeps failing: exit code 4 naming the URL", async () => {
    const fake = fakeRerank();
    for (let i = 0; i < 10; i++) fake.faults.push({ kind: "status", status: 503 });
    const result = await runCli(["retrieve", "--datasets", SAMPLE, "--retriever", "semantic", "--limit", "1", "--rerank-url", fake.url], { timeoutMs: 60_000 });
    expect(result.exitCode).toBe(ExitCode.service);
    expect(result.stderr).toContain(`${fake.url}/rerank`);
  });

  test("--rerank-api tei against a fake TEI", async () => {
    const tei = startFakeTei();
    servers.push(tei);
    const result = await runCli([
      "retrieve",
      "--datasets",
      SAMPLE,
      "--retriever",
      "semantic",
      "--rerank-api",
      "tei",
      "--rerank-url",
      tei.url,
      "--limit",
      "3",
      "--json",
    ]);
    expect(result.exitCode).toBe(ExitCode.ok);
    expect(tei.requests.some((request) => request.path === "/health")).toBe(true);
  });

  test("--noise-rate 0 leaves only supporting paragraphs: recall@4 is 1 for semantic", async () => {
    const fake = fakeRerank();
    const result = await runCli([
      "retrieve",
      "--datasets",
      SAMPLE,
      "--retriever",
      "semantic",
      "--noise-rate",
      "0",
      "--top-n",
      "4",
      "--rerank-url",
      fake.url,
      "--json",
    ]);
    expect(result.exitCode).toBe(ExitCode.ok);
    expect((JSON.parse(result.stdout) as RecallJson).recall["4"]).toBe(1);
    const sizes = fake.requests.filter((request) => request.path === "/rerank").map((request) => (request.body as { documents: string[] }).documents.length);
    expect(Math.min(...sizes)).toBe(2);
  });
});

describe("musique retrieve --retriever golden", () => {
  test("recall is 1 once k reaches the hop count; no service needed", async () => {
    const result = await runCli(["retrieve", "--datasets", SAMPLE, "--retriever", "golden", "--top-n", "4", "--json"], {
      env: { RERANK_URL: await closedUrl() },
    });
    expect(result.exitCode).toBe(ExitCode.ok);
    const report = JSON.parse(result.stdout) as RecallJson;
    expect(report.recall["4"]).toBe(1);
    expect(report.byHops["2"]!.recall["2"]).toBe(1);
  });
});
