/**
 * The openai package as trimmed by src/lm/request-layer.ts: what goes on the wire (headers and the
 * body byte for byte), and that the serialized messages are the ones stored with the call.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createChatClient } from "../../src/lm/client.ts";
import { messagesJson } from "../../src/lm/messages.ts";
import { chatCompletionBody } from "../../src/lm/request-layer.ts";
import type { ChatMessage } from "../../src/lm/types.ts";
import { startFakeOpenAI, type FakeOpenAI } from "../fakes/openai.ts";

const MESSAGES: ChatMessage[] = [
  { role: "system", content: 'Your input fields are:\n1. `question` (str)\n"quoted" \\ back\tslash' },
  { role: "user", content: "[[ ## question ## ]]\nWhich «city» is 東京? 🙂 \u2028 end" },
];

describe("chatCompletionBody", () => {
  const variants = [
    { model: "m", temperature: 0.7, max_tokens: 256 },
    { model: "Qwen/Qwen2.5-7B-Instruct", temperature: 0, max_tokens: 1 },
    { model: "m", temperature: 1.25, max_tokens: 512, top_p: 0.9 },
    { model: 'odd "model"', temperature: 0.5, max_tokens: 64, response_format: { type: "json_object" as const } },
    {
      model: "m",
      temperature: 0.5,
      max_tokens: 64,
      top_p: 1,
      response_format: { type: "json_schema" as const, json_schema: { name: "x", strict: true, schema: { type: "object" } } },
    },
  ];
  for (const settings of variants) {
    test(`equals JSON.stringify of the body with keys model, messages, then the rest (${Object.keys(settings).join(", ")})`, () => {
      const { model, ...rest } = settings;
      expect(chatCompletionBody(settings, messagesJson(MESSAGES))).toBe(JSON.stringify({ model, messages: MESSAGES, ...rest }));
    });
  }

  test("messagesJson keeps role and content only, in that order, and gives the same text for the same list", () => {
    const extra = [{ content: "c", role: "user", name: "ignored" }] as unknown as ChatMessage[];
    expect(messagesJson(extra)).toBe('[{"role":"user","content":"c"}]');
    expect(messagesJson(MESSAGES)).toBe(JSON.stringify(MESSAGES));
    expect(messagesJson(MESSAGES)).toBe(messagesJson(MESSAGES));
  });
});

describe("the request on the wire", () => {
  let fake: FakeOpenAI;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setResponder(() => "hello");
  });
  afterAll(() => fake.stop());

  test("the body is the JSON the client serialized, the headers are accept, content type and the bearer key (no SDK telemetry headers)", async () => {
    const client = createChatClient({
      baseUrls: [fake.baseUrl],
      apiKey: "secret-key",
      model: "m",
      temperature: 0.7,
      maxTokens: 256,
      maxRetries: 0,
      requestTimeoutSeconds: 5,
      concurrency: 1,
    });
    const result = await client.complete({ messages: MESSAGES, topP: 0.5 });
    expect(result.text).toBe("hello");
    const sent = fake.requests.at(-1);
    expect(sent?.method).toBe("POST");
    expect(sent?.path).toBe("/v1/chat/completions");
    expect(sent?.body).toEqual({ model: "m", messages: MESSAGES, temperature: 0.7, max_tokens: 256, top_p: 0.5 });
    expect(sent?.headers.authorization).toBe("Bearer secret-key");
    expect(sent?.headers["content-type"]).toBe("application/json");
    expect(sent?.headers.accept).toBe("application/json");
    expect(Object.keys(sent?.headers ?? {}).filter((name) => name.startsWith("x-stainless") || name.startsWith("openai-"))).toEqual([]);
  });
});
