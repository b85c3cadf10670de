/**
 * The binary alone on a GPU node (issue 18 item 1): `musique init` writes the repository's own
 * docker-compose.yml and arbor.yaml byte for byte, `musique schema` describes every table and
 * view, and nothing the binary prints names a file the user does not have: in an empty folder the
 * --help of every command line (enumerated from src/cli/commands.ts) and schema name only files
 * init writes; after init, its output, its README and the usual service errors name only files
 * that are there. With MUSIQUE_BIN (bun run test) this runs a copy of the compiled binary with
 * nothing beside it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { commandLines } from "../../src/cli/commands.ts";
import { NODE_FILES } from "../../src/init/files.ts";
import { schemaStatements } from "../../src/store/index.ts";
import { ROOT, compiledBinary, runCli, type CliOptions } from "../helpers/cli.ts";

const folder = mkdtempSync(join(tmpdir(), "musique-node-"));
const built = compiledBinary();
const binary = built ? join(folder, "musique") : undefined;
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function musique(args: string[], options: CliOptions = {}) {
  return runCli(args, { cwd: folder, ...(binary ? { binary } : {}), ...options });
}

/** Names of files the binary's text points the reader to (configs, docs, specs, sources), not data it reads or writes. */
function fileReferences(text: string): string[] {
  const found = text.match(/[\w./-]*\b[\w-]+\.(?:ya?ml|md|py|toml|ts)\b|\b(?:docs|specs|src)\/[\w./-]*|\bDockerfile\b/g) ?? [];
  return [...new Set(found)];
}

beforeAll(() => {
  if (built && binary) copyFileSync(built, binary);
});

describe("musique init", () => {
  test("writes docker-compose.yml and arbor.yaml byte for byte as the repository has them, and a README", async () => {
    const result = await musique(["init"]);
    expect(result.exitCode).toBe(0);
    for (const name of ["docker-compose.yml", "arbor.yaml"]) {
      expect(readFileSync(join(folder, name), "utf8")).toBe(readFileSync(join(ROOT, name), "utf8"));
    }
    expect(readFileSync(join(folder, "README.md"), "utf8")).toBe(readFileSync(join(ROOT, "src/init/node-readme.md"), "utf8"));
    expect(result.stdout).toContain("docker compose up -d rerank");
  });

  test("the compiled binary writes .env with MUSIQUE_BINARY, the path docker-compose.yml mounts into the rerank service", async () => {
    const compose = readFileSync(join(ROOT, "docker-compose.yml"), "utf8");
    expect(compose).toContain("source: ${MUSIQUE_BINARY:-./musique}");
    if (binary) expect(readFileSync(join(folder, ".env"), "utf8")).toContain(`MUSIQUE_BINARY=${binary}\n`);
    else expect(existsSync(join(folder, ".env"))).toBe(false);
  });

  test("a second init keeps what is there (says so); --force writes this version's files again", async () => {
    writeFileSync(join(folder, "arbor.yaml"), "storage_path: /mine\n");
    const again = await musique(["init", "."]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain("arbor.yaml (already there; --force overwrites it)");
    expect(readFileSync(join(folder, "arbor.yaml"), "utf8")).toBe("storage_path: /mine\n");
    const forced = await musique(["init", ".", "--force"]);
    expect(forced.exitCode).toBe(0);
    expect(readFileSync(join(folder, "arbor.yaml"), "utf8")).toBe(readFileSync(join(ROOT, "arbor.yaml"), "utf8"));
  });

  test("into a new folder: created, with the three files", async () => {
    const result = await musique(["init", "node-a", "--json"]);
    expect(result.exitCode).toBe(0);
    expect(
      readdirSync(join(folder, "node-a"))
        .filter((name) => name !== ".env")
        .sort(),
    ).toEqual(["README.md", "arbor.yaml", "docker-compose.yml"]);
    expect((JSON.parse(result.stdout) as { written: string[] }).written).toHaveLength(binary ? 4 : 3);
  });
});

describe("musique schema", () => {
  test("describes every table and view the migrations create, without the part about the source", async () => {
    const result = await musique(["schema"]);
    expect(result.exitCode).toBe(0);
    for (const statement of schemaStatements().statements) {
      const name = /^CREATE (?:TABLE|VIEW) "?(\w+)"?/.exec(statement)?.[1];
      if (name) expect(result.stdout).toContain(`\`${name}\``);
    }
    expect(result.stdout).toContain("## Views");
    expect(result.stdout).not.toContain("## Code");
  });

  test("--sql prints the CREATE statements of the current schema", async () => {
    const result = await musique(["schema", "--sql"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^-- musique results database, schema version \d+\n/);
    expect(result.stdout).toContain("CREATE TABLE runs (");
    expect(result.stdout).toContain("CREATE VIEW run_summary AS");
  });
});

describe("nothing names a file the user of the binary does not have", () => {
  /** Files `musique init` writes (embedded in the binary); .env only from the compiled binary. */
  const shipped = new Set([...NODE_FILES.map((file) => file.name), ".env"]);

  test("in an empty folder, before init: --help of every command line the CLI defines, and schema, name only files init writes", async () => {
    const empty = mkdtempSync(join(tmpdir(), "musique-empty-"));
    try {
      const copy = built ? join(empty, "musique") : undefined;
      if (built && copy) copyFileSync(built, copy);
      const run = (args: string[]) => runCli(args, { cwd: empty, ...(copy ? { binary: copy } : {}) });
      const lines = await commandLines();
      const outputs = await Promise.all([["--help"], ["schema"], ["schema", "--sql"], ...lines.map((words) => [...words, "--help"])].map(run));
      for (const output of outputs) expect(output.exitCode).toBe(0);
      const named = outputs.flatMap((output) => fileReferences(output.stdout + output.stderr));
      expect(named.filter((name) => !shipped.has(name)).join(", ")).toBe("");
      expect(named).toContain("arbor.yaml"); // train --help says musique init writes it
      expect(readdirSync(empty)).toEqual(copy ? ["musique"] : []); // help and schema wrote nothing
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 60_000);

  test("after init: init's output, the README it wrote and the service errors name only files that are in the folder", async () => {
    await musique(["init", "."]);
    const outputs = [await musique(["init", "."])];
    const closed = "http://127.0.0.1:9";
    outputs.push(await musique(["retrieve", "--datasets", "sample", "--retriever", "hybrid", "--rerank-url", closed]));
    outputs.push(await musique(["evaluate", "--datasets", "sample", "--retriever", "lexical", "--base-url", `${closed}/v1`, "--limit", "1"]));
    outputs.push(await musique(["train", "--datasets", "sample-train", "--eval-datasets", "sample", "--retriever", "lexical", "--arbor-url", `${closed}/v1/`]));
    outputs.push(await musique(["query", "SELEC 1"]));
    const texts = [...outputs.map((output) => output.stdout + output.stderr), readFileSync(join(folder, "README.md"), "utf8")];
    const named = texts.flatMap(fileReferences);
    expect(named).toContain("arbor.yaml"); // the service errors do point to it…
    const missing = named.filter((name) => !existsSync(isAbsolute(name) ? name : join(folder, name)));
    expect(missing.join(", ")).toBe(""); // …and every file named is here
  }, 60_000);
});
