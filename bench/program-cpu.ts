/**
 * CPU per example of the program alone: runMultiHop + scoreExample with an in-process client that
 * replays answers a real client got from the fake LM (recorded in a first pass), no store. What is
 * left when HTTP and SQLite are taken away: prompts, parsing, BM25, metrics.
 */
import { DEFAULTS } from "../src/config/defaults.ts";
import type { Example } from "../src/data/types.ts";
import { Limiter } from "../src/http/limit.ts";
import type { ChatClient, ChatRequest, ChatResult } from "../src/lm/types.ts";
import { scoreExample } from "../src/metrics/index.ts";
import { runMultiHop } from "../src/program/multihop.ts";
import { LexicalRetriever } from "../src/retrieval/lexical.ts";
import type { MultiHopOptions } from "../src/program/multihop.ts";
import type { Retriever } from "../src/retrieval/types.ts";

/** Hops of every evaluate bench. */
export const BENCH_HOPS = 2;

/** The program settings every evaluate bench runs with: `evaluate`'s defaults, 2 hops, BM25. */
export function benchProgramOptions(client: ChatClient, retriever: Retriever, signal?: AbortSignal): MultiHopOptions {
  return {
    client,
    retriever,
    topN: DEFAULTS.topN,
    numHops: BENCH_HOPS,
    maxHops: DEFAULTS.maxHops,
    temperature: DEFAULTS.evaluateTemperature,
    maxTokens: DEFAULTS.maxTokens,
    signal,
  };
}

function keyOf(request: ChatRequest): string {
  return request.messages.map((message) => message.content).join("\u0000");
}

/** A ChatClient that answers from what `inner` answered for the same request (recording first). */
export class ReplayClient implements ChatClient {
  private readonly answers = new Map<string, ChatResult>();
  private recording: boolean;
  constructor(private readonly inner: ChatClient) {
    this.recording = true;
  }
  /** From now on only replay: a request not seen while recording fails. */
  stopRecording(): void {
    this.recording = false;
  }
  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const key = keyOf(request);
    const known = this.answers.get(key);
    if (known) return known;
    if (!this.recording) throw new Error("no recorded answer for a request");
    const result = await this.inner.complete(request, signal);
    this.answers.set(key, result);
    return result;
  }
}

/** CPU ms of this process per example for the program run over `examples` with `client`, C = 64. */
export async function programCpuPerExample(examples: readonly Example[], client: ChatClient): Promise<number> {
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
