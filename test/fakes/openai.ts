/**
 * A fake OpenAI-compatible chat server (vLLM / Arbor) for tests, speaking the real wire format.
 *
 *   const fake = await startFakeOpenAI({ flavor: "arbor" });   // or "vllm" (default)
 *   fake.baseUrl            // "http://127.0.0.1:PORT/v1": pass as --base-url or in baseUrls
 *   fake.requests           // every request: { method, path, headers, body, at }
 *   fake.chatRequests()     // the POST /v1/chat/completions ones (bodies: model, messages, …)
 *   fake.counts             // { chat, models, faults }
 *   fake.setFaults([...])   // a queue: each chat request consumes the next fault (if any)
 *   fake.enqueue("text" | { content, finishReason, usage })  // scripted replies, in order
 *   fake.setResponder((request) => "text" | reply)           // replies computed from the request
 *   await fake.stop()
 *
 * Routes: POST /v1/chat/completions → {id, object, created, model, choices:[{index, message:
 * {role, content}, finish_reason}], usage?}; GET /v1/models → {object:"list", data:[{id, created
 * (now, as vLLM stamps it), root, parent, …}]} with
 * flavor "vllm", 404 {"detail":"Not Found"} with flavor "arbor" (which also omits usage, like
 * LEGACY Arbor). With `models`, a chat request for another model gets 404 (vLLM's behaviour);
 * with `apiKey`, any other bearer token gets 401.
 *
 * Replies, in order of precedence: the next fault, the next scripted reply, the responder. The
 * default responder "speaks DSPy" for the four signatures of the program (ChatAdapter format, or a
 * JSON object of the same fields when asked with DSPy's JSONAdapter prompt / response_format):
 *   search_query = first five words of the question (+ the last collected line);
 *   key_information = the first document's title (its "# " line), "" when no documents;
 *   answer = the first line of all_information, or "unknown";
 *   has_collected_enough_info = True once all_information has `decideAfter` lines (default 2).
 *
 * Faults: latency (then a normal reply), status (429 with Retry-After, 500/502/503, 401, …),
 * reset (connection closed, no response), hang (never answers until stop), truncated-json,
 * null-body (Arbor's HTTP 200 `null`), no-choices, malformed (text not in ChatAdapter format),
 * length (finish_reason "length", text cut off), empty (content ""), null-content,
 * missing-marker (the normal reply with its [[ ## … ## ]] headers removed: a format failure),
 * extra-field (the normal reply plus an unknown field: DSPy ignores it, so it still parses),
 * reset-mid-body (HTTP 200, half the JSON, then the connection breaks), oversized (a completion
 * of `bytes` bytes), gzip-bomb (`content-encoding: gzip`, ~1 MiB that inflates to 1 GiB).
 * With `schedule` (test/fakes/schedule.ts), a request that finds the fault queue empty draws a
 * seeded fault with probability `rate`; every request that got a fault has `fault` set.
 */
import type { FaultSchedule } from "./schedule.ts";

export type FakeFault =
  | { kind: "latency"; ms: number }
  | { kind: "status"; status: number; retryAfter?: string; retryAfterMs?: number; body?: string }
  | { kind: "reset" }
  | { kind: "hang" }
  | { kind: "truncated-json" }
  | { kind: "null-body" }
  | { kind: "no-choices" }
  | { kind: "malformed"; text?: string }
  | { kind: "length"; text?: string }
  | { kind: "empty" }
  | { kind: "null-content" }
  | { kind: "missing-marker" }
  | { kind: "extra-field" }
  | { kind: "reset-mid-body" }
  | { kind: "oversized"; bytes: number }
  | { kind: "gzip-bomb" };

let gzipBomb: Uint8Array | undefined;

/** ~1 MiB of gzip that inflates to 1 GiB of spaces (64 gzip members of 16 MiB each). */
export function gzipBombBytes(): Uint8Array {
  gzipBomb ??= Buffer.concat(Array.from({ length: 64 }, () => member16MiB()));
  return gzipBomb;
}

