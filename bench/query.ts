/**
 * Suite "query": peak memory of `musique query` (the compiled binary, built if missing) on a
 * result far larger than the figure it should stay under: 2,000,000 rows of ~108 characters, i.e.
 * 217 MB of CSV, 289 MB of JSON, 183 MB of table, written to a pipe that is read and dropped.
 * Rows are streamed (src/store/query.ts), so peak RSS should not grow with the result: the figure
 * is the child's own peak (`/usr/bin/time -f %M`, or VmHWM polled from /proc when it is missing).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../src/store/database.ts";
import { BINARY, ensureBinary } from "./binary.ts";
import { atMost, figuresFor, progress, repeat, single, type Figure } from "./measure.ts";

const ROOT = join(import.meta.dir, "..");
const ROWS = 2_000_000;
const RUNS = 3;
const SQL = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${ROWS}) SELECT x, printf('%0100d', x) AS padding FROM c`;
const MIB = 1024 * 1024;
const TIME = "/usr/bin/time";

/** Peak RSS of the child (bytes) and how many bytes it wrote to stdout. */
async function peakOf(args: string[]): Promise<{ peakBytes: number; outputBytes: number }> {
  const viaTime = existsSync(TIME);
  const command = viaTime ? [TIME, "-f", "%M", BINARY, ...args] : [BINARY, ...args];
  const child = Bun.spawn(command, { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  let polled = 0;
  const poll = viaTime
    ? undefined
    : setInterval(() => {
        const status = Bun.spawnSync(["cat", `/proc/${child.pid}/status`]).stdout.toString();
        const kilobytes = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
        polled = Math.max(polled, kilobytes * 1024);
      }, 20);
  let outputBytes = 0;
  const drained = (async () => {
    for await (const chunk of child.stdout) outputBytes += chunk.byteLength;
  })();
  const [stderr, exitCode] = await Promise.all([new Response(child.stderr).text(), child.exited, drained]);
  if (poll) clearInterval(poll);
  if (exitCode !== 0) throw new Error(`musique ${args.join(" ")} exited ${exitCode}: ${stderr}`);
  const kilobytes = viaTime ? Number(stderr.trim().split("\n").at(-1)) : 0;
  return { peakBytes: viaTime ? kilobytes * 1024 : polled, outputBytes };
}

export async function runQuerySuite(): Promise<Figure[]> {
  const figure = figuresFor("query");
  await ensureBinary("query");
  const directory = mkdtempSync(join(tmpdir(), "musique-bench-query-"));
  const database = join(directory, "musique.db");
  openStore(database).close();
  const figures: Figure[] = [];
  try {
    for (const format of ["csv", "json", "table"] as const) {
      progress(`query: ${ROWS.toLocaleString("en-US")} rows as ${format}, ${RUNS} runs`);
      let output = 0;
      const peak = await repeat(RUNS, async () => {
        const measured = await peakOf(["query", SQL, "--db", database, "--format", format]);
        output = measured.outputBytes;
        return measured.peakBytes / MIB;
      });
      figures.push(
        figure({
          name: `query ${ROWS.toLocaleString("en-US")} rows, ${format} (${Math.round(output / 1e6)} MB out): peak RSS`,
          unit: "MiB",
          value: peak,
          goal: atMost(256, "≤ 256 MiB"),
          note: `peak RSS of dist/musique (${existsSync(TIME) ? "/usr/bin/time %M" : "VmHWM polled"}); stdout read and dropped`,
        }),
        figure({ name: `query ${format}: output ÷ peak RSS`, unit: "×", value: single(output / MIB / peak.median), decimals: 1 }),
      );
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  return figures;
}
