import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { InterruptedError, ServiceError } from "../../src/errors.ts";
import { loadExamples, type Example } from "../../src/data/index.ts";
import { MemoryResponseCache } from "../../src/lm/cache.ts";
import { createChatClient, type ChatClientOptions } from "../../src/lm/client.ts";
import { format } from "../../src/program/adapter/index.ts";
import { runMultiHop, type MultiHopOptions } from "../../src/program/multihop.ts";
import { ExtractInformation, GenerateSearchQuery } from "../../src/program/signatures.ts";
import { LexicalRetriever } from "../../src/retrieval/lexical.ts";
import { formatDocuments } from "../../src/retrieval/types.ts";
import { dspyCompletion, dspyResponder, startFakeOpenAI, userFields, type FakeOpenAI } from "../fakes/openai.ts";

let fake: FakeOpenAI;
let examples: Example[];
const retriever = new LexicalRetriever();

function clientOptions(baseUrls: string[], extra: Partial<ChatClientOptions> = {}): ChatClientOptions {
  return {
    baseUrls,
    apiKey: "arbor",
    model: "Qwen/Qwen2.5-7B-Instruct",
    temperature: 0.5,
    maxTokens: 4000,
    maxRetries: 2,
    requestTimeoutSeconds: 5,
    concurrency: 4,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  };
}

function programOptions(extra: Partial<MultiHopOptions> = {}, baseUrls = [fake.baseUrl]): MultiHopOptions {
  return { client: createChatClient(clientOptions(baseUrls)), retriever, topN: 2, numHops: 2, maxHops: 4, ...extra };
}

function example(index = 0): Example {
  const found = examples[index];
  if (!found) throw new Error(`no example ${index}`);
  return found;
}

beforeAll(async () => {
  fake = await startFakeOpenAI({ flavor: "arbor" });
  examples = (await loadExamples("sample", { seed: 89, noiseRate: 1, skipInvalid: false })).examples;
});
afterAll(() => fake.stop());
afterEach(() => {
  fake.setFaults([]);
  fake.setResponder(dspyResponder());
  fake.requests.length = 0;
});

describe("MultiHopQA with fixed hops (program.md §3)", () => {
  test.each([1, 2, 3, 4])("%i hops make exactly 2·N LM calls", async (hops) => {
    const result = await runMultiHop(example(), programOptions({ numHops: hops }));
    expect(fake.requests.length).toBe(2 * hops);
    expect(result.calls.length).toBe(2 * hops);
    expect(result.hopsUsed).toBe(hops);
    expect(result.failure).toBeNull();
  });

  test("the call order is extract at hop 0, then query + extract per hop, then answer", async () => {
    const result = await runMultiHop(example(), programOptions({ numHops: 3 }));
    expect(result.calls.map((call) => [call.module, call.hop, call.invocation])).toEqual([
      ["extract_information", 0, 0],
      ["generate_query", 1, 0],
      ["extract_information", 1, 1],
      ["generate_query", 2, 1],
      ["extract_information", 2, 2],
      ["generate_answer", 3, 0],
    ]);
  });

  test("hop 0 searches with the question and extract sees the retrieved documents verbatim", async () => {
    const item = example();
    const result = await runMultiHop(item, programOptions());
    const expected = await retriever.retrieve(item.question, item, 2);
    expect(result.hops[0]?.query).toBe(item.question);
    expect(result.hops[0]?.documentsText).toBe(formatDocuments(expected));
    const firstCall = result.calls[0];
    expect(firstCall?.inputs).toEqual({ question: item.question, documents: formatDocuments(expected) });
    expect(firstCall?.messages).toEqual(format(ExtractInformation, firstCall?.inputs ?? {}));
    expect(fake.chatRequests()[0]?.messages).toEqual(firstCall?.messages ?? []);
  });

  test("later hops query with the collected information joined by newlines", async () => {
    const item = example();
    const result = await runMultiHop(item, programOptions({ numHops: 3 }));
    const queries = result.calls.filter((call) => call.module === "generate_query");
    expect(queries[0]?.inputs.collected_info).toBe(result.collectedInfo[0]);
    expect(queries[1]?.inputs.collected_info).toBe(result.collectedInfo.slice(0, 2).join("\n"));
    expect(queries[1]?.messages).toEqual(format(GenerateSearchQuery, queries[1]?.inputs ?? {}));
    expect(result.hops[1]?.query).toBe(queries[0]?.parsed?.search_query ?? "missing");
    const answer = result.calls.at(-1);
    expect(answer?.inputs.all_information).toBe(result.collectedInfo.join("\n"));
  });

  test("the answer, collected info and unique retrieved ids come back with full traces", async () => {
    const item = example();
    const result = await runMultiHop(item, programOptions());
    const titles = result.hops.map((hop) => hop.retrieved[0]?.title);
    expect(result.collectedInfo).toEqual(titles.map((title) => title ?? ""));
    expect(result.answer).toBe(titles[0] ?? "missing");
    const all = result.hops.flatMap((hop) => hop.retrieved.map((document) => document.id));
    expect(result.retrievedIds).toEqual([...new Set(all)]);
    for (const call of result.calls) {
      expect(call).toMatchObject({ status: "ok", error: null, truncated: false, attempts: 1, cached: false, endpoint: fake.baseUrl });
      expect(call.rawCompletion).toContain("[[ ## reasoning ## ]]");
      expect(call.parsed?.reasoning).toBe("The fake model read the inputs.");
    }
  });

  test("an empty key_information still counts as collected", async () => {
    fake.setResponder((request) => {
      const fields = userFields(request.messages[1]?.content ?? "");
      if ("documents" in fields) return dspyCompletion({ reasoning: "r", key_information: "" });
      return dspyResponder()(request);
    });
    const result = await runMultiHop(example(), programOptions());
    expect(result.collectedInfo).toEqual(["", ""]);
    expect(result.calls[1]?.inputs.collected_info).toBe("");
    expect(result.calls[3]?.inputs.all_information).toBe("\n");
  });

  test("inputs are a deep copy taken at call time", async () => {
    const result = await runMultiHop(example(), programOptions());
    const inputs = result.calls[0]?.inputs;
    if (!inputs) throw new Error("no call");
    inputs.question = "changed";
    expect(result.calls[0]?.messages[1]?.content).toContain(example().question);
  });
});