let member: Uint8Array | undefined;
function member16MiB(): Uint8Array {
  member ??= Bun.gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x20), { level: 9 });
  return member;
}

interface FakeReply {
  content: string | null;
  finishReason?: string;
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
}

export interface FakeChatRequest {
  model: string;
  messages: Array<{ role: string; content: string }>;
  temperature?: number;
  max_tokens?: number;
  top_p?: number;
  [key: string]: unknown;
}

export type FakeResponder = (request: FakeChatRequest) => string | FakeReply | Promise<string | FakeReply>;

interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  at: number;
  /** The fault this request got (its kind; `status:429` for status faults), if any. */
  fault?: string;
}

export interface FakeOpenAIOptions {
  flavor?: "vllm" | "arbor";
  /** Models GET /v1/models lists (vllm); chat for another model → 404. Default: accept any. */
  models?: string[];
  /** vLLM's `root` per listed model (what --served-model-name hides; default: the id) and `parent` (a LoRA's base). */
  roots?: Record<string, string>;
  parents?: Record<string, string>;
  /** Require this bearer token (401 otherwise). */
  apiKey?: string;
  responder?: FakeResponder;
  faults?: FakeFault[];
  /** The DSPy responder says has_collected_enough_info = True after this many collected lines. */
  decideAfter?: number;
  /** Seeded random faults for chat requests, drawn when the fault queue is empty. */
  schedule?: FaultSchedule<FakeFault>;
}

export interface FakeOpenAI {
  url: string;
  baseUrl: string;
  port: number;
  requests: RecordedRequest[];
  counts: { chat: number; models: number; faults: number };
  chatRequests(): FakeChatRequest[];
  setFaults(faults: FakeFault[]): void;
  enqueue(...replies: Array<string | FakeReply>): void;
  setResponder(responder: FakeResponder): void;
  /** Replace (or remove, with undefined) the seeded fault schedule. */
  setSchedule(schedule: FaultSchedule<FakeFault> | undefined): void;
  stop(): Promise<void>;
}

/** The fields of a ChatAdapter user message ("[[ ## name ## ]]\nvalue" blocks). */
export function userFields(content: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const parts = content.split(/^\[\[ ## (\w+) ## \]\]$/m);
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const value = parts[i + 1] ?? "";
    fields[parts[i] ?? ""] = value
      .replace(/^\n/, "")
      .replace(/\n\nRespond with (the corresponding output fields|a JSON object)[\s\S]*$/, "")
      .replace(/\n\n$/, "");
  }
  return fields;
}

/** A completion in ChatAdapter format, as a model would write it. */
export function dspyCompletion(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([name, value]) => `[[ ## ${name} ## ]]\n${value}`)
    .concat("[[ ## completed ## ]]")
    .join("\n\n");
}

/** Whether a request is one of DSPy's JSONAdapter calls (its prompt or its response_format). */
export function isJsonRequest(request: FakeChatRequest): boolean {
  const user = request.messages.at(-1)?.content ?? "";
  return request.response_format !== undefined || user.includes("Respond with a JSON object in the following order of fields:");
}

/**
 * The default responder: answers the four program signatures in valid ChatAdapter format, or,
 * asked with DSPy's JSONAdapter prompt, with a JSON object of the same fields (as a model does).
 */
export function dspyResponder(decideAfter = 2): FakeResponder {
  const chatResponder = chatFields(decideAfter);
  return (request) => {
    const fields = chatResponder(request);
    if (fields === null) return "I am a fake model.";
    if (!isJsonRequest(request)) return dspyCompletion(fields);
    const values = Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, name === "has_collected_enough_info" ? value === "True" : value]));
    return JSON.stringify(values);
  };
}

