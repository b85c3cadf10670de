/**
 * Part of suite "pipeline": what the LM request layer costs per call, four layers side by side.
 * Each sends the same body to the fake LM of the pipeline suite (its own process, no latency) with
 * 64 requests in flight and reads the reply as JSON:
 *   (a) the `openai` package as it comes: `chat.completions.create(…).asResponse()` with our fetch
 *       (`cappedFetch`) and `maxRetries: 0`;
 *   (b) the package as the client uses it (src/lm/request-layer.ts: headers built once, the body
 *       serialized once, the package's timer not armed), same fetch;
 *   (c) `fetchOrThrow` with the headers and body written by hand (our deadline, cap, classification);
 *   (d) Bun's fetch alone: the floor of any HTTP client in this process.
 * Figure: CPU of this process per request (user + system, all threads, so Bun's HTTP thread too),
 * the four alternating over several runs; × 4 calls is the cost per example.
 */
import OpenAI from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { cappedFetch, fetchOrThrow, jsonOf, type CallSettings } from "../src/http/fetch.ts";
import { chatCompletionLimitBytes } from "../src/http/limits.ts";
import { LM_SERVICE, START_SERVER_FIX } from "../src/lm/errors.ts";
import { messagesJson } from "../src/lm/messages.ts";
import { ChatCompletionsClient, chatCompletionBody } from "../src/lm/request-layer.ts";
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

function throughTrimmedOpenAI(baseUrl: string): Send {
  const client = new ChatCompletionsClient({ baseURL: baseUrl, apiKey: "arbor", timeoutMs: 120_000, fetch: cappedFetch(CALL) });
  return async (body) => {
    const { messages, ...settings } = body;
    const text = chatCompletionBody(settings, messagesJson(messages as Parameters<typeof messagesJson>[0]));
    return jsonOf(await client.chat.completions.create(body, { body: text }).asResponse());
  };
}

/** The headers the hand-written layers send: what the client's request layer sends. */
const HEADERS = { "content-type": "application/json", accept: "application/json", authorization: "Bearer arbor" };

function throughBunFetch(baseUrl: string): Send {
  const url = `${baseUrl}/chat/completions`;
  return async (body) => (await fetch(url, { method: "POST", headers: HEADERS, body: JSON.stringify(body) })).json();
}

function throughFetch(baseUrl: string): Send {
  const url = `${baseUrl}/chat/completions`;
  return async (body) => (await fetchOrThrow(url, { method: "POST", headers: HEADERS, body: JSON.stringify(body), ...CALL })).json();
}

/** CPU µs per request with IN_FLIGHT loops sending `requests` in all. */
async function cpuPerRequest(send: Send, requests: number): Promise<number> {
  Bun.gc(true);
  let sent = 0;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (sent < requests) await send(requestBody(sent++));
    }),
  );
  const cpu = process.cpuUsage(before);
  return (cpu.user + cpu.system) / requests;
}

/** CPU µs per request of each layer: one warm-up each (JIT, connections), then RUNS rounds alternating the layers. */
async function alternate(layers: ReadonlyArray<{ send: Send }>, requests: number): Promise<number[][]> {
  for (const layer of layers) await cpuPerRequest(layer.send, requests);
  const values = layers.map((): number[] => []);
  for (let run = 0; run < RUNS; run++) for (const [index, layer] of layers.entries()) values[index]?.push(await cpuPerRequest(layer.send, requests));
  return values;
}

/**
 * The wall-time floor of one call in this runtime: a Bun server in this process that answers after
 * Bun.sleep(50), asked by Bun's fetch one call at a time. Median latency ÷ 50 ms: what the timer and
 * the HTTP round trip add before any of musique's work (the pipeline's ideal counts 50 ms).
 */
