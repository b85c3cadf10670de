/**
 * `musique serve rerank`: the rerank service API (BM25 in-process, `tei` forwarded to TEI), so
 * one binary and one Dockerfile replace the reference Python service. Stops gracefully on
 * Ctrl-C (SIGINT), SIGTERM and SIGHUP: no new connections, requests in flight finish.
 */
import { ServeSchema } from "../config/schemas.ts";
import { ExitCode } from "../errors.ts";
import { log } from "../log.ts";
import { startRerankServer } from "../retrieval/rerank/server.ts";
import { musiqueCommand } from "./_command.ts";

export default musiqueCommand({
  name: "serve",
  description: "Serve the rerank API (POST /rerank with model tei or bm25, GET /health, GET /models)",
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
    await server.stop();
    log.info("rerank service stopped");
    return ExitCode.ok;
  },
});
