/**
 * Part of suite "pipeline": what the `openai` package costs as the LM client's request layer
 * (src/lm/client.ts), side by side with posting the same request through our fetch directly.
 * Both send the same body to the fake LM of the pipeline suite (its own process, no latency) with
 * 64 requests in flight and read the reply as JSON, under the same deadline and body cap
 * (src/http/fetch.ts): (a) openai-node's `chat.completions.create(…).asResponse()` with our fetch
 * (`cappedFetch`) and `maxRetries: 0`, exactly as the client builds it; (b) `fetchOrThrow` with
 * the headers and body written by hand. Figure: CPU of this process per request (user + system),
 * the two alternating over several runs; the difference × 4 calls is its cost per example.
 */
import OpenAI from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { cappedFetch, fetchOrThrow, type CallSettings } from "../src/http/fetch.ts";
import { chatCompletionLimitBytes } from "../src/http/limits.ts";
import { LM_SERVICE, START_SERVER_FIX } from "../src/lm/errors.ts";
import { figuresFor, progress, summarize, type Figure } from "./measure.ts";
import { startFakeLm } from "./pipeline.ts";

const IN_FLIGHT = 64;
const REQUESTS = 4000;
const RUNS = 5;
const MAX_TOKENS = 256;

const CALL: CallSettings = {
  service: LM_SERVICE,
  timeoutMs: 60_000,
  timeoutFlag: "--request-timeout",
  fix: START_SERVER_FIX,
  maxBodyBytes: chatCompletionLimitBytes(MAX_TOKENS),
  retryMalformed: true,
};

/** A request of the program's size: DSPy's ChatAdapter system message and a question with paragraphs. */
function requestBody(index: number): ChatCompletionCreateParamsNonStreaming {
  const paragraphs = Array.from({ length: 2 }, (_, paragraph) => `[${paragraph + 1}] «Title ${paragraph} | ${"words of a paragraph ".repeat(20)}»`).join("\n");
  return {
    model: "Qwen/Qwen2.5-7B-Instruct",
    messages: [
      { role: "system", content: `Your input fields are:\n1. \`question\` (str)\n2. \`passages\` (list[str])\n${"Your output fields are: … ".repeat(10)}` },
      { role: "user", content: `[[ ## question ## ]]\nWhich question is number ${index}?\n\n[[ ## passages ## ]]\n${paragraphs}` },
    ],
    temperature: 0.7,
    max_tokens: MAX_TOKENS,
  };
}

type Send = (body: ChatCompletionCreateParamsNonStreaming) => Promise<unknown>;

function throughOpenAI(baseUrl: string): Send {
  const client = new OpenAI({
    baseURL: baseUrl,
    apiKey: "arbor",
    adminAPIKey: null,
    organization: null,
    project: null,
    webhookSecret: null,
    maxRetries: 0,
    timeout: 120_000,
    logLevel: "off",
    fetch: cappedFetch(CALL),
  });
  return async (body) => (await client.chat.completions.create(body).asResponse()).json();
}

function throughFetch(baseUrl: string): Send {
  const url = `${baseUrl}/chat/completions`;
  const headers = { "content-type": "application/json", accept: "application/json", authorization: "Bearer arbor" };
  return async (body) => (await fetchOrThrow(url, { method: "POST", headers, body: JSON.stringify(body), ...CALL })).json();
}

/** CPU µs per request with IN_FLIGHT loops sending REQUESTS in all. */
async function cpuPerRequest(send: Send): Promise<number> {
  Bun.gc(true);
  let sent = 0;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (sent < REQUESTS) await send(requestBody(sent++));
    }),
  );
  const cpu = process.cpuUsage(before);
  return (cpu.user + cpu.system) / REQUESTS;
}

export async function requestLayerFigures(): Promise<Figure[]> {
  const figure = figuresFor("pipeline");
  const fake = await startFakeLm(0);
  try {
    const openai = throughOpenAI(fake.baseUrl);
    const direct = throughFetch(fake.baseUrl);
    progress(`pipeline: LM request layer, openai vs fetchOrThrow, ${REQUESTS} requests × ${RUNS} runs each, ${IN_FLIGHT} in flight`);
    await cpuPerRequest(openai); // warm-up (JIT, connections)
    await cpuPerRequest(direct);
    const withPackage: number[] = [];
    const without: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      withPackage.push(await cpuPerRequest(openai));
      without.push(await cpuPerRequest(direct));
    }
    const extra = withPackage.map((value, index) => value - (without[index] ?? 0));
    return [
      figure({
        name: "LM request layer: CPU per call through the openai package (our fetch, maxRetries 0)",
        unit: "µs",
        value: summarize(withPackage),
        decimals: 0,
      }),
      figure({ name: "LM request layer: CPU per call through fetchOrThrow directly", unit: "µs", value: summarize(without), decimals: 0 }),
      figure({
        name: "LM request layer: what the openai package adds per example (4 calls)",
        unit: "ms",
        value: summarize(extra.map((value) => (4 * value) / 1000)),
        decimals: 3,
        note: `(openai − direct) × 4, per run pair; ${IN_FLIGHT} in flight against the fake LM without latency; same body, deadline and cap`,
      }),
    ];
  } finally {
    fake.stop();
  }
}
