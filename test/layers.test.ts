/**
 * The layer map, enforced (issue 15 item 3): every import between the folders of src/ (and its
 * top-level files) must be an edge of ALLOWED, the table docs/DEVELOPING.md "What each area owns and may import"
 * explains. Type-only imports count too: a type is part of a layer's contract. PENDING lists the
 * forbidden edges that exist today, each with its owner and the way out; it can only shrink (a
 * listed edge that no longer exists fails the test, so the list stays true).
 */
import { describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { dirname, join, relative, resolve } from "node:path";

const SOURCE = join(import.meta.dir, "..", "src");

/** What each area of src/ may import (besides itself). cli may import every other area. */
const ALLOWED = {
  errors: [],
  version: [],
  text: [],
  http: ["errors", "text"],
  config: ["errors"],
  files: ["errors"],
  init: ["files"],
  log: ["errors", "config", "http", "text"],
  data: ["errors", "config", "log", "files", "http", "text"],
  lm: ["errors", "config", "log", "http"],
  metrics: ["errors", "config", "text", "data"],
  retrieval: ["errors", "config", "log", "http", "text", "data", "metrics"],
  program: ["errors", "config", "log", "text", "data", "lm", "retrieval", "metrics"],
  store: ["errors", "config", "log", "files", "text", "data", "lm", "program", "metrics"],
  grpo: ["errors", "config", "log", "files", "http", "data", "lm", "retrieval", "program", "metrics", "store"],
  run: ["errors", "config", "log", "files", "version", "text", "http", "data", "lm", "retrieval", "program", "metrics", "grpo", "store"],
  report: ["errors", "config", "log", "files", "text", "data", "metrics", "store"],
  view: ["errors", "config", "log", "files", "text", "data", "metrics", "store", "report", "grpo", "worker"],
  worker: ["errors", "config", "log", "files", "store", "report"],
  cli: [
    "init",
    "errors",
    "config",
    "log",
    "files",
    "version",
    "text",
    "http",
    "data",
    "lm",
    "retrieval",
    "program",
    "metrics",
    "store",
    "grpo",
    "run",
    "report",
    "view",
    "worker",
  ],
} as const satisfies Record<string, readonly string[]>;

type Area = keyof typeof ALLOWED;

/** Forbidden edges that exist today: "from → to" → who owns the fix and how. Only ever shrinks. */
const PENDING: Record<string, string> = {};

/**
 * Vocabulary files: a domain's names (retrievers, rewards, hop modes, training policies) live in
 * the module that owns the domain, and src/config builds flag schemas from them (issue 15 item
 * 3). They import nothing, so importing one is an edge to a leaf, allowed from every area.
 */
const VOCABULARY = new Set(["retrieval/names.ts", "metrics/reward-versions.ts", "program/hops.ts", "grpo/policies.ts"]);

/** Files outside src/ that src/ may import: "area → path relative to the repository". */
const OUTSIDE_ALLOWED = new Set([
  "version → package.json",
  // embedded in the binary, so the user has them without the repository (issue 18 item 1)
  "init → arbor.yaml",
  "init → docker-compose.yml",
  "cli → docs/store.md",
]);

function areaOf(path: string): string {
  const parts = relative(SOURCE, path).split("/");
  const first = parts[0] ?? "";
  return parts.length === 1 ? first.replace(/\.ts$/, "") : first;
}

interface Edge {
  from: string;
  to: string;
  where: string;
  /** The imported file, relative to src/ (inside edges). */
  target: string;
}

/** `import … from "x"`, `export … from "x"`, `import "x"` and `import("x")`, type-only ones included. */
const IMPORT = /^\s*(?:import|export)\b[^;'"`]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

async function edges(): Promise<{ inside: Edge[]; outside: Edge[] }> {
  const inside: Edge[] = [];
  const outside: Edge[] = [];
  for await (const file of new Glob("**/*.{ts,tsx}").scan(SOURCE)) {
    const path = join(SOURCE, file);
    const text = await Bun.file(path).text();
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3] ?? "";
      if (!specifier.startsWith(".")) continue; // packages and node: builtins
      const target = resolve(dirname(path), specifier);
      const line = text.slice(0, match.index).split("\n").length;
      const where = `src/${file}:${line}`;
      if (!target.startsWith(SOURCE + "/")) {
        outside.push({ from: areaOf(path), to: relative(join(SOURCE, ".."), target), where, target: "" });
        continue;
      }
      const from = areaOf(path);
      const to = areaOf(target);
      if (from !== to) inside.push({ from, to, where, target: relative(SOURCE, target) });
    }
  }
  return { inside, outside };
}

const found = await edges();

