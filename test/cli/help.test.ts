/**
 * --help of every command line the CLI defines (src/cli/commands.ts: each command and each of its
 * actions, enumerated, not listed here): fits COLUMNS, grouped, plain text in a pipe.
 */
import { describe, expect, test } from "bun:test";
import { COMMANDS, commandLines } from "../../src/cli/commands.ts";
import { runCli } from "../helpers/cli.ts";

const LINES = await commandLines();

function longest(text: string): number {
  return Math.max(...text.split("\n").map((line) => Bun.stringWidth(line)));
}

describe("--help", () => {
  test("musique --help lists every command", async () => {
    const result = await runCli(["--help"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("Commands:");
    for (const command of Object.keys(COMMANDS)) expect(result.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
  });

  test("the command lines with a --help include every command and the runs actions", () => {
    expect(LINES.length).toBeGreaterThan(Object.keys(COMMANDS).length);
    expect(LINES).toContainEqual(["runs", "rm"]);
  });

  for (const words of LINES) {
    test(`musique ${words.join(" ")} --help fits 100 columns at COLUMNS=100 and has no colour codes in a pipe`, async () => {
      const result = await runCli([...words, "--help"], { env: { COLUMNS: "100", NO_COLOR: undefined } });
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain(`Usage: musique ${words.join(" ")}`);
      expect(longest(result.stdout)).toBeLessThanOrEqual(100);
      expect(result.stdout + result.stderr).not.toContain("\u001b");
    });
  }

  test("help follows COLUMNS: at 72 columns no line is longer than 72", async () => {
    const result = await runCli(["evaluate", "--help"], { env: { COLUMNS: "72" } });
    expect(longest(result.stdout)).toBeLessThanOrEqual(72);
  });

  test("evaluate's flags are grouped: data, retrieval, model, program, run and output, general", async () => {
    const { stdout } = await runCli(["evaluate", "--help"]);
    const headings = stdout.split("\n").filter((line) => /^[A-Z][^:]*:$/.test(line));
    expect(headings).toEqual(["Data:", "Retrieval:", "Model (an OpenAI-compatible server):", "Program:", "Run and output:", "General:"]);
    expect(stdout.indexOf("--datasets")).toBeLessThan(stdout.indexOf("--retriever"));
    expect(stdout.indexOf("--retriever")).toBeLessThan(stdout.indexOf("--model"));
  });

  test("train's flags are grouped: data, retrieval, model, program, training, run and output, general", async () => {
    const { stdout } = await runCli(["train", "--help"]);
    const headings = stdout.split("\n").filter((line) => /^[A-Z][^:]*:$/.test(line));
    expect(headings).toEqual([
      "Data:",
      "Retrieval:",
      "Model (an OpenAI-compatible server):",
      "Program:",
      "Training (GRPO on Arbor):",
      "Run and output:",
      "General:",
    ]);
  });

  test("the data group says how to take N examples and recommends --limit", async () => {
    const { stdout } = await runCli(["evaluate", "--help"]);
    expect(stdout).toContain("Taking N examples: --limit N (recommended; --test-size is the reference script's name for the same");
    expect(stdout).toContain("validation[:100]");
  });

  test("the note on taking N examples names only flags the command has (train: --train-size, --dev-size)", async () => {
    const helps = await Promise.all(LINES.map((words) => runCli([...words, "--help"], { env: { COLUMNS: "200" } })));
    const notes = helps.map((help) => /^ {2}Taking N examples: (.*)$/m.exec(help.stdout)?.[1]).filter((note) => note !== undefined);
    expect(notes.length).toBeGreaterThanOrEqual(4);
    for (const help of helps) {
      const note = /^ {2}Taking N examples: (.*)$/m.exec(help.stdout)?.[1] ?? "";
      for (const flag of note.match(/--[a-z-]+/g) ?? []) expect(help.stdout).toMatch(new RegExp(`^ {2}${flag} `, "m"));
    }
    expect(helps[LINES.findIndex((words) => words.join(" ") === "train")]?.stdout).toContain(
      "Taking N examples: --train-size N (training) and --dev-size N (validation) use the first N",
    );
  }, 60_000);

  test("a flag shows its value hint, default and environment variable", async () => {
    const { stdout } = await runCli(["evaluate", "--help"], { env: { COLUMNS: "200" } });
    expect(stdout).toMatch(/--api-key <key> +API key \(a dummy is fine for local servers\) \(default: arbor; env OPENAI_API_KEY\)/);
    expect(stdout).toMatch(/--\[no-\]cache +answer identical temperature-0 requests/);
  });

  test("musique help evaluate is musique evaluate --help", async () => {
    const [help, flag] = await Promise.all([runCli(["help", "evaluate"]), runCli(["evaluate", "--help"])]);
    expect(help.stdout).toBe(flag.stdout);
  });

  test("--help after -- is an argument, not a request for help", async () => {
    const result = await runCli(["query", "--db", "/nonexistent/x.db", "--", "--help"]);
    expect(result.stdout).not.toContain("Usage:");
  });
});
