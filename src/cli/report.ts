/**
 * `musique report RUN`: a run's summary in the terminal (or --json), and optionally a
 * self-contained HTML page. `--tag T` reports every run carrying T (one after another; --json: a list).
 */
import { ReportSchema } from "../config/schemas.ts";
import { UsageError } from "../errors.ts";
import { writeOutputFile } from "../files.ts";
import { log } from "../log.ts";
import { loadRunReport, worstExamples } from "../report/data.ts";
import { renderHtmlReport } from "../report/html.ts";
import { formatRunReport } from "../report/terminal.ts";
import { streamWidth } from "../text/stream.ts";
import { openReadOnly, runsWithTags } from "../store/index.ts";
import { musiqueCommand, printJson } from "./_command.ts";

/** How many of the lowest-scoring examples the HTML page lists with their trajectories. */
const WORST_EXAMPLES = 100;

export default musiqueCommand({
  name: "report",
  description: "Summarise a run: scores overall / per hop / per shape, usage, failures; --html writes a self-contained page with plots",
  schema: ReportSchema,
  run: (options) => {
    const tags = options.tag ?? [];
    if (options.run === undefined && tags.length === 0) {
      throw new UsageError("missing argument <run>", { fix: "give a run name (musique runs lists them), or --tag TAG" });
    }
    using store = openReadOnly(options.db, { notices: true });
    const names = options.run === undefined ? [] : [options.run];
    if (tags.length > 0) {
      const tagged = runsWithTags(store, tags).map((run) => run.name);
      if (tagged.length === 0) throw new UsageError(`no run in ${store.path} carries ${tags.join(" and ")}`, { fix: "musique runs shows the tags" });
      names.push(...tagged.filter((name) => name !== options.run));
    }
    const [single] = names;
    if (options.html) {
      if (single === undefined || names.length > 1) {
        throw new UsageError(`--html writes one run's page, and ${names.length} runs were chosen`, { fix: "name one run for --html" });
      }
      writeOutputFile(options.html, renderHtmlReport(loadRunReport(store, single), worstExamples(store, single, WORST_EXAMPLES)), "--html");
      log.info(`wrote ${options.html}`);
    }
    const reports = names.map((name) => loadRunReport(store, name));
    if (options.json) printJson(tags.length > 0 ? reports : reports[0]);
    else
      process.stdout.write(
        reports.map((report) => formatRunReport(report, streamWidth(process.stdout))).join("\n") + (options.html ? `html: ${options.html}\n` : ""),
      );
  },
});
