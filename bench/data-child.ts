/**
 * One measurement of the data suite, in a fresh process so its peak RSS is its own:
 *
 *   bun bench/data-child.ts SPEC EXPECTED_EXAMPLES   → prints {"ms", "examples", "maxRssBytes", "source"}
 *
 * Times loadExamples(SPEC) (read, parse, validate, prepare) as evaluate calls it.
 */
import { readFileSync } from "node:fs";
import { loadExamples } from "../src/data/index.ts";

const spec = process.argv[2];
const expected = Number(process.argv[3]);
if (!spec || !Number.isInteger(expected)) throw new Error("usage: bun bench/data-child.ts SPEC EXPECTED_EXAMPLES");
const started = performance.now();
const { examples } = await loadExamples(spec, { seed: 89, noiseRate: 1, skipInvalid: false });
const ms = performance.now() - started;
if (examples.length !== expected) throw new Error(`${spec}: expected ${expected} examples, loaded ${examples.length}`);
console.log(JSON.stringify({ ms, examples: examples.length, ...peakRss() }));

/**
 * Peak RSS of this process. Linux: VmHWM of /proc/self/status (the high-water mark of this
 * process's own memory; getrusage's ru_maxrss would also count the parent's RSS at spawn, since
 * Linux keeps it across exec). Elsewhere: getrusage maxRSS (kilobytes), which may include it.
 */
function peakRss(): { maxRssBytes: number; source: string } {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    if (match) return { maxRssBytes: Number(match[1]) * 1024, source: "VmHWM" };
  } catch {
    // not Linux
  }
  return { maxRssBytes: Math.max(process.resourceUsage().maxRSS * 1024, process.memoryUsage().rss), source: "maxRSS" };
}