async function transportFloor(): Promise<Figure> {
  const figure = figuresFor("pipeline");
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      await request.text();
      await Bun.sleep(50);
      return Response.json({ ok: true });
    },
  });
  try {
    const url = `http://127.0.0.1:${server.port}/`;
    const body = JSON.stringify(requestBody(0));
    const call = async () => {
      const started = performance.now();
      await (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body })).json();
      return performance.now() - started;
    };
    for (let index = 0; index < 5; index++) await call();
    const ratios: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const latencies: number[] = [];
      for (let index = 0; index < 30; index++) latencies.push(await call());
      ratios.push(summarize(latencies).median / 50);
    }
    return figure({
      name: "transport floor: Bun's fetch to a Bun server that answers after Bun.sleep(50), one call at a time: latency ÷ 50 ms",
      unit: "×",
      value: summarize(ratios),
      decimals: 3,
      note: "median of 30 calls per run; the pipeline's ideal counts 50 ms per call, so its loop ratio cannot go below this × the slot quantum",
    });
  } finally {
    server.stop(true);
  }
}

/** Requests per run against the fake with latency (64 in flight, 50 ms each: ~1.6 s per run). */
const PACED_REQUESTS = 2000;

/**
 * The same at the pipeline suite's pace (the fake answers after 50 ms): answers then arrive one by
 * one instead of in a hot loop, and every one wakes the process. Bun's fetch alone and the client's
 * layer side by side: the first is the floor any HTTP client in this process pays per call there.
 */
async function pacedFigures(): Promise<Figure[]> {
  const figure = figuresFor("pipeline");
  const fake = await startFakeLm(50);
  try {
    const layers = [
      { name: "Bun's fetch alone", send: throughBunFetch(fake.baseUrl) },
      { name: "the openai package as the client uses it", send: throughTrimmedOpenAI(fake.baseUrl) },
    ];
    progress(`pipeline: LM request layer at 50 ms per answer, ${layers.length} layers, ${PACED_REQUESTS} requests × ${RUNS} runs each`);
    const values = await alternate(layers, PACED_REQUESTS);
    return layers.map((layer, index) =>
      figure({
        name: `LM request layer at 50 ms per answer (C = 64): CPU per call through ${layer.name}`,
        unit: "µs",
        value: summarize(values[index] ?? []),
        decimals: 0,
        note: "answers spread over time wake the process per answer: the cost per call is several times the hot loop's",
      }),
    );
  } finally {
    fake.stop();
  }
}

export async function requestLayerFigures(): Promise<Figure[]> {
  const figure = figuresFor("pipeline");
  const fake = await startFakeLm(0);
  try {
    const layers = [
      { name: "the openai package as it comes (our fetch, maxRetries 0)", send: throughOpenAI(fake.baseUrl) },
      { name: "the openai package as the client uses it (request-layer.ts)", send: throughTrimmedOpenAI(fake.baseUrl) },
      { name: "fetchOrThrow directly", send: throughFetch(fake.baseUrl) },
      { name: "Bun's fetch alone (the floor)", send: throughBunFetch(fake.baseUrl) },
    ];
    progress(`pipeline: LM request layer, ${layers.length} layers, ${REQUESTS} requests × ${RUNS} runs each, ${IN_FLIGHT} in flight`);
    const values = await alternate(layers, REQUESTS);
    const [untrimmed = [], trimmed = []] = values;
    const saved = untrimmed.map((value, index) => (4 * (value - (trimmed[index] ?? 0))) / 1000);
    return [
      await transportFloor(),
      ...(await pacedFigures()),
      ...layers.map((layer, index) =>
        figure({ name: `LM request layer: CPU per call through ${layer.name}`, unit: "µs", value: summarize(values[index] ?? []), decimals: 0 }),
      ),
      figure({
        name: "LM request layer: CPU per example saved by trimming the openai package (4 calls)",
        unit: "ms",
        value: summarize(saved),
        decimals: 3,
        note: `(as it comes − as used) × 4, per run; ${IN_FLIGHT} in flight against the fake LM without latency; same body, deadline and cap`,
      }),
    ];
  } finally {
    fake.stop();
  }
}
