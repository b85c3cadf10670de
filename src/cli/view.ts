/**
 * `musique view`: a local web dashboard of the results database (runs, a run, a training run with
 * its group inspector, compare), updated live while evaluate or train write to it; --tag T opens
 * the runs page showing the runs carrying T. Read-only;
 * nothing leaves the machine. Prints the URL; stops on Ctrl-C, SIGTERM or SIGHUP.
 */
import { ViewSchema } from "../config/schemas.ts";
import { ExitCode } from "../errors.ts";
import { log } from "../log.ts";
import { startViewServer } from "../view/server.ts";
import { musiqueCommand, printJson } from "./_command.ts";

export default musiqueCommand({
  name: "view",
  description: "Browse the results database in a local web page (runs, training health, group inspector, compare), live while runs write",
  schema: ViewSchema,
  run: async (options, context) => {
    // Ctrl-C, SIGTERM and SIGHUP all abort context.signal (src/cli/_signals.ts).
    const stopped = new Promise<string>((resolve) => {
      const reason = () => (context.signal.reason instanceof Error ? context.signal.reason.message : "interrupted");
      if (context.signal.aborted) resolve(reason());
      else context.signal.addEventListener("abort", () => resolve(reason()), { once: true });
    });
    const server = startViewServer({ database: options.db, host: options.host, port: options.port });
    // --tag T opens the runs page filtered as `musique runs --tag T` lists them.
    const tags = options.tag ?? [];
    const url = tags.length === 0 ? server.url : `${server.url}?${tags.map((tag) => `tag=${encodeURIComponent(tag)}`).join("&")}`;
    if (options.json) printJson({ url, database: options.db });
    else process.stdout.write(`musique view: ${url}\n`);
    log.info(`serving ${options.db} read-only at ${server.url} (Ctrl-C to stop)`);
    if (options.host !== "127.0.0.1" && options.host !== "localhost" && options.host !== "::1") {
      log.warn(`listening on ${options.host}: anyone who can reach this machine can read the results (no login); 127.0.0.1 with ssh -L is safer`);
    }
    log.info(`${await stopped}: stopping musique view`);
    await server.stop();
    return ExitCode.ok;
  },
});
