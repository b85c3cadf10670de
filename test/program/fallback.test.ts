/**
 * DSPy's JSONAdapter fallback in a program run (program.md §5, src/program/modules.ts): the calls
 * it makes, what stands, and what is recorded. The byte-level parity with DSPy is in parity.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { loadExamples, type Example } from "../../src/data/index.ts";
import { createChatClient } from "../../src/lm/client.ts";
import { runMultiHop, type MultiHopOptions } from "../../src/program/multihop.ts";
import { LexicalRetriever } from "../../src/retrieval/lexical.ts";
import { dspyResponder, startFakeOpenAI, type FakeOpenAI } from "../fakes/openai.ts";

let fake: FakeOpenAI;
let example: Example;

function options(extra: Partial<MultiHopOptions> = {}): MultiHopOptions {
  const client = createChatClient({
    baseUrls: [fake.baseUrl],
    apiKey: "arbor",
    model: "m",
    temperature: 0,
    maxTokens: 4000,
    maxRetries: 1,
    requestTimeoutSeconds: 5,
    concurrency: 4,
    retry: { initialDelayMs: 1, maxDelayMs: 2 },
  });
  return { client, retriever: new LexicalRetriever(), topN: 2, numHops: 2, maxHops: 4, ...extra };
}

function bodies(): Array<Record<string, unknown>> {
  return fake.requests.filter((request) => request.method === "POST").map((request) => request.body as Record<string, unknown>);
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
  const loaded = await loadExamples("sample", { seed: 89, noiseRate: 1, skipInvalid: false });
  example = loaded.examples[0] as Example;
});
afterAll(() => fake.stop());
afterEach(() => {
  fake.setFaults([]);
  fake.setResponder(dspyResponder());
  fake.requests.length = 0;
});

describe("JSONAdapter fallback (on by default, as in DSPy 3.0.2)", () => {
  test("a reply that breaks the ChatAdapter format is retried once with the JSONAdapter prompt (json_schema) and the run goes on", async () => {
    fake.setFaults([
      { kind: "latency", ms: 0 },
      { kind: "malformed", text: "The query is: Bank of America" },
    ]);
    const result = await runMultiHop(example, options());
    expect(result.failure).toBeNull();
    const query = result.calls[1];
    expect(query).toMatchObject({ module: "generate_query", adapter: "json_schema", status: "ok" });
    expect(query?.adapterAttempts.map((attempt) => [attempt.adapter, attempt.status])).toEqual([
      ["chat", "parse_error"],
      ["json_schema", "ok"],
    ]);
    const sent = bodies();
    expect(sent.length).toBe(5);
    expect(sent[2]?.response_format).toMatchObject({ type: "json_schema", json_schema: { name: "DSPyProgramOutputs", strict: true } });
    expect(String((sent[2]?.messages as Array<{ content: string }>).at(-1)?.content)).toEndWith(
      "Respond with a JSON object in the following order of fields: `reasoning`, then `search_query`.",
    );
  });

  test("when the json_schema reply fails too, the same prompt goes out with json_object; if that fails, it is a format failure", async () => {
    fake.setFaults([
      { kind: "latency", ms: 0 },
      { kind: "malformed", text: "no fields" },
      { kind: "malformed", text: "Sorry, I can't help with that." },
      { kind: "malformed", text: '{"reasoning": "only this"}' },
    ]);
    const result = await runMultiHop(example, options());
    expect(result.failure).toMatchObject({ kind: "format", module: "generate_query" });
    const sent = bodies();
    expect(sent.length).toBe(4);
    expect(sent[3]?.response_format).toEqual({ type: "json_object" });
    expect(sent[3]?.messages).toEqual(sent[2]?.messages);
    expect(result.calls[1]?.error).toContain("json_object: ");
    expect(result.calls[1]?.adapterAttempts.map((attempt) => attempt.failedText)).toEqual([
      "no fields",
      "Sorry, I can't help with that.",
      '{"reasoning": "only this"}',
    ]);
  });

  test("a JSON reply keeps what DSPy keeps: padding, and a list main field as Python's str() of the list", async () => {
    fake.setFaults([{ kind: "malformed", text: "broken" }]);
    fake.enqueue('Here it is:\n```json\n{"reasoning": "r", "key_information": ["a", "b\'s"]}\n```');
    const result = await runMultiHop(example, options({ numHops: 1 }));
    expect(result.calls[0]?.parsed).toEqual({ reasoning: "r", key_information: `['a', "b's"]` });
  });

  test("an empty reply is a format failure without a JSON call (DSPy raises nothing there, so it never falls back)", async () => {
    fake.setFaults([{ kind: "empty" }]);
    const result = await runMultiHop(example, options());
    expect(result.failure?.kind).toBe("format");
    expect(bodies().length).toBe(1);
  });

  test("a JSON call the server refuses (HTTP 400) counts as a failed attempt: json_object follows, as DSPy's except does", async () => {
    fake.setFaults([
      { kind: "latency", ms: 0 },
      { kind: "malformed", text: "broken" },
      { kind: "status", status: 400, body: "response_format is not supported" },
    ]);
    const result = await runMultiHop(example, options());
    expect(result.failure).toBeNull();
    expect(result.calls[1]?.adapterAttempts.map((attempt) => [attempt.adapter, attempt.status])).toEqual([
      ["chat", "parse_error"],
      ["json_schema", "lm_error"],
      ["json_object", "ok"],
    ]);
  });

  test("a JSON call that keeps failing on the server (HTTP 503) is a service failure, not a format failure", async () => {
    fake.setFaults([
      { kind: "latency", ms: 0 },
      { kind: "malformed", text: "broken" },
      { kind: "status", status: 503 },
      { kind: "status", status: 503 },
    ]);
    const result = await runMultiHop(example, options());
    expect(result.failure).toMatchObject({ kind: "service", service: "lm", module: "generate_query" });
  });

  test("an LM error on the ChatAdapter call is not retried with the JSONAdapter (it is a service failure)", async () => {
    fake.setFaults([
      { kind: "status", status: 503 },
      { kind: "status", status: 503 },
    ]);
    const result = await runMultiHop(example, options());
    expect(result.failure).toMatchObject({ kind: "service", module: "extract_information" });
    expect(bodies().every((body) => body.response_format === undefined)).toBe(true);
  });

  test("the request bodies carry only model, messages, temperature, max_tokens (and response_format on JSON calls)", async () => {
    fake.setFaults([{ kind: "malformed", text: "broken" }]);
    await runMultiHop(example, options({ numHops: 1 }));
    const keys = bodies().map((body) => Object.keys(body).sort().join(","));
    expect(keys[0]).toBe("max_tokens,messages,model,temperature");
    expect(keys[1]).toBe("max_tokens,messages,model,response_format,temperature");
  });
});
