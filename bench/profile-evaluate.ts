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
import { setLogLevel } from "../src/log.ts";
import { benchClient, runLoop, startFakeLm } from "./pipeline.ts";
import { programCpuPerExample, ReplayClient } from "./program-cpu.ts";
import { replicatedExamples, temporaryDirectory } from "./records.ts";

setLogLevel("warn");
const count = Number(process.argv[2] ?? "2000");
const only = process.argv[3];
const rounds = Number(process.env.ROUNDS ?? "3");

const fake = await startFakeLm(0);
const directory = temporaryDirectory("profile");
try {
  const examples = await replicatedExamples(count);
  const client = benchClient(fake.baseUrl, 64);
  const replay = new ReplayClient(client);
  await programCpuPerExample(examples, replay); // records the answers (and warms up)
  replay.stopRecording();
  const rows: string[] = [];
  for (let round = 0; round < rounds; round++) {
    if (only === undefined || only === "full") {
      const run = await runLoop(examples, 64, fake.baseUrl, join(directory, `full-${round}.db`));
      rows.push(`full      ${(run.cpuMs / count).toFixed(3)} ms`);
    }
    if (only === undefined || only === "nostore") rows.push(`no store  ${(await programCpuPerExample(examples, client)).toFixed(3)} ms`);
    if (only === undefined || only === "nohttp") rows.push(`no HTTP   ${(await programCpuPerExample(examples, replay)).toFixed(3)} ms`);
  }
  console.log(`CPU per example (all threads), ${count} examples, C = 64:\n${rows.join("\n")}`);
} finally {
  fake.stop();
  rmSync(directory, { recursive: true, force: true });
}
