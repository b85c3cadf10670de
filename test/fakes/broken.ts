/**
 * A loopback HTTP server that misbehaves the ways real servers and proxies do, for the failure
 * model tests (test/http/). It speaks raw HTTP/1.1 over node:net so it can break a connection
 * exactly where a real one breaks:
 *
 *   const server = await startBrokenServer({ kind: "reset-mid-body" });
 *   server.url          // "http://127.0.0.1:PORT/"
 *   server.requests     // requests received (a refused connection never counts)
 *   await server.stop()
 *
 * Behaviours: reset-before-headers (the request arrives, the socket is reset), reset-mid-body
 * (200 with Content-Length, half the body, then a reset), silent (reads the request, never
 * answers), late (answers 200 `body` after `delayMs`), trickle (200, then one byte every
 * `everyMs` for `bytes` bytes), answer (any status, headers and body, Content-Length set).
 */
import { createServer, type Socket } from "node:net";

export type BrokenBehaviour =
  | { kind: "reset-before-headers" }
  | { kind: "reset-mid-body"; body?: string }
  | { kind: "silent" }
  | { kind: "late"; delayMs: number; body: string }
  | { kind: "trickle"; everyMs: number; bytes: number }
  | { kind: "answer"; status: number; body: string | Uint8Array; headers?: Record<string, string> };

export interface BrokenServer {
  url: string;
  port: number;
  requests: number;
  stop(): Promise<void>;
}

function head(status: number, headers: Record<string, string>): string {
  const lines = [`HTTP/1.1 ${status} X`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`), "connection: close"];
  return lines.join("\r\n") + "\r\n\r\n";
}

function behave(socket: Socket, behaviour: BrokenBehaviour, timers: Set<ReturnType<typeof setTimeout>>): void {
  const later = (ms: number, action: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timers.add(timer);
  };
  switch (behaviour.kind) {
    case "reset-before-headers":
      socket.resetAndDestroy();
      return;
    case "reset-mid-body": {
      const body = behaviour.body ?? JSON.stringify({ choices: [{ message: { content: "x".repeat(2000) } }] });
      socket.write(head(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }));
      socket.write(body.slice(0, Math.floor(body.length / 2)));
      later(20, () => socket.resetAndDestroy());
      return;
    }
    case "silent":
      return;
    case "late":
      later(behaviour.delayMs, () => {
        socket.end(head(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(behaviour.body)) }) + behaviour.body);
      });
      return;
    case "trickle": {
      socket.write(head(200, { "content-type": "application/octet-stream", "content-length": String(behaviour.bytes) }));
      let sent = 0;
      const next = () => {
        if (socket.destroyed) return;
        socket.write("x");
        sent += 1;
        if (sent < behaviour.bytes) later(behaviour.everyMs, next);
        else socket.end();
      };
      later(behaviour.everyMs, next);
      return;
    }
    case "answer": {
      const body = typeof behaviour.body === "string" ? Buffer.from(behaviour.body) : behaviour.body;
      socket.write(head(behaviour.status, { "content-length": String(body.byteLength), ...behaviour.headers }));
      socket.end(body);
      return;
    }
  }
}

export async function startBrokenServer(behaviour: BrokenBehaviour): Promise<BrokenServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const state = { requests: 0 };
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let received = "";
    socket.on("data", (chunk) => {
      if (received.includes("\r\n\r\n")) return;
      received += chunk.toString("latin1");
      if (!received.includes("\r\n\r\n")) return;
      state.requests += 1;
      behave(socket, behaviour, timers);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    get requests() {
      return state.requests;
    },
    stop: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 where nothing listens (connections are refused). */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
