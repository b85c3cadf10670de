/**
 * A minimal Chrome DevTools Protocol driver for checking the HTML report and musique view in a
 * real headless Chromium (Debian's `chromium` package). No browser download, no library: spawn
 * chromium with --remote-debugging-port=0, read the DevTools URL from stderr, talk CDP over Bun's
 * WebSocket. Every request the page makes is recorded (URL), so tests can check where it went.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

export function findChromium(): string | undefined {
  return CANDIDATES.find((path) => existsSync(path));
}

interface CdpMessage {
  id?: number;
  method?: string;
  sessionId?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

export interface BrowserPage {
  /** Console errors, uncaught exceptions and error log entries seen so far. */
  errors: string[];
  /** The URL of every request the page made (documents, scripts, styles, fetch, EventSource…). */
  requests: string[];
  evaluate<T>(expression: string): Promise<T>;
  /** Evaluate `expression` until it is truthy (every 100 ms, up to `timeoutMs`), then return its value. */
  waitFor<T>(expression: string, timeoutMs?: number): Promise<T>;
  /** Navigate to `url` (http://… or an absolute file path) and wait for the load event. */
  goto(url: string): Promise<void>;
  /** A PNG of the whole page, or of `clip` (CSS pixels). */
  screenshot(path: string, clip?: { x: number; y: number; width: number; height: number }): Promise<void>;
  close(): Promise<void>;
}

async function devtoolsUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let seen = "";
  const reader = stderr.getReader();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += decoder.decode(value, { stream: true });
    const match = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
    if (match?.[1]) {
      reader.releaseLock();
      return match[1];
    }
  }
  throw new Error(`chromium did not print a DevTools URL; stderr:\n${seen}`);
}

/** Open `target` (an http:// URL or an absolute file path) in headless Chromium and wait for its load event. */
export async function openPage(chromium: string, target: string, viewport = { width: 1280, height: 900 }): Promise<BrowserPage> {
  const profile = mkdtempSync(join(tmpdir(), "musique-chromium-"));
  const child = Bun.spawn(
    [
      chromium,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--no-default-browser-check",
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  const url = await devtoolsUrl(child.stderr);
  const socket = new WebSocket(url);
  await new Promise<void>((resolvePromise, reject) => {
    socket.addEventListener("open", () => resolvePromise(), { once: true });
    socket.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (value: Record<string, unknown>) => void; reject: (error: Error) => void }>();
  const listeners: Array<(message: CdpMessage) => void> = [];
  const errors: string[] = [];
  const requests: string[] = [];
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as CdpMessage;
    if (message.id !== undefined) {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(message.error.message));
      else waiter?.resolve(message.result ?? {});
      return;
    }
    for (const listener of listeners) listener(message);
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Record<string, unknown>>((resolvePromise, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolvePromise, reject });
      socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });

  const { targetId } = (await send("Target.createTarget", { url: "about:blank" })) as { targetId: string };
  const { sessionId } = (await send("Target.attachToTarget", { targetId, flatten: true })) as { sessionId: string };
  listeners.push((message) => {
    if (message.sessionId !== sessionId) return;
    const params = message.params ?? {};
    if (message.method === "Runtime.consoleAPICalled" && (params.type === "error" || params.type === "assert")) {
      errors.push(`console.${String(params.type)}: ${JSON.stringify(params.args)}`);
    } else if (message.method === "Runtime.exceptionThrown") {
      errors.push(`exception: ${JSON.stringify(params.exceptionDetails)}`);
    } else if (message.method === "Network.requestWillBeSent") {
      const request = params.request as { url?: string } | undefined;
      requests.push(request?.url ?? "");
    } else if (message.method === "Log.entryAdded") {
      const entry = params.entry as { level?: string; text?: string } | undefined;
      if (entry?.level === "error") errors.push(`log: ${entry.text ?? ""}`);
    }
  });
  for (const domain of ["Runtime.enable", "Log.enable", "Page.enable", "Network.enable"]) await send(domain, {}, sessionId);
  await send("Emulation.setDeviceMetricsOverride", { width: viewport.width, height: viewport.height, deviceScaleFactor: 1, mobile: false }, sessionId);
  const goto = async (url: string): Promise<void> => {
    const loaded = new Promise<void>((resolvePromise) => {
      const listener = (message: CdpMessage) => {
        if (message.sessionId !== sessionId || message.method !== "Page.loadEventFired") return;
        listeners.splice(listeners.indexOf(listener), 1);
        resolvePromise();
      };
      listeners.push(listener);
    });
    await send("Page.navigate", { url: /^(https?|about|file):/.test(url) ? url : `file://${url}` }, sessionId);
    await loaded;
  };
  await goto(target);

  const page: BrowserPage = {
    errors,
    requests,
    goto,
    async waitFor<T>(expression: string, timeoutMs = 30_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await page.evaluate<T>(expression);
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${expression}`);
        await Bun.sleep(100);
      }
    },
    async evaluate<T>(expression: string): Promise<T> {
      const response = (await send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true }, sessionId)) as {
        result: { value?: unknown };
        exceptionDetails?: { text: string; exception?: { description?: string } };
      };
      if (response.exceptionDetails) {
        throw new Error(`evaluate failed: ${response.exceptionDetails.exception?.description ?? response.exceptionDetails.text}`);
      }
      return response.result.value as T;
    },
    async screenshot(path: string, clip?: { x: number; y: number; width: number; height: number }): Promise<void> {
      const metrics = (await send("Page.getLayoutMetrics", {}, sessionId)) as { cssContentSize: { width: number; height: number } };
      const height = Math.min(Math.ceil(metrics.cssContentSize.height), 8000);
      await send("Emulation.setDeviceMetricsOverride", { width: viewport.width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
      const options = clip ? { format: "png", clip: { ...clip, scale: 1 } } : { format: "png" };
      const { data } = (await send("Page.captureScreenshot", options, sessionId)) as { data: string };
      writeFileSync(path, Buffer.from(data, "base64"));
      await send("Emulation.setDeviceMetricsOverride", { width: viewport.width, height: viewport.height, deviceScaleFactor: 1, mobile: false }, sessionId);
    },
    async close(): Promise<void> {
      try {
        await Promise.race([send("Browser.close"), Bun.sleep(2000)]);
      } catch {
        // the browser may close the socket before answering
      }
      socket.close();
      child.kill();
      await child.exited;
      rmSync(profile, { recursive: true, force: true });
    },
  };
  return page;
}
