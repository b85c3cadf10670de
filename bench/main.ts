/**
 * `bun run bench` — every performance suite of musique (bench/README.md), one report:
 * machine info, a table of figures (median of several runs, min – max), each goal MET or MISSED,
 * written to stdout and to bench/results.json.
 *
 *   bun run bench                 all suites → bench/results.json
 *   bun run bench bm25 store      only these suites → bench/results.local.json (git-ignored)
 */
import { join } from "node:path";
import { setLogLevel } from "../src/log.ts";
import { runBm25Suite } from "./bm25.ts";
import { runDataSuite } from "./data.ts";
import { progress, type Figure } from "./measure.ts";
import { runPipelineSuite } from "./pipeline.ts";
import { requestLayerFigures } from "./request-layer.ts";
import { runQuerySuite } from "./query.ts";
import { figureTable, machineInfo, machineLines, missedOf, notesOf } from "./report.ts";
import { runStartupSuite } from "./startup.ts";
import { runStoreSuite } from "./store.ts";
import { runThroughputSuite } from "./throughput.ts";
import { runTrainingSuite } from "./training.ts";
import { runViewSuite } from "./view.ts";

const SUITES: Record<string, () => Promise<Figure[]>> = {
  bm25: runBm25Suite,
  pipeline: async () => [...(await runPipelineSuite()), ...(await requestLayerFigures())],
  store: runStoreSuite,
  data: runDataSuite,
  startup: runStartupSuite,
  view: runViewSuite,
  query: runQuerySuite,
  throughput: runThroughputSuite,
  training: runTrainingSuite,
};

const requested = process.argv.slice(2).filter((argument) => !argument.startsWith("-"));
for (const name of requested) {
  if (!(name in SUITES)) {
    process.stderr.write(`bench: unknown suite "${name}"; choose from ${Object.keys(SUITES).join(", ")}\n`);
    process.exit(2);
  }
}
const chosen = requested.length > 0 ? requested : Object.keys(SUITES);
const complete = chosen.length === Object.keys(SUITES).length;

setLogLevel("warn"); // the pipeline's own info lines would drown the progress lines
const machine = machineInfo();
const startedAt = new Date();
const started = performance.now();
const figures: Figure[] = [];
const suiteSeconds: Record<string, number> = {};
for (const name of chosen) {
  const suiteStarted = performance.now();
  progress(`suite ${name}…`);
  const run = SUITES[name] as () => Promise<Figure[]>;
  figures.push(...(await run()));
  suiteSeconds[name] = (performance.now() - suiteStarted) / 1000;
  progress(`suite ${name} done in ${suiteSeconds[name].toFixed(1)} s`);
}
const totalSeconds = (performance.now() - started) / 1000;

const missed = missedOf(figures);
const lines = [
  "# musique benchmark",
  "",
  ...machineLines(machine),
  `Date:   ${startedAt.toISOString()}`,
  `Suites: ${chosen.map((name) => `${name} ${(suiteSeconds[name] ?? 0).toFixed(0)} s`).join(", ")}; total ${totalSeconds.toFixed(0)} s`,
  "",
  figureTable(figures),
  "",
  `Goals: ${figures.filter((figure) => figure.status === "MET").length} MET, ${missed.length} MISSED` +
    (missed.length > 0 ? ` (${missed.map((figure) => `${figure.suite}: ${figure.name}`).join("; ")})` : ""),
  "",
  "Notes:",
  ...notesOf(figures),
];
console.log(lines.join("\n"));

const output = join(import.meta.dir, complete ? "results.json" : "results.local.json");
await Bun.write(output, `${JSON.stringify({ machine, startedAt: startedAt.toISOString(), totalSeconds, suiteSeconds, suites: chosen, figures }, null, 2)}\n`);
progress(`wrote ${output}`);
