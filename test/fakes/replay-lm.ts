/**
 * A replay LM: an OpenAI-compatible loopback server that answers exactly as the scripted LM
 * answered the real DSPy 3.0.2 program (test/fixtures/dspy-reference/, README §3: the reply is a
 * pure function of the request body).
 *
 *   const replay = await startReplayLm(transcriptRows);
 *   replay.baseUrl          // http://127.0.0.1:PORT/v1
 *   replay.log              // every chat request: { body, matched, recorded?, extraKeys, diff? }
 *   await replay.stop()
 *
 * A request is matched when its `messages`, `temperature`, `max_tokens` and `response_format`
 * equal a recorded request's (key order and `model` do not matter); it then gets DSPy's recorded
 * response (with the request's model echoed). Any other key in the body (e.g. `top_p`) is
 * flagged in `extraKeys` (the request is still answered if the rest matches). An unmatched
 * request gets a reply that breaks both the ChatAdapter and the JSON format
 * (`[[ ## replay_mismatch ## ]]…`) and a compact diff against the closest recorded request.
 * GET /v1/models lists "fake".
 */

export interface TranscriptRow {
  example_id: string;
  seq: number;
  module: string;
  adapter: "chat" | "json_schema" | "json_object";
  variant: string;
  request: Record<string, unknown>;
  response: Record<string, unknown>;
}

export interface ReplayEntry {
  body: Record<string, unknown>;
  matched: boolean;
  /** The recorded row answered (the first with this body). */
  recorded: TranscriptRow | null;
  /** Body keys other than model, messages, temperature, max_tokens, response_format. */
  extraKeys: string[];
  /** For an unmatched request: where it first differs from the closest recorded one. */
  diff: string | null;
}

export interface ReplayLm {
  baseUrl: string;
  log: ReplayEntry[];
  stop(): Promise<void>;
}

const COMPARED = ["messages", "temperature", "max_tokens", "response_format"] as const;
const ALLOWED = new Set<string>(["model", ...COMPARED]);

/** JSON with sorted object keys (so key order never matters). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The part of a body that must equal a recorded request. */
export function requestKey(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages)
    ? body.messages.map((message: { role?: unknown; content?: unknown }) => ({ role: message.role, content: message.content }))
    : null;
  return canonical({ messages, temperature: body.temperature ?? null, max_tokens: body.max_tokens ?? null, response_format: body.response_format ?? null });
}

function firstDifference(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function describeDiff(body: Record<string, unknown>, rows: readonly TranscriptRow[]): string {
  const key = requestKey(body);
  let best: { row: TranscriptRow; at: number; other: string } | null = null;
  for (const row of rows) {
    const other = requestKey(row.request);
    const at = firstDifference(key, other);
    if (!best || at > best.at) best = { row, at, other };
  }
  if (!best) return "no recorded requests";
  const around = (text: string) => JSON.stringify(text.slice(Math.max(0, best.at - 60), best.at + 60));
  return `closest: ${best.row.example_id} seq ${best.row.seq} (${best.row.adapter}); first difference at ${best.at}: sent ${around(key)} recorded ${around(best.other)}`;
}

export async function startReplayLm(rows: readonly TranscriptRow[]): Promise<ReplayLm> {
  const byKey = new Map<string, TranscriptRow>();
  for (const row of rows) {
    const key = requestKey(row.request);
    if (!byKey.has(key)) byKey.set(key, row);
  }
  const log: ReplayEntry[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const path = new URL(request.url).pathname;
      if (request.method === "GET" && path.endsWith("/models")) {
        return Response.json({ object: "list", data: [{ id: "fake", object: "model" }] });
      }
      if (request.method !== "POST" || !path.endsWith("/chat/completions")) return Response.json({ detail: "Not Found" }, { status: 404 });
      const body = (await request.json()) as Record<string, unknown>;
      const extraKeys = Object.keys(body).filter((key) => !ALLOWED.has(key));
      const recorded = byKey.get(requestKey(body)) ?? null;
      log.push({ body, matched: recorded !== null, recorded, extraKeys, diff: recorded ? null : describeDiff(body, rows) });
      if (recorded) return Response.json({ ...recorded.response, model: body.model });
      return Response.json({
        id: "chatcmpl-replay-mismatch",
        object: "chat.completion",
        created: 0,
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content: "[[ ## replay_mismatch ## ]]\nno recorded request matches" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      });
    },
  });
  return {
    baseUrl: `http://127.0.0.1:${server.port}/v1`,
    log,
    stop: async () => {
      await server.stop(true);
    },
  };
}