describe("MultiHopQA hop policies", () => {
  test("gold runs the example's number of supporting paragraphs", async () => {
    const fourHop = examples.find((item) => item.nHops === 4);
    if (!fourHop) throw new Error("the sample has a 4-hop example");
    const result = await runMultiHop(fourHop, programOptions({ numHops: "gold" }));
    expect(result.hopsUsed).toBe(4);
    expect(result.calls.length).toBe(8);
  });

  test("auto asks DecideInfoCollection after each hop and stops when it says True", async () => {
    const result = await runMultiHop(example(), programOptions({ numHops: "auto", maxHops: 4 }));
    expect(result.hopsUsed).toBe(2);
    // hop 0 has no query call: extract·2 + query·1 + decide·2 + answer = 3·hops
    expect(result.calls.length).toBe(3 * 2);
    expect(result.hops.map((hop) => hop.enough)).toEqual([false, true]);
    const decides = result.calls.filter((call) => call.module === "decide_info_collection");
    expect(decides[1]?.inputs.all_information).toBe(result.collectedInfo.join("\n"));
  });

  test("auto stops after --max-hops when the model never says True", async () => {
    fake.setResponder(dspyResponder(99));
    const result = await runMultiHop(example(), programOptions({ numHops: "auto", maxHops: 3 }));
    expect(result.hopsUsed).toBe(3);
    expect(result.calls.length).toBe(9);
    expect(result.answer).not.toBeNull();
  });
});

