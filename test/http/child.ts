/**
 * Checks that need a process of their own, run by test/http/mechanism.test.ts:
 *
 *   bun test/http/child.ts idle        # with BUN_CONFIG_HTTP_IDLE_TIMEOUT=1 (Bun's socket idle cut at ~5–9 s)
 *   bun test/http/child.ts gzip-bomb   # peak memory of an LM call answered by a 1 GiB gzip bomb
 *
 * Prints one JSON document on stdout.
 */
import * as v from "valibot";
import { TrainSchema } from "../../src/config/schemas.ts";
import { ServiceError } from "../../src/errors.ts";
import { ArborClient } from "../../src/grpo/arbor.ts";
import { buildInitializeRequest } from "../../src/grpo/trainer-config.ts";
import { fetchOrThrow } from "../../src/http/fetch.ts";
import { createChatClient } from "../../src/lm/client.ts";
import { startFakeArbor } from "../fakes/arbor.ts";
import { gzipBombBytes, startFakeOpenAI } from "../fakes/openai.ts";
import { startBrokenServer } from "../fakes/broken.ts";

/** Later than Bun's idle cut with BUN_CONFIG_HTTP_IDLE_TIMEOUT=1 (1 s + a 4 s timer wheel: 5–9 s). */
const LATE_MS = 12_000;

function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "answered",
    (error: unknown) => (error instanceof ServiceError ? `${error.kind}: ${error.message}` : `${String((error as Error)?.name)}: ${String(error)}`),
  );
}

const lmOptions = {
  apiKey: "k",
  model: "Qwen/Qwen2.5-7B-Instruct",
  temperature: 0.7,
  maxTokens: 256,
  topP: 1,
  maxRetries: 0,
  requestTimeoutSeconds: 60,
  concurrency: 1,
};
const ask = { messages: [{ role: "user" as const, content: "Say hi." }] };

async function idle(): Promise<Record<string, unknown>> {
  const late = await startBrokenServer({ kind: "late", delayMs: LATE_MS, body: "{}" });
  const lm = await startFakeOpenAI({ faults: [{ kind: "latency", ms: LATE_MS }], responder: () => "hi" });
  const arbor = startFakeArbor({ initializeDelayMs: LATE_MS });
  const settings = v.parse(TrainSchema, { runName: "idle", numRolloutsPerStep: "4", batchSize: "4", gradientAccumulation: "1", numTrainingGpus: "1" });
  const arborClient = new ArborClient({ baseUrl: arbor.baseUrl, initializeTimeoutSeconds: 60, maxRetries: 2, onWaiting: () => {} });
  const [plainFetch, ourFetch, lmCall, arborInitialize] = await Promise.all([
    outcome(fetch(late.url).then((response) => response.text())),
    outcome(
      fetchOrThrow(late.url, { service: "late service", timeoutMs: 60_000, timeoutFlag: "--t", fix: "", maxBodyBytes: 1024 }).then((response) =>
        response.text(),
      ),
    ),
    outcome(createChatClient({ ...lmOptions, baseUrls: [lm.baseUrl] }).complete(ask)),
    outcome(arborClient.initialize(buildInitializeRequest(settings))),
  ]);
  const result = {
    idleTimeoutSetting: process.env.BUN_CONFIG_HTTP_IDLE_TIMEOUT,
    plainFetch,
    ourFetch,
    lmCall,
    arborInitialize,
    arborInitializeRequests: arbor.requestsTo("initialize").length,
  };
  await Promise.all([late.stop(), lm.stop(), arbor.stop()]);
  return result;
}

async function gzipBomb(): Promise<Record<string, unknown>> {
  const lm = await startFakeOpenAI({ faults: [{ kind: "gzip-bomb" }] });
  const bombBytes = gzipBombBytes().byteLength; // built before measuring
  const before = process.resourceUsage().maxRSS;
  const error = await outcome(createChatClient({ ...lmOptions, baseUrls: [lm.baseUrl] }).complete(ask));
  const result = { error, bombBytes, maxRssBeforeKiB: before, maxRssAfterKiB: process.resourceUsage().maxRSS };
  await lm.stop();
  return result;
}

const mode = process.argv[2];
const result = mode === "idle" ? await idle() : mode === "gzip-bomb" ? await gzipBomb() : { error: `unknown mode ${mode}` };
process.stdout.write(JSON.stringify(result) + "\n");
