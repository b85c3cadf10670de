/**
 * What musique prints, as a user sees it in a pipe (issue 18 items 2 and 3): a normal evaluate on
 * the bundled data against a fake OpenAI-compatible server, an error, `runs` and `report` carry no
 * ESC byte on stdout or stderr unless FORCE_COLOR asks (NO_COLOR turns colour off on a terminal);
 * score tables have the hop-count and shape breakdowns in separate labelled blocks with one hop
 * label ("2 hops") and the reward footnote; `runs` fits 120 columns.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeOpenAI, type FakeOpenAI } from "../fakes/openai.ts";
import { MAIN, cleanEnv, compiledBinary, runCli, type CliResult } from "../helpers/cli.ts";

const ESC = "\u001b";
/** A pipe as a user's shell gives it: no NO_COLOR, and CI set (consola used to colour under CI). */
const PIPE_ENV = { NO_COLOR: undefined, FORCE_COLOR: undefined, CI: "true", COLUMNS: undefined };

let fake: FakeOpenAI;
let folder: string;
let database: string;
let evaluate: CliResult;

beforeAll(async () => {
  fake = await startFakeOpenAI({});
  folder = mkdtempSync(join(tmpdir(), "musique-plain-"));
  database = join(folder, "musique.db");
  evaluate = await runCli(
    [
      "evaluate",
      "--datasets",
      "sample",
      "--retriever",
      "lexical",
      "--base-url",
      fake.baseUrl,
      "--model",
      "Qwen/Qwen2.5-7B-Instruct",
      "--limit",
      "40",
      "--run-name",
      "plain",
      "--db",
      database,
      "--output-dir",
      join(folder, "outputs"),
    ],
    { env: PIPE_ENV },
  );
}, 60_000);
afterAll(async () => {
  await fake.stop();
  rmSync(folder, { recursive: true, force: true });
});

function widest(text: string): number {
  return Math.max(...text.split("\n").map((line) => Bun.stringWidth(line)));
}

/** The rows of a labelled block of a table: the lines after `label` up to the next empty line. */
function block(text: string, label: string): string[] {
  const lines = text.split("\n");
  const start = lines.indexOf(label);
  if (start < 0) return [];
  const end = lines.indexOf("", start);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

describe("output to a pipe", () => {
  test("evaluate on the bundled sample against a fake LM: no ESC byte on stdout or stderr", () => {
    expect(evaluate.exitCode).toBe(0);
    expect(evaluate.stderr).toContain("[info] run plain: 40 examples");
    expect(evaluate.stdout + evaluate.stderr).not.toContain(ESC);
  });

  test("musique runs and musique report: no ESC byte; runs fits 120 columns, report 100", async () => {
    const runs = await runCli(["runs", "--db", database], { env: PIPE_ENV });
    const report = await runCli(["report", "plain", "--db", database], { env: PIPE_ENV });
    for (const result of [runs, report]) {
      expect(result.exitCode).toBe(0);
      expect(result.stdout + result.stderr).not.toContain(ESC);
    }
    expect(runs.stdout).toMatch(/^plain\s+evaluate\s+completed\s+-\s+Qwen2\.5-7B-Instruct\s+lexical\s+2\s+0\.5\s+40\s/m);
    expect(widest(runs.stdout)).toBeLessThanOrEqual(120);
    expect(widest(report.stdout)).toBeLessThanOrEqual(100); // prose lines wrap at the width like the tables
  });

  test("an error: no ESC byte; FORCE_COLOR=1 colours it, FORCE_COLOR=0 does not", async () => {
    const args = ["report", "no-such-run", "--db", database];
    const plain = await runCli(args, { env: PIPE_ENV });
    expect(plain.exitCode).toBe(2);
    expect(plain.stderr).toContain('[error] no run named "no-such-run"');
    expect(plain.stdout + plain.stderr).not.toContain(ESC);
    const forced = await runCli(args, { env: { ...PIPE_ENV, FORCE_COLOR: "1" } });
    expect(forced.stderr).toContain(`${ESC}[31m[error]${ESC}[39m no run named`);
    const off = await runCli(args, { env: { ...PIPE_ENV, FORCE_COLOR: "0" } });
    expect(off.stderr).not.toContain(ESC);
  });

  test("on a terminal log lines are coloured; NO_COLOR=1 leaves them plain", async () => {
    const script = Bun.which("script");
    if (script === null) {
      console.log("skipped the terminal half: no `script` (util-linux) to give musique a terminal; colourEnabled's unit tests cover it");
      return;
    }
    const binary = compiledBinary();
    const command = [...(binary ? [binary] : [process.execPath, MAIN]), "report", "no-such-run", "--db", database].map((word) => `'${word}'`).join(" ");
    const inTerminal = async (env: Record<string, string | undefined>) => {
      const child = Bun.spawn([script, "-qec", command, "/dev/null"], {
        env: cleanEnv({ ...PIPE_ENV, ...env }),
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const [text] = await Promise.all([new Response(child.stdout).text(), child.exited]);
      return text;
    };
    const coloured = await inTerminal({});
    expect(coloured).toContain(`${ESC}[31m[error]${ESC}[39m no run named`);
    const plain = await inTerminal({ NO_COLOR: "1" });
    expect(plain).toContain("[error] no run named");
    expect(plain).not.toContain(ESC);
  });
});

describe("score tables", () => {
  test("evaluate prints overall, then 'by hop count' (2 hops, 3 hops, 4 hops), then 'by shape' only with shapes of a hop count that has several", () => {
    const hops = block(evaluate.stdout, "by hop count").map((line) => line.split(/\s+/).slice(0, 2).join(" "));
    expect(hops).toEqual(["2 hops", "3 hops", "4 hops"]);
    const shapes = block(evaluate.stdout, "by shape").map((line) => line.split(/\s+/)[0] ?? "");
    expect(shapes.length).toBeGreaterThan(0);
    for (const shape of shapes) expect(shape).toMatch(/^[34]hop\d$/); // never a "2hop" row repeating "2 hops"
    expect(evaluate.stdout.indexOf("by hop count")).toBeLessThan(evaluate.stdout.indexOf("by shape"));
  });

  test("under the table, a footnote says what reward is: formula, hop weight and range", () => {
    expect(evaluate.stdout).toContain("reward (v1) = hop weight × (0.8 × (0.6·EM + 0.3·F1) + 0.2·recall), from 0 to 1.84");
    expect(evaluate.stdout).toMatch(/^hop weight = min\(hops\/2, 2\): ×1 for 2 hops, ×1\.5 for 3, ×2 for 4/m);
  });

  test("one hop label: evaluate, report and runs say 'N hops', never '2-hop' or a bare '2hop' row", async () => {
    const report = await runCli(["report", "plain", "--db", database]);
    for (const text of [evaluate.stdout, report.stdout]) {
      expect(text).toMatch(/^2 hops\s/m);
      expect(text).not.toMatch(/\d-hop\b/);
      expect(text).not.toMatch(/^2hop\b/m);
    }
    expect(block(report.stdout, "by hop count").map((line) => line.split(/\s+/).slice(0, 2).join(" "))).toEqual(["2 hops", "3 hops", "4 hops"]);
  });

  test("the score table fits 100 columns", () => {
    expect(widest(evaluate.stdout)).toBeLessThanOrEqual(100);
  });
});