describe("MultiHopQA failures", () => {
  test("--no-json-fallback: a completion that breaks the format stops the run as a format failure, with no second call", async () => {
    fake.setFaults([
      { kind: "latency", ms: 0 },
      { kind: "malformed", text: "The query is: Bank of America" },
    ]);
    const result = await runMultiHop(example(), programOptions({ jsonFallback: false }));
    expect(fake.requests.length).toBe(2);
    expect(result.answer).toBeNull();
    expect(result.failure).toMatchObject({ kind: "format", module: "generate_query" });
    expect(result.calls[1]).toMatchObject({ status: "parse_error", rawCompletion: "The query is: Bank of America", parsed: null });
    expect(result.calls[1]?.error).toContain("`reasoning`");
  });

  test("an empty completion is a format failure", async () => {
    fake.setFaults([{ kind: "empty" }]);
    const result = await runMultiHop(example(), programOptions());
    expect(result.failure?.kind).toBe("format");
    expect(result.calls.length).toBe(1);
  });

  test("--no-json-fallback: a truncated completion is recorded (finish_reason length) and named in the failure", async () => {
    fake.setFaults([{ kind: "length" }]);
    const result = await runMultiHop(example(), programOptions({ jsonFallback: false }));
    expect(result.calls[0]).toMatchObject({ finishReason: "length", truncated: true, status: "parse_error" });
    expect(result.failure?.message).toContain("--max-tokens");
  });

  test("a truncated completion that still parses is recorded and the run goes on", async () => {
    fake.setFaults([{ kind: "length", text: dspyCompletion({ reasoning: "r", key_information: "k" }) }]);
    const result = await runMultiHop(example(), programOptions());
    expect(result.calls[0]).toMatchObject({ truncated: true, status: "ok" });
    expect(result.failure).toBeNull();
  });

  test("429, 500, connection resets and Arbor's null body are retried inside a run", async () => {
    fake.setFaults([
      { kind: "status", status: 429, retryAfterMs: 1 },
      { kind: "latency", ms: 0 },
      { kind: "status", status: 500 },
      { kind: "latency", ms: 0 },
      { kind: "reset" },
      { kind: "latency", ms: 0 },
      { kind: "null-body" },
    ]);
    const result = await runMultiHop(example(), programOptions());
    expect(result.failure).toBeNull();
    expect(result.calls.map((call) => call.attempts)).toEqual([2, 2, 2, 2]);
  });

  test("an LM that keeps failing ends the run as an LM failure after the retries", async () => {
    fake.setFaults([
      { kind: "latency", ms: 0 },
      { kind: "status", status: 503 },
      { kind: "status", status: 503 },
      { kind: "status", status: 503 },
    ]);
    const result = await runMultiHop(example(), programOptions());
    expect(result.failure).toMatchObject({ kind: "service", service: "lm", module: "generate_query" });
    expect(result.calls[1]).toMatchObject({ status: "lm_error", rawCompletion: null, attempts: 3 });
  });

  test("401 and 404 are not retried and stop the caller (thrown)", async () => {
    const locked = await startFakeOpenAI({ apiKey: "other" });
    const promise = runMultiHop(example(), programOptions({}, [locked.baseUrl]));
    await expect(promise).rejects.toBeInstanceOf(ServiceError);
    expect(locked.requests.length).toBe(1);
    await locked.stop();
  });

  test("Ctrl-C (an aborted signal) propagates as InterruptedError", async () => {
    fake.setFaults([{ kind: "latency", ms: 1000 }]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new InterruptedError()), 30);
    await expect(runMultiHop(example(), programOptions({ signal: controller.signal }))).rejects.toBeInstanceOf(InterruptedError);
  });
});

describe("MultiHopQA with several endpoints and the cache", () => {
  test("two endpoints both get traffic", async () => {
    const other = await startFakeOpenAI({ flavor: "arbor" });
    const options = programOptions({}, [fake.baseUrl, other.baseUrl]);
    await Promise.all([0, 1, 2].map((index) => runMultiHop(example(index), options)));
    expect(fake.requests.length).toBeGreaterThan(0);
    expect(other.requests.length).toBeGreaterThan(0);
    expect(fake.requests.length + other.requests.length).toBe(12);
    await other.stop();
  });

  test("with one endpoint down the run completes on the other", async () => {
    const gone = await startFakeOpenAI();
    await gone.stop();
    const result = await runMultiHop(example(), programOptions({}, [gone.baseUrl, fake.baseUrl]));
    expect(result.failure).toBeNull();
    expect(result.calls.every((call) => call.endpoint === fake.baseUrl)).toBe(true);
  });

  test("a temperature-0 rerun is answered from the cache", async () => {
    const cache = new MemoryResponseCache();
    const client = createChatClient(clientOptions([fake.baseUrl], { temperature: 0, cache }));
    const options = { ...programOptions(), client };
    const first = await runMultiHop(example(), options);
    const second = await runMultiHop(example(), options);
    expect(fake.requests.length).toBe(4);
    expect(second.calls.every((call) => call.cached && call.attempts === 0)).toBe(true);
    expect(second.answer).toBe(first.answer);
  });

  test("noCache (training rollouts) bypasses the cache", async () => {
    const cache = new MemoryResponseCache();
    const client = createChatClient(clientOptions([fake.baseUrl], { temperature: 0, cache }));
    await runMultiHop(example(), { ...programOptions(), client, noCache: true });
    await runMultiHop(example(), { ...programOptions(), client, noCache: true });
    expect(fake.requests.length).toBe(8);
  });
});
