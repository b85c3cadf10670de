import { describe, expect, test } from "bun:test";
import { formatBytes, formatDuration } from "../../src/text/duration.ts";
import { Progress, type ProgressOptions } from "../../src/text/progress.ts";

function capture(options: Partial<ProgressOptions> & { redraws?: boolean } = {}) {
  const lines: Array<{ line: string; final: boolean }> = [];
  let now = 0;
  const progress = new Progress({
    label: "evaluate",
    total: 4,
    intervalMs: 1000,
    ...options,
    now: () => now,
    output: { redraws: options.redraws ?? false, show: (line, final) => lines.push({ line, final }) },
  });
  return { lines, progress, advance: (ms: number) => (now += ms) };
}

describe("one duration format", () => {
  test("ms, s, m s, h m, d h", () => {
    expect([0.25, 4.21, 45, 65, 3725, 97_200].map(formatDuration)).toEqual(["250ms", "4.2s", "45s", "1m05s", "1h02m", "1d03h"]);
  });

  test("no duration is '-', an unknown one '?'", () => {
    expect([formatDuration(null), formatDuration(Number.NaN), formatDuration(-1), formatDuration(Infinity)]).toEqual(["-", "?", "?", "?"]);
  });

  test("bytes", () => {
    expect([formatBytes(10), formatBytes(2048), formatBytes(30 * 1024 * 1024)]).toEqual(["10 B", "2.0 kB", "30.0 MB"]);
  });
});

describe("one progress reporter", () => {
  test("items: done/total, percent, the caller's numbers, time per item and ETA; at most one line per interval, the last always", () => {
    const { lines, progress, advance } = capture({ item: "example" });
    progress.add(0); // nothing before one interval has passed
    advance(2000);
    progress.add(1, "EM 1.000");
    progress.add(1, "EM 0.500"); // within the interval: not shown
    advance(2000);
    progress.add(1, "EM 0.667");
    progress.add(1, "EM 0.750"); // complete: shown, final
    progress.finish(); // already shown: nothing more
    expect(lines).toEqual([
      { line: "evaluate: 1/4 (25%) | EM 1.000 | 2.0s/example | ETA 6.0s", final: false },
      { line: "evaluate: 3/4 (75%) | EM 0.667 | 1.3s/example | ETA 1.3s", final: false },
      { line: "evaluate: 4/4 (100%) | EM 0.750 | 1.0/s | in 4.0s", final: true },
    ]);
  });

  test("a resumed run counts earlier work as done but not in the rate", () => {
    const { lines, progress, advance } = capture({ alreadyDone: 2 });
    advance(1000);
    progress.add();
    expect(lines[0]?.line).toBe("evaluate: 3/4 (75%) | 1.0/s | ETA 1.0s");
  });

  test("on a terminal the line carries a bar", () => {
    const { lines, progress } = capture({ redraws: true, intervalMs: 0 });
    progress.add(2);
    expect(lines[0]?.line).toStartWith("evaluate: 2/4 (50%) ██████████░░░░░░░░░░");
  });

  test("stopped early, finish shows where it got to as the final line", () => {
    const { lines, progress, advance } = capture();
    progress.add();
    advance(10);
    progress.add();
    progress.finish();
    expect(lines.map((entry) => entry.final)).toEqual([true]);
    expect(lines.at(-1)?.line).toStartWith("evaluate: 2/4 (50%)");
  });

  test("bytes: sizes, bytes per second; small downloads stay quiet", () => {
    const big = capture({ label: "downloading x", unit: "bytes", total: 4 * 1024 * 1024, quietBelow: 1024 });
    big.advance(1000);
    big.progress.add(2 * 1024 * 1024);
    big.advance(1000);
    big.progress.add(2 * 1024 * 1024);
    expect(big.lines.map((entry) => entry.line)).toEqual([
      "downloading x: 2.0 MB / 4.0 MB (50%) | 2.0 MB/s | ETA 1.0s",
      "downloading x: 4.0 MB / 4.0 MB (100%) | 2.0 MB/s | in 2.0s",
    ]);
    const small = capture({ label: "downloading y", unit: "bytes", total: 1000, quietBelow: 1024 * 1024 });
    small.advance(5000);
    small.progress.add(1000);
    small.progress.finish();
    expect(small.lines).toEqual([]);
  });

  test("an unknown total shows the amount only, once it is past the quiet threshold", () => {
    const { lines, progress, advance } = capture({ label: "downloading z", unit: "bytes", total: undefined, quietBelow: 1024, intervalMs: 0 });
    progress.add(512);
    advance(1000);
    progress.add(1024);
    expect(lines.map((entry) => entry.line)).toEqual(["downloading z: 1.5 kB | 1.5 kB/s"]);
  });
});
