/**
 * The fake LM of the pipeline suite, in its own process (a real LM server is another process too,
 * so its JSON work does not share the event loop being measured):
 *
 *   bun bench/fake-lm-child.ts LATENCY_MS     → prints {"baseUrl": "http://127.0.0.1:PORT/v1"}
 *
 * Every chat completion waits LATENCY_MS, then answers with test/fakes/openai.ts's DSPy responder
 * (valid ChatAdapter output for the program's signatures). Runs until killed.
 */
import { dspyResponder, startFakeOpenAI } from "../test/fakes/openai.ts";

const latencyMs = Number(process.argv[2] ?? "50");
if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`latency must be ≥ 0 ms, got ${process.argv[2]}`);
const answer = dspyResponder();
const fake = await startFakeOpenAI({
  responder: async (request) => {
    if (latencyMs > 0) await Bun.sleep(latencyMs);
    return answer(request);
  },
});
// The fake records every request; the benchmark never reads them, so keep memory flat.
setInterval(() => fake.requests.splice(0), 1000);
console.log(JSON.stringify({ baseUrl: fake.baseUrl }));