function chatFields(decideAfter: number): (request: FakeChatRequest) => Record<string, string> | null {
  return (request): Record<string, string> | null => {
    const system = request.messages.find((message) => message.role === "system")?.content ?? "";
    const user = request.messages.filter((message) => message.role === "user").at(-1)?.content ?? "";
    const fields = userFields(user);
    const question = fields.question ?? "";
    const reasoning = "The fake model read the inputs.";
    if (system.includes("`search_query`")) {
      const lines = (fields.collected_info ?? "").split("\n").filter((line) => line.trim() !== "");
      const words = question.split(/\s+/).slice(0, 5).join(" ");
      const last = lines[lines.length - 1] ?? "";
      return { reasoning, search_query: last ? `${words} ${last}` : words };
    }
    if (system.includes("`key_information`")) {
      const title = /^# (.*)$/m.exec(fields.documents ?? "")?.[1] ?? "";
      return { reasoning, key_information: title };
    }
    if (system.includes("`has_collected_enough_info`")) {
      const count = (fields.all_information ?? "").split("\n").filter((line) => line.trim() !== "").length;
      return { reasoning, has_collected_enough_info: count >= decideAfter ? "True" : "False" };
    }
    if (system.includes("`answer`")) {
      const first = (fields.all_information ?? "").split("\n").find((line) => line.trim() !== "");
      return { reasoning, answer: first ?? "unknown" };
    }
    return null;
  };
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const flavor = options.flavor ?? "vllm";
  const requests: RecordedRequest[] = [];
  const counts = { chat: 0, models: 0, faults: 0 };
  let faults: FakeFault[] = [...(options.faults ?? [])];
  const script: Array<string | FakeReply> = [];
  let responder: FakeResponder = options.responder ?? dspyResponder(options.decideAfter);
  const hanging = new Set<() => void>();
  let completionNumber = 0;
  let schedule = options.schedule;

  const completion = (model: string, reply: FakeReply): Response => {
    completionNumber += 1;
    const content = reply.content;
    const body: Record<string, unknown> = {
      id: `chatcmpl-fake${completionNumber}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: reply.finishReason ?? "stop" }],
    };
    const usage = reply.usage === undefined ? { prompt_tokens: 100, completion_tokens: Math.ceil((content ?? "").length / 4) } : reply.usage;
    if (flavor === "vllm" && usage) body.usage = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
    return json(body);
  };

  const answer = async (request: FakeChatRequest): Promise<FakeReply> => {
    const next = script.shift();
    const reply = next ?? (await responder(request));
    return typeof reply === "string" ? { content: reply } : reply;
  };

  const chat = async (request: FakeChatRequest, recorded?: RecordedRequest): Promise<Response> => {
    counts.chat += 1;
    const model = typeof request.model === "string" ? request.model.replace(/^(openai\/|arbor:)/, "") : "";
    if (options.models && !options.models.includes(model)) {
      return json({ object: "error", message: `The model \`${model}\` does not exist.`, type: "NotFoundError", code: 404 }, 404);
    }
    const fault = faults.shift() ?? schedule?.next();
    if (fault) {
      counts.faults += 1;
      if (recorded) recorded.fault = fault.kind === "status" ? `status:${fault.status}` : fault.kind;
    }
    switch (fault?.kind) {
      case undefined:
        return completion(model, await answer(request));
      case "latency":
        await Bun.sleep(fault.ms);
        return completion(model, await answer(request));
      case "status": {
        const headers: Record<string, string> = {};
        if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
        if (fault.retryAfterMs !== undefined) headers["retry-after-ms"] = String(fault.retryAfterMs);
        const body = fault.body ?? JSON.stringify({ error: { message: `fake HTTP ${fault.status}`, type: "fake" } });
        return new Response(body, { status: fault.status, headers: { "content-type": "application/json", ...headers } });
      }
      case "reset":
        // Erroring the body stream before anything is sent closes the socket: ECONNRESET.
        return new Response(new ReadableStream({ start: (controller) => controller.error() }));
      case "reset-mid-body": {
        const text = JSON.stringify({
          id: "chatcmpl-cut",
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: "x".repeat(4096) } }],
        });
        const half = new TextEncoder().encode(text.slice(0, Math.floor(text.length / 2)));
        const stream = new ReadableStream<Uint8Array>({
          start: async (controller) => {
            controller.enqueue(half);
            await Bun.sleep(20);
            controller.error(new Error("fake: connection cut mid-body"));
          },
        });
        return new Response(stream, { headers: { "content-type": "application/json" } });
      }
      case "oversized":
        return completion(model, { content: "x".repeat(fault.bytes) });
      case "gzip-bomb":
        return new Response(gzipBombBytes(), { headers: { "content-type": "application/json", "content-encoding": "gzip" } });
      case "hang":
        return new Promise<Response>((resolve) => {
          const release = () => resolve(new Response(null, { status: 503 }));
          hanging.add(release);
        });
      case "truncated-json": {
        const text = JSON.stringify({ id: "chatcmpl-cut", object: "chat.completion", choices: [{ index: 0 }] });
        return new Response(text.slice(0, Math.floor(text.length / 2)), { headers: { "content-type": "application/json" } });
      }
      case "null-body":
        return new Response("null", { headers: { "content-type": "application/json" } });
      case "no-choices":
        return json({ id: "chatcmpl-empty", object: "chat.completion", created: 0, model, choices: [] });
      case "malformed":
        return completion(model, { content: fault.text ?? "Sure! The answer is 42." });
      case "length": {
        const full = (await answer(request)).content ?? "";
        return completion(model, { content: fault.text ?? full.slice(0, Math.floor(full.length / 2)), finishReason: "length" });
      }
      case "empty":
        return completion(model, { content: "" });
      case "null-content":
        return completion(model, { content: null });
      case "missing-marker": {
        const full = (await answer(request)).content ?? "";
        return completion(model, { content: full.replace(/^\[\[ ## \w+ ## \]\]\n?/gm, "") });
      }
      case "extra-field": {
        const full = (await answer(request)).content ?? "";
        return completion(model, { content: `[[ ## confidence ## ]]\nhigh\n\n${full}` });
      }
    }
  };

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch: async (httpRequest) => {
      const url = new URL(httpRequest.url);
      const text = await httpRequest.text();
      let body: unknown = null;
      try {
        body = text === "" ? null : JSON.parse(text);
      } catch {
        body = text;
      }
      const headers: Record<string, string> = {};
      httpRequest.headers.forEach((value, key) => {
        headers[key] = value;
      });
      const recorded: RecordedRequest = { method: httpRequest.method, path: url.pathname, headers, body, at: Date.now() };
      requests.push(recorded);
      const path = url.pathname.replace(/\/+$/, "");
      if (options.apiKey !== undefined && headers.authorization !== `Bearer ${options.apiKey}`) {
        return json({ error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" } }, 401);
      }
      if (httpRequest.method === "GET" && path === "/v1/models") {
        counts.models += 1;
        if (flavor === "arbor") return json({ detail: "Not Found" }, 404);
        const ids = options.models ?? ["Qwen/Qwen2.5-7B-Instruct"];
        // As vLLM: `created` is the time of this answer, `root` the model path behind the name.
        const created = Math.floor(Date.now() / 1000);
        const card = (id: string) => ({
          id,
          object: "model",
          created,
          owned_by: "vllm",
          root: options.roots?.[id] ?? id,
          parent: options.parents?.[id] ?? null,
        });
        return json({ object: "list", data: ids.map(card) });
      }
      if (httpRequest.method === "POST" && path === "/v1/chat/completions") {
        return chat(body as FakeChatRequest, recorded);
      }
      return json({ detail: "Not Found" }, 404);
    },
  });

  const port = server.port ?? 0;
  const root = `http://127.0.0.1:${port}`;
  return {
    url: root,
    baseUrl: `${root}/v1`,
    port,
    requests,
    counts,
    chatRequests: () => requests.filter((request) => request.path.endsWith("/chat/completions")).map((request) => request.body as FakeChatRequest),
    setFaults: (next) => {
      faults = [...next];
    },
    enqueue: (...replies) => {
      script.push(...replies);
    },
    setResponder: (next) => {
      responder = next;
    },
    setSchedule: (next) => {
      schedule = next;
    },
    stop: async () => {
      for (const release of hanging) release();
      hanging.clear();
      await server.stop(true);
    },
  };
}
