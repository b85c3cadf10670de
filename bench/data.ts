/**
 * Suite "data": loadExamples on local files of 2,417 (the size of MuSiQue-Ans dev) and 20,000
 * (about train) records, as JSONL and as Parquet in the Hub's layout (test/fakes/hub.ts writes
 * it with hyparquet-writer). The records are the 150 sample records copied with new ids. Each
 * measurement runs in a fresh child process (bench/data-child.ts): load time and peak RSS.
 */
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { musiqueParquet } from "../test/fakes/hub.ts";
import { atMost, figuresFor, progress, repeat, summarize, type Figure } from "./measure.ts";
import { replicatedRecords, temporaryDirectory } from "./records.ts";

const RUNS = 3;
const SIZES = [
  { records: 2_417, goalSeconds: 1 },
  { records: 20_000, goalSeconds: 8 },
] as const;
const FORMATS = ["jsonl", "parquet"] as const;
/** 1 GB = 10⁹ bytes (the stricter reading of "1 GB"). */
const MEMORY_GOAL_BYTES = 1e9;

interface ChildResult {
  ms: number;
  examples: number;
  maxRssBytes: number;
  /** "VmHWM" (Linux, this process only) or "maxRSS" (getrusage; may include the parent's RSS at spawn). */
  source: string;
}

async function measureChild(path: string, expected: number): Promise<ChildResult & { wallMs: number }> {
  const started = performance.now();
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "data-child.ts"), path, String(expected)], {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    env: { ...process.env, HF_HUB_OFFLINE: "1", NO_COLOR: "1" },
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  const wallMs = performance.now() - started;
  if (exitCode !== 0) throw new Error(`data-child ${path} exited ${exitCode}: ${stderr.trim()}`);
  return { ...(JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as ChildResult), wallMs };
}

function megabytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

export async function runDataSuite(): Promise<Figure[]> {
  const figure = figuresFor("data");
  const directory = temporaryDirectory("data");
  const figures: Figure[] = [];
  try {
    for (const size of SIZES) {
      progress(`data: writing ${size.records.toLocaleString("en-US")} records as JSONL and Parquet`);
      const records = await replicatedRecords(size.records);
      const files = {
        jsonl: join(directory, `dev${size.records}.jsonl`),
        parquet: join(directory, `dev${size.records}.parquet`),
      };
      await Bun.write(files.jsonl, `${records.map((record) => JSON.stringify(record)).join("\n")}\n`);
      await Bun.write(files.parquet, musiqueParquet(records));
      for (const format of FORMATS) {
        const path = files[format];
        progress(`data: loadExamples ${size.records.toLocaleString("en-US")} records, ${format} × ${RUNS} (fresh process each)`);
        const results: Array<ChildResult & { wallMs: number }> = [];
        const seconds = await repeat(RUNS, async () => {
          const result = await measureChild(path, size.records);
          results.push(result);
          return result.ms / 1000;
        });
        const count = size.records.toLocaleString("en-US");
        figures.push(
          figure({
            name: `load ${count} records, ${format}: time`,
            unit: "s",
            value: seconds,
            decimals: 2,
            goal: atMost(size.goalSeconds, `< ${size.goalSeconds} s`),
            note:
              `file ${megabytes(statSync(path).size)}; loadExamples (read, parse, validate, prepare) timed inside the child; ` +
              `child process wall incl. Bun start ${(summarize(results.map((result) => result.wallMs)).median / 1000).toFixed(2)} s`,
          }),
          figure({
            name: `load ${count} records, ${format}: peak RSS`,
            unit: "MiB",
            value: summarize(results.map((result) => result.maxRssBytes / 2 ** 20)),
            goal: atMost(MEMORY_GOAL_BYTES / 2 ** 20, "< 1 GB"),
            note: `peak RSS of the child process (${results[0]?.source === "VmHWM" ? "VmHWM of /proc/self/status" : "getrusage maxRSS, may include the parent's RSS"})`,
          }),
        );
      }
      rmSync(files.jsonl, { force: true });
      rmSync(files.parquet, { force: true });
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  return figures;
}
