/** `musique report RUN`: a run's summary in the terminal (or --json), and optionally a self-contained HTML page. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ReportSchema } from "../config/schemas.ts";
import { UsageError } from "../errors.ts";
import { log } from "../log.ts";
import { loadRunReport, worstExamples } from "../report/data.ts";
import { renderHtmlReport } from "../report/html.ts";
import { formatRunReport } from "../report/terminal.ts";
import { openReadOnly } from "../store/index.ts";
import { musiqueCommand, printJson } from "./_command.ts";

/** How many of the lowest-scoring examples the HTML page lists with their trajectories. */
const WORST_EXAMPLES = 100;

function writeReport(path: string, html: string): void {
  try {
    mkdirSync(dirname(resolve(path)), { recursive: true });
    writeFileSync(path, html);
  } catch (error) {
    throw new UsageError(`cannot write the HTML report to ${path}`, {
      cause: error instanceof Error ? error.message : String(error),
      fix: "pass --html with a file in a writable directory",
      error,
    });
  }
}

export default musiqueCommand({
  name: "report",
  description: "Summarise a run: scores overall / per hop / per shape, usage, failures; --html writes a self-contained page with plots",
  schema: ReportSchema,
  run: (options) => {
    const store = openReadOnly(options.db);
    try {
      const report = loadRunReport(store, options.run);
      if (options.html) {
        writeReport(options.html, renderHtmlReport(report, worstExamples(store, options.run, WORST_EXAMPLES)));
        log.info(`wrote ${options.html}`);
      }
      if (options.json) printJson(report);
      else process.stdout.write(formatRunReport(report) + (options.html ? `html: ${options.html}\n` : ""));
    } finally {
      store.close();
    }
  },
});
