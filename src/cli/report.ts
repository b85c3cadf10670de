/** `musique report RUN`: a run's summary in the terminal (or --json), and optionally a self-contained HTML page. */
import { ReportSchema } from "../config/schemas.ts";
import { writeOutputFile } from "../files.ts";
import { log } from "../log.ts";
import { loadRunReport, worstExamples } from "../report/data.ts";
import { renderHtmlReport } from "../report/html.ts";
import { formatRunReport } from "../report/terminal.ts";
import { openReadOnly } from "../store/index.ts";
import { musiqueCommand, printJson } from "./_command.ts";

/** How many of the lowest-scoring examples the HTML page lists with their trajectories. */
const WORST_EXAMPLES = 100;

export default musiqueCommand({
  name: "report",
  description: "Summarise a run: scores overall / per hop / per shape, usage, failures; --html writes a self-contained page with plots",
  schema: ReportSchema,
  run: (options) => {
    const store = openReadOnly(options.db);
    try {
      const report = loadRunReport(store, options.run);
      if (options.html) {
        writeOutputFile(options.html, renderHtmlReport(report, worstExamples(store, options.run, WORST_EXAMPLES)), "--html");
        log.info(`wrote ${options.html}`);
      }
      if (options.json) printJson(report);
      else process.stdout.write(formatRunReport(report) + (options.html ? `html: ${options.html}\n` : ""));
    } finally {
      store.close();
    }
  },
});
