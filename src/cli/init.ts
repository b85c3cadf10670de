/**
 * `musique init [DIR]`: write the files a GPU node needs beside the binary (docker-compose.yml
 * for TEI + the rerank API, arbor.yaml, a README of the next commands, .env naming the binary)
 * into DIR (default: the current folder). They are embedded in the binary (src/init/files.ts).
 */
import { InitSchema } from "../config/schemas.ts";
import { runningBinary, writeNodeFiles } from "../init/files.ts";
import { musiqueCommand, printJson } from "./_command.ts";

export default musiqueCommand({
  name: "init",
  description: "Write the files a GPU node needs (docker-compose.yml for the rerank service, arbor.yaml, a README of the next commands)",
  schema: InitSchema,
  run: (options) => {
    const result = writeNodeFiles(options.directory, { force: options.force, binary: runningBinary() });
    if (options.json) {
      printJson(result);
      return;
    }
    const lines = result.written.map((path) => `wrote ${path}`);
    for (const path of result.kept) lines.push(`kept  ${path} (already there; --force overwrites it)`);
    if (result.binary === null) lines.push("no .env: musique runs from source; set MUSIQUE_BINARY to the compiled binary for docker compose");
    lines.push(
      "",
      "next (README.md there says more):",
      `  cd ${result.directory}`,
      "  docker compose up -d rerank        # semantic/hybrid retrieval; lexical needs nothing",
      "  musique evaluate --base-url http://localhost:8000/v1 --model MODEL --retriever hybrid --limit 100",
      "  musique runs; musique report RUN; musique view",
    );
    process.stdout.write(lines.join("\n") + "\n");
  },
});
