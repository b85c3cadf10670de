/**
 * Where the evaluate process spends its CPU (issue 19 item 4), by taking parts away: CPU of this
 * process (all threads) per example at C = 64 for
 *   full      the pipeline suite's loop (bench/pipeline.ts runLoop: LM client over HTTP to the
 *             fake LM in its own process → runMultiHop → scoreExample → the writer thread);
 *   no store  the same without the writer (nothing recorded);
 *   no HTTP   runMultiHop + scoreExample with an in-process client replaying the fake's answers
 *             (recorded in a first pass), no writer: the program, retrieval and metrics alone.
 * And under Bun's CPU profiler for the function-level view:
 *
 *   bun bench/profile-evaluate.ts [EXAMPLES]
 *   bun --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile-evaluate.ts [EXAMPLES] full
 *   bun bench/profile-summary.ts /tmp/prof/*.cpuprofile     → self time by function and by file
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DEFAULTS } from "../src/config/defaults.ts";
import type { Example } from "../src/data/types.ts";
import { Limiter } from "../src/http/limit.ts";
import { createChatClient } from "../src/lm/client.ts";
import type { ChatClient, ChatRequest, ChatResult } from "../src/lm/types.ts";
import { setLogLevel } from "../src/log.ts";
import { scoreExample } from "../src/metrics/index.ts";
import { runMultiHop } from "../src/program/multihop.ts";
import { LexicalRetriever } from "../src/retrieval/lexical.ts";
import { benchProgramOptions, runLoop, startFakeLm } from "./pipeline.ts";
import { replicatedExamples, temporaryDirectory } from "./records.ts";

setLogLevel("warn");
const count = Number(process.argv[2] ?? "2000");
const only = process.argv[3];

function keyOf(request: ChatRequest): string {
  return request.messages.map((message) => message.content).join("\u0000");
}

/** A ChatClient that answers from what the real client got for the same request. */
class ReplayClient implements ChatClient {
  readonly answers = new Map<string, ChatResult>();
  constructor(private readonly inner: ChatClient | null) {}
  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const key = keyOf(request);
    const known = this.answers.get(key);
    if (known) return known;
    if (this.inner === null) throw new Error("no recorded answer for a request");
    const result = await this.inner.complete(request, signal);
    this.answers.set(key, result);
    return result;
  }
}

async function programOnly(examples: readonly Example[], client: ChatClient): Promise<number> {
  const retriever = new LexicalRetriever();
  const limiter = new Limiter(64);
  const before = process.cpuUsage();
  await Promise.all(
    examples.map((example) =>
      limiter.run(async () => {
        const result = await runMultiHop(example, benchProgramOptions(client, retriever));
        scoreExample(example, result, DEFAULTS.reward);
      }),
    ),
  );
  const cpu = process.cpuUsage(before);
  return (cpu.user + cpu.system) / 1000 / examples.length;
}

const fake = await startFakeLm(0);
const directory = temporaryDirectory("profile");
try {
  const examples = await replicatedExamples(count);
  const client = createChatClient({
    baseUrls: [fake.baseUrl],
    apiKey: DEFAULTS.apiKey,
    model: DEFAULTS.model,
    temperature: DEFAULTS.evaluateTemperature,
    maxTokens: DEFAULTS.maxTokens,
    maxRetries: 0,
    requestTimeoutSeconds: 60,
    concurrency: 64,
  });
  const recorder = new ReplayClient(client);
  await programOnly(examples, recorder); // records the answers (and warms up)
  const replay = new ReplayClient(null);
  for (const [key, value] of recorder.answers) replay.answers.set(key, value);
  const rows: string[] = [];
  for (let round = 0; round < 3; round++) {
    if (only === undefined || only === "full") {
      const run = await runLoop(examples, 64, fake.baseUrl, join(directory, `full-${round}.db`));
      rows.push(`full      ${(run.cpuMs / count).toFixed(3)} ms`);
    }
    if (only === undefined || only === "nostore") rows.push(`no store  ${(await programOnly(examples, client)).toFixed(3)} ms`);
    if (only === undefined || only === "nohttp") rows.push(`no HTTP   ${(await programOnly(examples, replay)).toFixed(3)} ms`);
  }
  console.log(`CPU per example (all threads), ${count} examples, C = 64:\n${rows.join("\n")}`);
} finally {
  fake.stop();
  rmSync(directory, { recursive: true, force: true });
}
