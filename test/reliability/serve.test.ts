/**
 * README "What happens when…", `musique serve rerank` (it has no authentication, so it must
 * survive what reaches it): hostile bodies (deeply nested, oversized, large and invalid), stalled
 * connections, SIGTERM with a stalled client or a request being answered, the default bind
 * address, and /health reporting TEI's health (also through the Docker health check command).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ExitCode } from "../../src/errors.ts";
import { RerankClient } from "../../src/retrieval/rerank/client.ts";
import { startRerankServer, type RerankServer, type RerankServerOptions } from "../../src/retrieval/rerank/server.ts";
import { closedUrl, startFakeTei, type FakeServer } from "../fakes/tei.ts";
import { ROOT, runCli } from "../helpers/cli.ts";
import { startMusique, waitFor } from "./helpers.ts";

const tei: FakeServer = startFakeTei();
const running: RerankServer[] = [];
afterAll(async () => {
  await Promise.all(running.map((server) => server.stop()));
  await tei.stop();
});

function serve(options: Partial<RerankServerOptions> = {}): RerankServer {
  const server = startRerankServer({ host: "127.0.0.1", port: 0, teiUrl: tei.url, timeoutSeconds: 5, maxRetries: 0, ...options });
  running.push(server);
  return server;
}

async function post(server: RerankServer, body: string | ReadableStream<Uint8Array>): Promise<{ status: number; text: string }> {
  const response = await fetch(server.url + "/rerank", { method: "POST", headers: { "content-type": "application/json" }, body });
  return { status: response.status, text: await response.text() };
}

/** A raw connection that sends `text` and then nothing: resolves with what came back once it closes. */
function rawRequest(port: number, text: string): { closed: Promise<string>; opened: Promise<void> } {
  let received = "";
  let opened: () => void = () => {};
  const isOpen = new Promise<void>((resolve) => (opened = resolve));
  const closed = new Promise<string>((resolve) => {
    void Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(socket) {
          socket.write(text);
          opened();
        },
        data(_socket, data) {
          received += data.toString();
        },
        close: () => resolve(received),
        error: () => resolve(received),
      },
    });
  });
  return { closed, opened: isOpen };
}

const STALLED_BODY = 'POST /rerank HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query": ';
const DOCUMENTS = ["# Paris\nParis is the capital of France.", "# Rome\nRome is the capital of Italy."];

describe("What happens when… (README): hostile requests to musique serve rerank", () => {
  const server = serve();

  test("a deeply nested JSON body → 422, not 500", async () => {
    for (const body of ["[".repeat(100_000) + "]".repeat(100_000), `{"query": "q", "documents": [${"[".repeat(100_000)}${"]".repeat(100_000)}]}`]) {
      const { status, text } = await post(server, body);
      expect(status).toBe(422);
      expect(text.length).toBeLessThan(1000);
      expect(text).toContain("too large or too deeply nested to echo");
    }
  });

  test("a 200 MB body → 413 naming the limit, whether its length is declared or streamed", async () => {
    const declared = rawRequest(server.port, "POST /rerank HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 200000000\r\n\r\n{");
    expect(await declared.closed).toMatch(/^HTTP\/1\.1 413[\s\S]*request body is larger than 16 MiB, the limit of musique serve rerank/);
    let sent = 0;
    const streamed = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 200) return controller.close();
        sent++;
        controller.enqueue(new Uint8Array(1_000_000).fill(0x20));
      },
    });
    const { status, text } = await post(server, streamed);
    expect(status).toBe(413);
    expect(JSON.parse(text)).toEqual({ detail: "request body is larger than 16 MiB, the limit of musique serve rerank" });
    expect(sent).toBeLessThan(200); // it stopped reading at the limit
  });

  test("a large invalid body (10 MB) → 422 without echoing it", async () => {
    const { status, text } = await post(server, JSON.stringify({ query: "q", documents: "x".repeat(10_000_000) }));
    expect(status).toBe(422);
    expect(text.length).toBeLessThan(1000);
    expect(JSON.parse(text)).toMatchObject({
      detail: [{ type: "list_type", loc: ["body", "documents"], input: expect.stringContaining("(10000000 characters, not echoed)") }],
    });
  });

  test("a client that stops sending mid-request is cut off (idle and body deadlines)", async () => {
    const strict = serve({ limits: { idleSeconds: 1, bodySeconds: 1 } });
    const stalled = rawRequest(strict.port, STALLED_BODY);
    const answer = await stalled.closed;
    expect(answer === "" || answer.startsWith("HTTP/1.1 408")).toBe(true);
  }, 30_000);
});

