/**
 * Live updates for musique view: watch the database's data_version (it changes whenever another
 * process — evaluate, train — commits) and tell every open page over server-sent events
 * (GET /api/events: `event: change`, data {"version": N}). Pages then re-fetch the JSON they
 * show. A comment line every 15 s keeps idle connections open.
 */
import type { Store } from "../store/database.ts";
import { dataVersion } from "../store/view.ts";

const HEARTBEAT_MS = 15_000;

export interface ChangeFeed {
  /** The SSE response for one page. */
  subscribe(request: Request): Response;
  /** The number of changes seen since the server started. */
  readonly version: number;
  stop(): void;
}

export function startChangeFeed(store: Store, pollMs: number): ChangeFeed {
  const encoder = new TextEncoder();
  const clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let version = 0;
  let seen = dataVersion(store);
  const send = (text: string) => {
    for (const client of clients) {
      try {
        client.enqueue(encoder.encode(text));
      } catch {
        clients.delete(client);
      }
    }
  };
  const poll = setInterval(() => {
    let current: number;
    try {
      current = dataVersion(store);
    } catch {
      return; // a busy or briefly unreadable database: try again at the next tick
    }
    if (current === seen) return;
    seen = current;
    version += 1;
    send(`event: change\ndata: ${JSON.stringify({ version })}\n\n`);
  }, pollMs);
  const heartbeat = setInterval(() => send(": ping\n\n"), HEARTBEAT_MS);
  return {
    get version() {
      return version;
    },
    subscribe(request: Request): Response {
      let own: ReadableStreamDefaultController<Uint8Array> | undefined;
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          own = controller;
          clients.add(controller);
          controller.enqueue(encoder.encode(`retry: 2000\nevent: hello\ndata: ${JSON.stringify({ version })}\n\n`));
        },
        cancel() {
          if (own) clients.delete(own);
        },
      });
      request.signal.addEventListener("abort", () => {
        if (own) clients.delete(own);
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" } });
    },
    stop() {
      clearInterval(poll);
      clearInterval(heartbeat);
      for (const client of clients) {
        try {
          client.close();
        } catch {
          // already closed by the page
        }
      }
      clients.clear();
    },
  };
}
