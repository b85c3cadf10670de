/**
 * The batching fake LM (test/fakes/batching-lm.ts) in its own process, for the throughput suite
 * (a real inference server is another process too, so its work does not share the event loop
 * being measured):
 *
 *   bun bench/batching-lm-child.ts '{"maxBatch":64,"stepMs":3,"seed":1}'   → prints {"baseUrl": …}
 *
 * Runs until killed. GET {baseUrl}/../fake/stats reads its records.
 */
import { startBatchingLm, type BatchingLmOptions } from "../test/fakes/batching-lm.ts";

const options = JSON.parse(process.argv[2] ?? "{}") as BatchingLmOptions;
if (options.batchForDoubleStep === null) options.batchForDoubleStep = Number.POSITIVE_INFINITY;
const server = await startBatchingLm(options);
console.log(JSON.stringify({ baseUrl: server.baseUrl }));
