/**
 * The failure model (src/http/fetch.ts, src/errors.ts): every way a call can fail becomes one
 * ServiceError kind, with the server's words as a bounded field, against loopback servers that
 * break where real ones break.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { EXCERPT_CHARACTERS, ExitCode, ServiceError, stopsRun, type ExitCodeValue, type FailureKind } from "../../src/errors.ts";
import { fetchOrThrow, type CallSettings } from "../../src/http/fetch.ts";
import { refusedPort, startBrokenServer, type BrokenBehaviour, type BrokenServer } from "../fakes/broken.ts";
import { serviceError as failure } from "../helpers/errors.ts";

const call: CallSettings = {
  service: "test service",
  timeoutMs: 5000,
  timeoutFlag: "--test-timeout",
  fix: "start the test service",
  maxBodyBytes: 64 * 1024,
};

let server: BrokenServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function failureOf(behaviour: BrokenBehaviour, settings: Partial<CallSettings> = {}): Promise<ServiceError> {
  server = await startBrokenServer(behaviour);
  const url = server.url;
  return failure(fetchOrThrow(url, { method: "POST", body: "{}", ...call, ...settings }).then((response) => response.json()));
}

describe("a connection that fails", () => {
  test("refused: kind unreachable (nothing was sent), exit 4, naming the URL and the fix", async () => {
    const url = `http://127.0.0.1:${await refusedPort()}/x`;
    const error = await failure(fetchOrThrow(url, call));
    expect(error.kind).toBe("unreachable");
    expect(error.retryable).toBe(true);
    expect(error.exitCode).toBe(ExitCode.service);
    expect(error.message).toBe(`cannot reach test service at ${url}`);
    expect(error.fix).toBe("start the test service");
  });

  test("reset after the request was sent: kind reset, 'before answering'", async () => {
    const error = await failureOf({ kind: "reset-before-headers" });
    expect(error.kind).toBe("reset");
    expect(error.message).toContain("broke off the connection before answering");
    expect(server?.requests).toBe(1);
  });

  test("reset in the middle of the body: kind reset, 'in the middle of its answer', not 'not JSON'", async () => {
    const error = await failureOf({ kind: "reset-mid-body" });
    expect(error.kind).toBe("reset");
    expect(error.message).toContain("broke off the connection in the middle of its answer");
    expect(error.message).not.toContain("JSON");
  });

  test("no answer within the deadline: kind timeout, naming the seconds and the flag", async () => {
    const error = await failureOf({ kind: "silent" }, { timeoutMs: 300 });
    expect(error.kind).toBe("timeout");
    expect(error.message).toBe(`test service did not answer within 0.3 s (--test-timeout): ${server?.url}`);
    expect(error.fix).toContain("raise --test-timeout");
  });

  test("an idle limit cuts a silent server, naming the limit as an idle limit", async () => {
    const error = await failureOf({ kind: "silent" }, { timeoutMs: undefined, idleTimeoutMs: 300, timeoutFlag: "HF_HUB_DOWNLOAD_TIMEOUT" });
    expect(error.kind).toBe("timeout");
    expect(error.message).toContain("sent nothing for 0.3 s (HF_HUB_DOWNLOAD_TIMEOUT, an idle limit)");
  });

  test("an idle limit lets a slow but steady answer finish although it takes longer than the limit", async () => {
    // 12 bytes 50 ms apart take at least 600 ms, twice the 300 ms idle limit, and all arrive.
    server = await startBrokenServer({ kind: "trickle", everyMs: 50, bytes: 12 });
    const response = await fetchOrThrow(server.url, { ...call, timeoutMs: undefined, idleTimeoutMs: 300 });
    expect(await response.text()).toBe("x".repeat(12));
  });
});

describe("an HTTP error answer", () => {
  const table: Array<[number, FailureKind, ExitCodeValue, boolean]> = [
    [400, "rejected", ExitCode.rejected, false],
    [401, "auth", ExitCode.rejected, false],
    [403, "auth", ExitCode.rejected, false],
    [404, "not_found", ExitCode.rejected, false],
    [408, "server", ExitCode.service, true],
    [409, "server", ExitCode.service, true],
    [422, "rejected", ExitCode.rejected, false],
    [429, "rate_limited", ExitCode.service, true],
    [500, "server", ExitCode.service, true],
    [503, "server", ExitCode.service, true],
  ];
  test.each(table)("HTTP %d is kind %s, exit %d, retryable %s", async (status, kind, exitCode, retryable) => {
    const error = await failureOf({ kind: "answer", status, body: '{"detail":"nope"}', headers: { "content-type": "application/json" } });
    expect(error.kind).toBe(kind);
    expect(error.status).toBe(status);
    expect(error.exitCode).toBe(exitCode);
    expect(error.retryable).toBe(retryable);
  });

  test("the body is a field: its excerpt and, for JSON, the parsed value", async () => {
    const error = await failureOf({ kind: "answer", status: 400, body: '{"type":"ValueError","message":"bad batch"}' });
    expect(error.body).toBe('{"type":"ValueError","message":"bad batch"}');
    expect(error.json).toEqual({ type: "ValueError", message: "bad batch" });
    expect(error.message).toContain("answered HTTP 400");
  });

  test("a 5 MB error body: message, body field and describe() stay under a few hundred characters", async () => {
    const huge = "E".repeat(5 * 1024 * 1024);
    const error = await failureOf({ kind: "answer", status: 500, body: huge });
    expect(error.body?.length ?? 0).toBeLessThan(EXCERPT_CHARACTERS + 40);
    expect(error.message.length).toBeLessThan(EXCERPT_CHARACTERS + 200);
    expect(error.describe().length).toBeLessThan(EXCERPT_CHARACTERS + 400);
    expect(error.body).toContain("more characters)");
    expect(error.json).toBeUndefined();
  });

  test("Retry-After is read into retryAfterMs", async () => {
    const error = await failureOf({ kind: "answer", status: 429, body: "", headers: { "retry-after": "2" } });
    expect(error.retryAfterMs).toBe(2000);
  });
});

describe("a 2xx answer that cannot be used", () => {
  test("a body over the cap: kind too_large, exit 4, not retried", async () => {
    const error = await failureOf({ kind: "answer", status: 200, body: "[" + "1,".repeat(100_000) + "1]" }, { maxBodyBytes: 1024 });
    expect(error.kind).toBe("too_large");
    expect(error.retryable).toBe(false);
    expect(error.exitCode).toBe(ExitCode.service);
    expect(error.message).toContain("sent an answer larger than 1.0 kB");
  });

  test("a body that is not JSON: kind malformed with an excerpt of what came", async () => {
    const error = await failureOf({ kind: "answer", status: 200, body: "<html>proxy error</html>" });
    expect(error.kind).toBe("malformed");
    expect(error.body).toBe("<html>proxy error</html>");
    expect(error.retryable).toBe(false);
  });

  test("malformed is retryable when the call says so", async () => {
    const error = await failureOf({ kind: "answer", status: 200, body: "{cut" }, { retryMalformed: true });
    expect(error.retryable).toBe(true);
  });
});

describe("which failures stop a run (stopsRun, the one rule)", () => {
  const service = { service: "language model", url: "http://x/v1" };
  const table: Array<[string, unknown, boolean]> = [
    ["a wrong API key (auth) stops the run", new ServiceError("401", { ...service, status: 401 }), true],
    ["a model not served (not_found) stops the run", new ServiceError("404", { ...service, status: 404 }), true],
    ["a refused request (rejected: a prompt over the context) is that example's failure", new ServiceError("400", { ...service, status: 400 }), false],
    ["a server failure is that example's failure", new ServiceError("500", { ...service, status: 500 }), false],
    ["a timeout is that example's failure", new ServiceError("t", { ...service, kind: "timeout" }), false],
    ["an answer too large is that example's failure", new ServiceError("big", { ...service, kind: "too_large" }), false],
    ["a bug (not a service error) stops the run", new TypeError("x is undefined"), true],
  ];
  test.each(table)("%s", (_, error, stops) => {
    expect(stopsRun(error)).toBe(stops);
  });
});