function isAllowed(edge: Edge): boolean {
  if (VOCABULARY.has(edge.target)) return true;
  const allowed: readonly string[] | undefined = ALLOWED[edge.from as Area];
  return allowed !== undefined && allowed.includes(edge.to);
}

describe("the layer map", () => {
  test("every import between src/ folders is an allowed edge (or a pending one)", () => {
    const forbidden = found.inside
      .filter((edge) => !isAllowed(edge) && PENDING[`${edge.from} → ${edge.to}`] === undefined)
      .map(
        (edge) =>
          `${edge.where}: ${edge.from} → ${edge.to} is not allowed (test/layers.test.ts ALLOWED, docs/DEVELOPING.md "What each area owns and may import")`,
      );
    expect(forbidden).toEqual([]);
  });

  test("vocabulary files import nothing of ours (so any area may import them)", async () => {
    const importing: string[] = [];
    for (const file of VOCABULARY) {
      const text = await Bun.file(join(SOURCE, file)).text();
      for (const match of text.matchAll(IMPORT)) if ((match[1] ?? match[2] ?? match[3] ?? "").startsWith(".")) importing.push(file);
    }
    expect(importing).toEqual([]);
  });

  test("every pending edge still exists (fixed ones must leave the list)", () => {
    const existing = new Set(found.inside.map((edge) => `${edge.from} → ${edge.to}`));
    expect(Object.keys(PENDING).filter((edge) => !existing.has(edge))).toEqual([]);
  });

  test("every folder and top-level file of src/ has a row in the table", () => {
    const areas = new Set([...found.inside.map((edge) => edge.from), ...found.inside.map((edge) => edge.to)]);
    expect([...areas].filter((area) => !(area in ALLOWED)).sort()).toEqual([]);
  });

  test("docs/DEVELOPING.md has one paragraph per area, and the areas it says each may import are its ALLOWED", async () => {
    const text = await Bun.file(join(SOURCE, "..", "docs", "DEVELOPING.md")).text();
    const paragraphs = text.split(/\n\s*\n/).map((paragraph) => paragraph.trim());
    const wrong: string[] = [];
    for (const [area, allowed] of Object.entries(ALLOWED) as Array<[Area, readonly string[]]>) {
      const found = paragraphs.filter((paragraph) => paragraph.startsWith(`**\`${area}\`**`));
      const mayImport = found[0]?.split(/May\s+import:/)[1];
      if (found.length !== 1 || mayImport === undefined) {
        wrong.push(`${area}: ${found.length} paragraphs starting with **\`${area}\`** (want one, ending with "May import: …")`);
        continue;
      }
      if (area === "cli") {
        if (!mayImport.includes("every other area")) wrong.push(`cli: "May import: every other area"`);
        continue;
      }
      const named = [...new Set([...mayImport.matchAll(/`([a-z]+)`/g)].map((match) => match[1]))].sort();
      const expected = [...allowed].sort();
      if (named.join(",") !== expected.join(","))
        wrong.push(`${area}: the paragraph says ${named.join(", ") || "nothing"}, ALLOWED says ${expected.join(", ") || "nothing"}`);
    }
    expect(wrong).toEqual([]);
  });

  test("src/ imports nothing outside it but package.json (for the version)", () => {
    const outside = found.outside.filter((edge) => !OUTSIDE_ALLOWED.has(`${edge.from} → ${edge.to}`)).map((edge) => `${edge.where} → ${edge.to}`);
    expect(outside).toEqual([]);
  });

  test("the table keeps the rules: nothing imports cli; report never imports run; data, retrieval, program, lm and metrics import neither run nor grpo; http imports only errors and text (a leaf: sizes in messages)", () => {
    const breaking: string[] = [];
    for (const [from, allowed] of Object.entries(ALLOWED) as Array<[Area, readonly string[]]>) {
      if (allowed.includes("cli")) breaking.push(`${from} → cli`);
      if (from === "report" && allowed.includes("run")) breaking.push("report → run");
      if (["data", "retrieval", "program", "lm", "metrics"].includes(from)) {
        for (const layer of ["run", "grpo"]) if (allowed.includes(layer)) breaking.push(`${from} → ${layer}`);
      }
    }
    expect(ALLOWED.http).toEqual(["errors", "text"]);
    expect(ALLOWED.text).toEqual([]);
    expect(breaking).toEqual([]);
  });

  test("the scan sees the imports it should (a known edge of each kind is found)", () => {
    const seen = (from: string, to: string) => found.inside.some((edge) => edge.from === from && edge.to === to);
    expect(seen("cli", "run")).toBe(true); // a value import
    expect(seen("store", "program")).toBe(true); // a type-only import
    expect(found.outside.some((edge) => edge.to === "package.json")).toBe(true);
  });
});
