import { describe, expect, test } from "bun:test";
import { formatLogLine } from "../../src/log.ts";
import { colourEnabled, streamWidth } from "../../src/text/stream.ts";
import { runCli } from "../helpers/cli.ts";

const terminal = { isTTY: true, columns: 132 };
const pipe = { isTTY: false };

describe("colour", () => {
  test("a terminal gets colour, a pipe or a file does not", () => {
    expect(colourEnabled(terminal, {})).toBe(true);
    expect(colourEnabled(pipe, {})).toBe(false);
  });

  test("NO_COLOR turns it off on a terminal; an empty NO_COLOR does not", () => {
    expect(colourEnabled(terminal, { NO_COLOR: "1" })).toBe(false);
    expect(colourEnabled(terminal, { NO_COLOR: "" })).toBe(true);
  });

  test("FORCE_COLOR turns it on in a pipe, FORCE_COLOR=0 or false keeps it off, and it wins over NO_COLOR", () => {
    expect(colourEnabled(pipe, { FORCE_COLOR: "1" })).toBe(true);
    expect(colourEnabled(pipe, { FORCE_COLOR: "" })).toBe(true);
    expect(colourEnabled(terminal, { FORCE_COLOR: "0" })).toBe(false);
    expect(colourEnabled(terminal, { FORCE_COLOR: "false" })).toBe(false);
    expect(colourEnabled(pipe, { FORCE_COLOR: "1", NO_COLOR: "1" })).toBe(true);
  });

  test("CI alone does not put colour into a pipe (consola's reporters did)", () => {
    expect(colourEnabled(pipe, { CI: "true" })).toBe(false);
  });

  test("TERM=dumb gets no colour", () => {
    expect(colourEnabled(terminal, { TERM: "dumb" })).toBe(false);
  });
});

describe("width", () => {
  test("COLUMNS wins, then the terminal's width, then 100", () => {
    expect(streamWidth(terminal, { COLUMNS: "80" })).toBe(80);
    expect(streamWidth(terminal, {})).toBe(132);
    expect(streamWidth(pipe, {})).toBe(100);
    expect(streamWidth(pipe, { COLUMNS: "nonsense" })).toBe(100);
  });
});

describe("log lines", () => {
  test("one format everywhere: [level] message; colour only around the tag and values", () => {
    expect(formatLogLine({ type: "warn", args: ["retrying"] }, false)).toBe("[warn] retrying\n");
    expect(formatLogLine({ type: "info", args: ["ranked ", 5] }, false)).toBe("[info] ranked  5\n");
    expect(formatLogLine({ type: "error", args: ["failed"] }, true)).toBe("\u001b[31m[error]\u001b[39m failed\n");
  });

  test("no ESC byte on stderr or stdout in a pipe, even with CI=true (what consola coloured)", async () => {
    const result = await runCli(["retrieve", "--datasets", "sample", "--retriever", "lexical", "--limit", "5"], {
      env: { NO_COLOR: undefined, CI: "true", FORCE_COLOR: undefined },
    });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("[info] ranking 5 questions");
    expect(result.stdout + result.stderr).not.toContain("\u001b");
  });

  test("an error in a pipe has no ESC byte; FORCE_COLOR=1 colours it", async () => {
    const plain = await runCli(["retrieve", "--retriever", "lexcal"], { env: { NO_COLOR: undefined } });
    expect(plain.stderr).toContain("[error] --retriever lexcal");
    expect(plain.stderr).not.toContain("\u001b");
    const forced = await runCli(["retrieve", "--retriever", "lexcal"], { env: { NO_COLOR: undefined, FORCE_COLOR: "1" } });
    expect(forced.stderr).toContain("\u001b[31m[error]\u001b[39m --retriever lexcal");
  });
});