describe("What happens when… (README): stopping musique serve rerank", () => {
  test("stop lets a request being answered finish, and closes a stalled client at once", async () => {
    const server = serve({ limits: { drainSeconds: 20 } });
    tei.faults.push({ kind: "delay", ms: 300 });
    const before = tei.requests.length;
    const answered = post(server, JSON.stringify({ query: "Rome", documents: DOCUMENTS }));
    const stalled = rawRequest(server.port, STALLED_BODY);
    await waitFor(() => tei.requests.length > before && server.activity().receiving === 1, "one request at TEI and one stalled");
    const report = await server.stop();
    expect(await answered).toMatchObject({ status: 200 });
    expect(await stalled.closed).toBe("");
    expect(report).toEqual({ cut: 0, unfinished: 1 });
  });

  test("a request still being answered at the drain deadline is cut off", async () => {
    const server = serve({ limits: { drainSeconds: 0.2 } });
    tei.faults.push({ kind: "delay", ms: 10_000 });
    const before = tei.requests.length;
    const answered = post(server, JSON.stringify({ query: "Rome", documents: DOCUMENTS })).catch((error: unknown) => error);
    await waitFor(() => tei.requests.length > before, "the request to reach TEI");
    expect(await server.stop()).toEqual({ cut: 1, unfinished: 0 });
    expect(await answered).toBeInstanceOf(Error);
  });

  test("SIGTERM with a stalled client: the command stops at once (exit 0)", async () => {
    const port = Number(new URL(await closedUrl()).port);
    const child = startMusique(["serve", "rerank", "--port", String(port), "--tei-url", tei.url]);
    await waitFor(() => Bun.spawnSync(["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`]).exitCode === 0, "the service listening");
    const stalled = rawRequest(port, STALLED_BODY);
    await stalled.opened;
    child.process.kill("SIGTERM");
    const stopped = await child.done;
    expect(stopped.exitCode).toBe(ExitCode.ok);
    expect(stopped.stderr).toMatch(/rerank service stopped \(in \d+ ms\)/);
    const drain = Number(/stopped \(in (\d+) ms\)/.exec(stopped.stderr)?.[1]);
    console.log(`[serve] SIGTERM with a stalled client: stopped in ${drain} ms`);
    expect(await stalled.closed).toBe("");
  }, 30_000);
});

describe("What happens when… (README): where musique serve rerank listens, and /health", () => {
  test("without --host it listens on 127.0.0.1 only, and --help says it has no authentication", async () => {
    const port = Number(new URL(await closedUrl()).port);
    const child = startMusique(["serve", "rerank", "--port", String(port), "--tei-url", tei.url]);
    await waitFor(() => Bun.spawnSync(["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`]).exitCode === 0, "the service listening");
    child.process.kill("SIGTERM");
    expect((await child.done).stderr).toContain(`rerank service listening on http://127.0.0.1:${port}`);
    const help = await runCli(["serve", "--help"]);
    expect(help.stdout).toContain("NO authentication");
    expect(help.stdout).toContain("(default: 127.0.0.1)");
  }, 30_000);

  test("/health is 503 while TEI is down or unhealthy, 200 when TEI is healthy; ?model=bm25 does not ask TEI", async () => {
    const orphan = serve({ teiUrl: await closedUrl() });
    const down = await fetch(orphan.url + "/health");
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: "unhealthy", detail: expect.stringContaining("TEI at http://127.0.0.1:") });
    expect((await fetch(orphan.url + "/health?model=bm25")).status).toBe(200);
    const server = serve();
    tei.healthFaults.push({ kind: "status", status: 503 });
    expect((await fetch(server.url + "/health")).status).toBe(503);
    const healthy = await fetch(server.url + "/health");
    expect([healthy.status, await healthy.json()]).toEqual([200, { status: "healthy" }]);
  });

  test("a client using the service's bm25 model passes its preflight while TEI is down; one using TEI's model fails it", async () => {
    const orphan = serve({ teiUrl: await closedUrl() });
    const client = (model: string) => new RerankClient({ url: orphan.url, api: "service", model, timeoutSeconds: 5, maxRetries: 0, concurrency: 1 });
    await client("bm25").preflight();
    expect(
      await client("bge-reranker-v2-m3")
        .preflight()
        .then(
          () => "passed",
          (error: Error) => error.message,
        ),
    ).toContain("rerank service is not available");
  });

  test("the Docker health check of the rerank service fails while TEI is down", async () => {
    const compose = Bun.YAML.parse(await Bun.file(join(ROOT, "docker-compose.yml")).text()) as {
      services: Record<string, { healthcheck?: { test: string[] } }>;
    };
    const check = compose.services.rerank?.healthcheck?.test.at(-1) ?? "";
    const dockerfile = await Bun.file(join(ROOT, "Dockerfile")).text();
    const command = (server: RerankServer) => check.replace("/8931", `/${server.port}`);
    expect(dockerfile).toContain(check.replaceAll("\\", "\\\\"));
    // Bun.spawn, not spawnSync: the servers answer on this test's own event loop.
    const exitCode = (server: RerankServer) => Bun.spawn(["bash", "-c", command(server)]).exited;
    expect(await exitCode(serve({ teiUrl: await closedUrl() }))).not.toBe(0);
    expect(await exitCode(serve())).toBe(0);
  });
});
