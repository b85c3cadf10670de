/**
 * The response cache never answers from another server or another model served under the same
 * name (issue 14 item 1): the key holds the endpoint and what /v1/models reports for the model
 * (src/lm/identity.ts), learnt in the preflight. End to end: two servers serving the same --model
 * name with different answers; the second run reaches the second server.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryResponseCache } from "../../src/lm/cache.ts";
import { createChatClient } from "../../src/lm/client.ts";
import { servedModelIdentity } from "../../src/lm/identity.ts";
import { checkModelServed } from "../../src/lm/preflight.ts";
import { dspyCompletion, dspyResponder, startFakeOpenAI, type FakeOpenAI } from "../fakes/openai.ts";
import { runCli } from "../helpers/cli.ts";

const model = "Qwen/Qwen2.5-7B-Instruct";
const directory = mkdtempSync(join(tmpdir(), "musique-identity-"));
const fakes: FakeOpenAI[] = [];
afterAll(async () => {
  await Promise.all(fakes.map((fake) => fake.stop()));
  rmSync(directory, { recursive: true, force: true });
});

async function fake(options: Parameters<typeof startFakeOpenAI>[0] = {}): Promise<FakeOpenAI> {
  const server = await startFakeOpenAI(options);
  fakes.push(server);
  return server;
}

describe("servedModelIdentity", () => {
  const date = "Mon, 01 Jan 2024 00:00:00 GMT"; // 1704067200
  const listing = (created: number) => ({ data: [{ id: model, root: "/ckpt/7", parent: "Qwen/base", created }, { id: "other" }] });

  test("keeps id, root and parent of the listed model", () => {
    expect(servedModelIdentity(listing(1704067200), model, date)).toEqual({ id: model, root: "/ckpt/7", parent: "Qwen/base" });
  });

  test("leaves out a `created` that is the time of the answer (vLLM, SGLang stamp every answer)", () => {
    expect(servedModelIdentity(listing(1704067202), model, date)?.created).toBeUndefined();
  });

  test("keeps a `created` that is a fixed date (OpenAI, Ollama)", () => {
    expect(servedModelIdentity(listing(1600000000), model, date)?.created).toBe(1600000000);
  });

  test("a model not in the list has no identity", () => {
    expect(servedModelIdentity(listing(0), "missing", date)).toBeNull();
  });

  test("the preflight learns the identity from a vLLM-like server (root behind --served-model-name)", async () => {
    const server = await fake({ models: [model], roots: { [model]: "/checkpoints/step-200" } });
    const [result] = await checkModelServed({ baseUrls: [server.baseUrl], apiKey: "k", model, requestTimeoutSeconds: 10 });
    expect(result?.identity).toEqual({ id: model, root: "/checkpoints/step-200" });
  });
});

describe("the response cache and the served model", () => {
  const ask = { messages: [{ role: "user" as const, content: "Say hi." }] };
  const settings = { apiKey: "k", model, temperature: 0, maxTokens: 64, maxRetries: 0, requestTimeoutSeconds: 5, concurrency: 1 };

  test("the same endpoint serving the same identity answers from the cache", async () => {
    const server = await fake({ models: [model], responder: () => "first" });
    const cache = new MemoryResponseCache();
    const identity = { id: model, root: "/ckpt/1" };
    const first = createChatClient({ ...settings, baseUrls: [server.baseUrl], cache });
    first.learnServers([{ baseUrl: server.baseUrl, identity }]);
    await first.complete(ask);
    const second = createChatClient({ ...settings, baseUrls: [server.baseUrl], cache });
    second.learnServers([{ baseUrl: server.baseUrl, identity }]);
    expect(await second.complete(ask)).toMatchObject({ text: "first", cached: true });
    expect(server.counts.chat).toBe(1);
  });

  test("the same endpoint now serving another checkpoint under the same name asks the server again", async () => {
    const server = await fake({ models: [model], responder: () => "new checkpoint" });
    const cache = new MemoryResponseCache();
    const before = createChatClient({ ...settings, baseUrls: [server.baseUrl], cache });
    before.learnServers([{ baseUrl: server.baseUrl, identity: { id: model, root: "/ckpt/1" } }]);
    await before.complete(ask);
    const after = createChatClient({ ...settings, baseUrls: [server.baseUrl], cache });
    after.learnServers([{ baseUrl: server.baseUrl, identity: { id: model, root: "/ckpt/2" } }]);
    expect(await after.complete(ask)).toMatchObject({ text: "new checkpoint", cached: false });
    expect(server.counts.chat).toBe(2);
  });
});

describe("musique evaluate with the cache, against two servers serving the same --model", () => {
  const answer = (text: string) => (request: Parameters<ReturnType<typeof dspyResponder>>[0]) => {
    const system = request.messages.find((message) => message.role === "system")?.content ?? "";
    if (system.includes("`answer`")) return dspyCompletion({ reasoning: "r", answer: text });
    return dspyResponder()(request);
  };
  const database = join(directory, "cache.db");
  const evaluate = (baseUrl: string, run: string) =>
    runCli([
      "evaluate",
      ...["--datasets", "test/fixtures/musique_ans_dev_sample150.jsonl", "--limit", "3", "--retriever", "lexical"],
      ...["--temperature", "0", "--base-url", baseUrl, "--model", model, "--db", database],
      ...["--output-dir", join(directory, "out"), "--run-name", run],
    ]);
  const answers = (run: string) => {
    const db = new Database(database, { readonly: true });
    try {
      return db
        .query("SELECT p.answer AS answer FROM predictions p JOIN runs r ON r.id = p.run_id WHERE r.name = ?")
        .all(run)
        .map((row) => (row as { answer: string }).answer);
    } finally {
      db.close();
    }
  };

  test("the second server is asked (its answers are recorded); the first, asked again, is answered from the cache and says so", async () => {
    const first = await fake({ models: [model], responder: answer("alpha") });
    const second = await fake({ models: [model], responder: answer("beta") });
    const one = await evaluate(first.baseUrl, "first");
    expect(one.exitCode).toBe(0);
    const asked = first.counts.chat;

    const two = await evaluate(second.baseUrl, "second");
    expect(two.exitCode).toBe(0);
    expect(second.counts.chat).toBe(asked);
    expect(answers("second")).toEqual(["beta", "beta", "beta"]);
    expect(two.stdout).not.toContain("answered from the cache");

    const three = await evaluate(first.baseUrl, "first-again");
    expect(three.exitCode).toBe(0);
    expect(first.counts.chat).toBe(asked);
    expect(answers("first-again")).toEqual(["alpha", "alpha", "alpha"]);
    expect(three.stdout).toContain(`${asked} of ${asked} calls answered from the cache (--no-cache to re-ask)`);

    const runs = await runCli(["runs", "--db", database]);
    expect(runs.stdout).toContain(`first-again: ${asked} of ${asked} calls answered from the cache (--no-cache to re-ask)`);
    expect(runs.stdout).not.toContain("second: ");
  }, 60_000);
});
