/**
 * The musique view web server: one Bun.serve with the pages (one HTML entry bundled by Bun at
 * build time, so every script and stylesheet ships inside the compiled binary; no CDN), the JSON
 * API (api.ts) and the live-update stream (events.ts). The database is opened read-only
 * (SQLite read-only connection + PRAGMA query_only): the server never writes it. On a loopback
 * address, requests naming another host are refused (a web page elsewhere cannot read the data
 * through DNS rebinding).
 */
import { UsageError } from "../errors.ts";
import { openReadOnly } from "../store/database.ts";
import { createApi } from "./api.ts";
import { startChangeFeed } from "./events.ts";
import page from "./page/index.html";

export interface ViewServerOptions {
  database: string;
  host: string;
  port: number;
  /** How often the database is checked for changes (default 500 ms). */
  pollMs?: number;
}

export interface ViewServer {
  url: string;
  stop(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

function hostnameOf(request: Request): string {
  const host = request.headers.get("host") ?? "";
  return host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : (host.split(":")[0] ?? "");
}

function portInUse(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EADDRINUSE" || (error instanceof Error && /EADDRINUSE|address already in use|in use/i.test(error.message));
}

export function startViewServer(options: ViewServerOptions): ViewServer {
  const store = openReadOnly(options.database, { notices: true });
  const api = createApi(store);
  const feed = startChangeFeed(store, options.pollMs ?? 500);
  const loopbackOnly = LOOPBACK.has(options.host);
  const guard = (handler: (request: Request) => Response | Promise<Response>) => (request: Request) => {
    if (loopbackOnly && !LOOPBACK.has(hostnameOf(request))) {
      return new Response("musique view answers only requests for 127.0.0.1 or localhost", { status: 403 });
    }
    return handler(request);
  };
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: options.host,
      port: options.port,
      // explicit: with development false, Bun would otherwise share a port already in use
      reusePort: false,
      development: false,
      routes: {
        "/": page,
        "/run/*": page,
        "/compare": page,
        "/api/events": guard((request) => {
          server.timeout(request, 0);
          return feed.subscribe(request);
        }),
        "/api/*": guard((request) => api.handle(request)),
      },
      fetch: () => new Response("not found", { status: 404 }),
    });
  } catch (error) {
    feed.stop();
    store.close();
    if (portInUse(error)) {
      throw new UsageError(`cannot listen on ${options.host}:${options.port}: the port is in use`, {
        cause: "another musique view (or another server) listens there",
        fix: "pass --port with another number (--port 0 picks a free one)",
        error,
      });
    }
    throw new UsageError(`cannot listen on ${options.host}:${options.port}`, {
      cause: error instanceof Error ? error.message : String(error),
      fix: "check --host (an address of this machine, e.g. 127.0.0.1) and --port",
      error,
    });
  }
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${server.port}/`;
  return {
    url,
    async stop() {
      feed.stop();
      await server.stop(true);
      store.close();
    },
  };
}
