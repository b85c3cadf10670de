/**
 * `musique serve rerank`: the rerank service API (BM25 in-process, `tei` forwarded to TEI), so
 * one binary and one Dockerfile replace the reference Python service. It has no authentication
 * and listens on 127.0.0.1 unless --host says otherwise (the Dockerfile passes 0.0.0.0). Stops on
 * Ctrl-C (SIGINT), SIGTERM and SIGHUP: no new connections, requests being answered get a drain
 * deadline (DEFAULTS.serveDrainSeconds), connections still sending a request are closed at once.
 */
import { DEFAULTS } from "../config/defaults.ts";
import { ServeSchema } from "../config/schemas.ts";
import { ExitCode } from "../errors.ts";
import { log } from "../log.ts";
import { startRerankServer } from "../retrieval/rerank/server.ts";
import { musiqueCommand } from "./_command.ts";

export default musiqueCommand({
  name: "serve",
  description:
    "Serve the rerank API (POST /rerank with model tei or bm25, GET /health, GET /models). " +
    "It has NO authentication: it listens on 127.0.0.1 unless --host says otherwise; expose it only on a trusted network",
  schema: ServeSchema,
  run: async (options, context) => {
    const server = startRerankServer({
      host: options.host,
      port: options.port,
      teiUrl: options.teiUrl,
      timeoutSeconds: options.rerankTimeout,
    });
    log.info(`rerank service listening on ${server.url} (model "tei" → ${options.teiUrl}, model "bm25" in-process)`);
    // Ctrl-C, SIGTERM and SIGHUP all abort context.signal (src/cli/_signals.ts).
    await new Promise<void>((resolve) => {
      context.signal.addEventListener(
        "abort",
        () => {
          const reason: unknown = context.signal.reason;
          log.info(`${reason instanceof Error ? reason.message : "interrupted"}: stopping the rerank service…`);
          resolve();
        },
        { once: true },
      );
    });
    const stopped = performance.now();
    const report = await server.stop();
    if (report.cut > 0) log.warn(`${report.cut} request(s) still being answered after ${DEFAULTS.serveDrainSeconds} s were cut off`);
    if (report.unfinished > 0) log.info(`closed ${report.unfinished} connection(s) that were still sending a request`);
    log.info(`rerank service stopped (in ${Math.round(performance.now() - stopped)} ms)`);
    return ExitCode.ok;
  },
});
