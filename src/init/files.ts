/**
 * The files a GPU node needs beside the binary, embedded in it (issue 18 item 1): the
 * repository's own docker-compose.yml (TEI + the rerank API) and arbor.yaml, a short README of
 * the next commands, and .env telling docker compose where the binary is (MUSIQUE_BINARY).
 * `musique init [DIR]` writes them (atomically); a file already there is kept unless --force.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import arborYaml from "../../arbor.yaml" with { type: "text" };
import composeYaml from "../../docker-compose.yml" with { type: "text" };
import { writeOutputFile } from "../files.ts";
import nodeReadme from "./node-readme.md" with { type: "text" };

export interface NodeFile {
  name: string;
  text: string;
}

/** The embedded files, byte for byte the repository's. */
export const NODE_FILES: readonly NodeFile[] = [
  { name: "docker-compose.yml", text: composeYaml },
  { name: "arbor.yaml", text: arborYaml },
  { name: "README.md", text: nodeReadme },
];

/** The path of the running musique binary, or null when musique runs from source (`bun src/cli/main.ts`). */
export function runningBinary(): string | null {
  const compiled = Bun.main.startsWith("/$bunfs/") || /^[A-Z]:[\\/]~BUN[\\/]/.test(Bun.main);
  return compiled ? process.execPath : null;
}

/** `.env` for docker compose: where the musique binary is, so the rerank service can run it. */
function environmentFile(binary: string | null): NodeFile | null {
  if (binary === null) return null;
  return {
    name: ".env",
    text: `# Written by musique init: the binary docker-compose.yml mounts into the rerank service.\nMUSIQUE_BINARY=${binary}\n`,
  };
}

export interface InitResult {
  directory: string;
  written: string[];
  /** Files already there and left as they were (no --force). */
  kept: string[];
  binary: string | null;
}

/** Write the node files into `directory` (created if missing). */
export function writeNodeFiles(directory: string, options: { force: boolean; binary: string | null }): InitResult {
  const target = resolve(directory);
  const files = [...NODE_FILES, ...[environmentFile(options.binary)].filter((file): file is NodeFile => file !== null)];
  const existing = files.filter((file) => existsSync(join(target, file.name)));
  const written: string[] = [];
  const kept: string[] = [];
  for (const file of files) {
    const path = join(target, file.name);
    if (!options.force && existing.includes(file)) {
      kept.push(path);
      continue;
    }
    writeOutputFile(path, file.text, "DIR");
    written.push(path);
  }
  return { directory: target, written, kept, binary: options.binary };
}
