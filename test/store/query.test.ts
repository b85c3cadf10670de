import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { ExitCode, StoreError, UsageError } from "../../src/errors.ts";
import {
  TABLE_SAMPLE_ROWS,
  createRun,
  formatCsv,
  formatJson,
  formatTable,
  openReadOnly,
  openStore,
  recordExampleResult,
  runReadOnlyQuery,
  splitStatements,
  streamReadOnlyQuery,
  updateRunStatus,
} from "../../src/store/index.ts";
import { sqliteNumber } from "../../src/store/format.ts";
import { runCli } from "../helpers/cli.ts";
import { EXAMPLE, programResult, scoreOf, temporaryDirectory } from "./helpers.ts";

const directory = temporaryDirectory();
const path = directory.database("query.db");
afterAll(() => directory.remove());

beforeAll(() => {
  const store = openStore(path);
  const first = createRun(store, {
    name: "eval-one",
    kind: "evaluate",
    config: { num_hops: 2, temperature: 0.5, reward: "v1" },
    toolVersion: "test",
    model: "Qwen/Qwen2.5-7B-Instruct",
    retriever: "lexical",
  });
  for (const [exampleId, answer] of [
    ["2hop__1", "Paris"],
    ["2hop__2", "Lyon"],
    ["3hop1__3", "Paris"],
  ] as const) {
    const result = programResult(answer);
    recordExampleResult(store, first.id, { exampleId, nHops: Number(exampleId[0]), goldAnswers: EXAMPLE.answers, result, score: scoreOf(result) });
  }
  updateRunStatus(store, first.id, "completed");
  createRun(store, { name: "eval-two", kind: "evaluate", config: {}, toolVersion: "test" });
  store.close();
});

function runCount(): number {
  const store = openReadOnly(path);
  try {
    return (store.database.query("SELECT COUNT(*) AS n FROM runs").get() as { n: number }).n;
  } finally {
    store.close();
  }
}

function attempt(sql: string): unknown {
  const store = openReadOnly(path);
  try {
    runReadOnlyQuery(store, sql);
  } catch (error) {
    return error;
  } finally {
    store.close();
  }
  throw new Error(`expected ${sql} to be refused`);
}

describe("runReadOnlyQuery", () => {
  test("returns columns and rows of a SELECT", () => {
    const store = openReadOnly(path);
    const result = runReadOnlyQuery(store, "SELECT name, status FROM runs ORDER BY name");
    store.close();
    expect(result).toEqual({
      columns: ["name", "status"],
      rows: [
        ["eval-one", "completed"],
        ["eval-two", "running"],
      ],
    });
  });

  test.each([
    "DELETE FROM runs",
    "INSERT INTO runs (name, kind, started_at, config_json, config_hash, tool_version) VALUES ('x', 'evaluate', 'now', '{}', 'h', 't')",
    "UPDATE runs SET status = 'failed'",
    "CREATE TABLE evil (x)",
    "DROP TABLE runs",
    "ATTACH DATABASE 'other.db' AS other",
    "PRAGMA user_version = 99",
    "PRAGMA journal_mode = DELETE",
    "PRAGMA query_only = OFF",
    "DELETE FROM runs RETURNING *",
    "VACUUM",
    "BEGIN",
  ])("refuses %s (exit code 6) and changes nothing", (sql) => {
    const error = attempt(sql) as StoreError;
    expect(error).toBeInstanceOf(StoreError);
    expect(error.exitCode).toBe(ExitCode.store);
    expect(error.message).toStartWith("musique query is read-only");
    expect(runCount()).toBe(2);
  });

  test("refuses more than one statement, so nothing can hide behind a SELECT", () => {
    const error = attempt("SELECT 1; DELETE FROM runs") as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe("musique query runs one statement at a time (got 2)");
    expect(runCount()).toBe(2);
  });

  test("a bad statement is a usage error with SQLite's message", () => {
    const error = attempt("SELEC * FROM runs") as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain('near "SELEC"');
  });

  test("splitStatements ignores semicolons inside strings, identifiers and comments", () => {
    expect(splitStatements("SELECT ';' AS \"a;b\" -- c;d\n; ")).toEqual(["SELECT ';' AS \"a;b\" -- c;d\n"]);
    expect(splitStatements("SELECT 1 /* ; */;SELECT 2")).toHaveLength(2);
    expect(splitStatements(" ; -- nothing\n")).toEqual([]);
  });
});

describe("formatting", () => {
  // As statements return them (safeIntegers): INTEGER values are bigints, REAL values numbers.
  const result = {
    columns: ["name", "f1", "n", "note"],
    rows: [
      ["a", 0.5, 3n, null],
      ["longer name", 0.123456, 12n, 'x,"y"'],
    ],
  };

  test("table output aligns columns and right-aligns numbers", () => {
    expect(formatTable(result)).toBe(
      [
        "name               f1   n  note",
        "-----------  --------  --  -----",
        "a                 0.5   3  NULL",
        'longer name  0.123456  12  x,"y"',
        "(2 rows)",
        "",
      ].join("\n"),
    );
  });

  test("CSV quotes fields with commas and quotes; NULL is empty; lines end in LF", () => {
    expect(formatCsv(result)).toBe('name,f1,n,note\na,0.5,3,\nlonger name,0.123456,12,"x,""y"""\n');
  });

  test("CSV lines end in CRLF when asked (--crlf)", () => {
    expect(formatCsv(result, { crlf: true })).toBe('name,f1,n,note\r\na,0.5,3,\r\nlonger name,0.123456,12,"x,""y"""\r\n');
  });
});

describe("streamReadOnlyQuery", () => {
  async function streamed(sql: string, format: "table" | "csv" | "json"): Promise<{ text: string; pieces: number }> {
    const store = openReadOnly(path);
    const pieces: string[] = [];
    try {
      await streamReadOnlyQuery(store, sql, format, async (text) => void pieces.push(text));
    } finally {
      store.close();
    }
    return { text: pieces.join(""), pieces: pieces.length };
  }

  test("a table longer than its sample keeps the sampled widths and counts every row", async () => {
    const rows = TABLE_SAMPLE_ROWS + 5;
    const sql = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${rows}) SELECT x, 'row ' || x AS label FROM c`;
    const { text } = await streamed(sql, "table");
    const lines = text.split("\n");
    const width = String(TABLE_SAMPLE_ROWS).length;
    expect(lines[0]).toBe(`${"x".padStart(width)}  label`);
    expect(lines[2]).toBe(`${"1".padStart(width)}  row 1`);
    expect(lines[rows + 1]).toBe(`${rows}  row ${rows}`); // wider than the sample: printed whole
    expect(lines.at(-2)).toBe(`(${rows} rows)`);
  });

  test("output is handed on in pieces as rows arrive, the same text as formatting the whole result", async () => {
    const sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) SELECT x, printf('%050d', x) AS padding FROM c";
    const store = openReadOnly(path);
    const whole = runReadOnlyQuery(store, sql);
    store.close();
    const csv = await streamed(sql, "csv");
    expect(csv.pieces).toBeGreaterThan(1);
    expect(csv.text).toBe(formatCsv(whole));
    expect((await streamed(sql, "json")).text).toBe(JSON.stringify(JSON.parse(formatJson(whole)), null, 2) + "\n");
  });

  test("refuses what runReadOnlyQuery refuses (exit code 6) and changes nothing", async () => {
    for (const sql of ["DELETE FROM runs", "PRAGMA query_only = OFF", "DELETE FROM runs RETURNING *", "ATTACH DATABASE 'other.db' AS other"]) {
      const error = await streamed(sql, "csv").catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).message).toStartWith("musique query is read-only");
    }
    expect(runCount()).toBe(2);
  });

  test("a repeated column name keeps both columns in table and CSV", async () => {
    expect((await streamed("SELECT 1 AS a, 2 AS a", "csv")).text).toBe("a,a\n1,2\n");
  });
});

describe("musique query and musique runs", () => {
  test("integers above 2^53 are printed exactly in every format", async () => {
    const sql = "SELECT 9007199254740993 AS big, -9223372036854775808 AS smallest";
    const csv = await runCli(["query", sql, "--db", path, "--format", "csv"]);
    expect(csv.stdout).toBe("big,smallest\n9007199254740993,-9223372036854775808\n");
    const json = await runCli(["query", sql, "--db", path, "--format", "json"]);
    expect(json.stdout).toBe('[\n  {\n    "big": 9007199254740993,\n    "smallest": -9223372036854775808\n  }\n]\n');
    const table = await runCli(["query", sql, "--db", path]);
    expect(table.stdout).toContain("9007199254740993  -9223372036854775808");
  });

  test("musique query DELETE fails with a clear message and exit code 6; rows unchanged", async () => {
    const result = await runCli(["query", "DELETE FROM runs", "--db", path]);
    expect(result.exitCode).toBe(6);
    expect(result.stderr).toContain("musique query is read-only: the statement would change the database");
    expect(result.stdout).toBe("");
    expect(runCount()).toBe(2);
  });

  test("musique query prints an aligned table, CSV or JSON", async () => {
    const sql = "SELECT run_name, n, em FROM run_summary ORDER BY run_name";
    const table = await runCli(["query", sql, "--db", path]);
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toBe(
      [
        "run_name  n                 em",
        "--------  -  -----------------",
        "eval-one  3  0.666666666666667",
        "eval-two  0               NULL",
        "(2 rows)",
        "",
      ].join("\n"),
    );
    const csv = await runCli(["query", sql, "--db", path, "--format", "csv"]);
    expect(csv.stdout).toBe("run_name,n,em\neval-one,3,0.6666666666666666\neval-two,0,\n");
    const crlf = await runCli(["query", sql, "--db", path, "--format", "csv", "--crlf"]);
    expect(crlf.stdout).toBe("run_name,n,em\r\neval-one,3,0.6666666666666666\r\neval-two,0,\r\n");
    const json = await runCli(["query", sql, "--db", path, "--format", "json"]);
    expect(JSON.parse(json.stdout)).toEqual([
      { run_name: "eval-one", n: 3, em: 2 / 3 },
      { run_name: "eval-two", n: 0, em: null },
    ]);
  });

  test("musique query on a missing database says so, exits 6 and creates no file", async () => {
    const missing = directory.database("missing.db");
    const result = await runCli(["query", "SELECT 1", "--db", missing]);
    expect(result.exitCode).toBe(6);
    expect(result.stderr).toContain(`no database at ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });

  test("musique runs lists runs newest first: what ran (model, retriever, hops, temperature), status and scores", async () => {
    const result = await runCli(["runs", "--db", path]);
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^run\s+kind\s+status\s+steps\s+model\s+retriever\s+hops\s+T\s+n\s+missing\s+EM\s+F1\s+reward\s+tags$/);
    expect(lines[2]).toMatch(/^eval-two\s+evaluate\s+running\s+-\s+-\s+-\s+-\s+-\s+0\s+0\s+-\s+-\s+-\s+-$/);
    expect(lines[3]).toMatch(/^eval-one\s+evaluate\s+completed\s+-\s+Qwen2\.5-7B-Instruct\s+lexical\s+2\s+0\.5\s+3\s+0\s+0\.667\s+0\.667\s+0\.680\s+-$/);
    expect(result.stdout).toContain("reward (v1) = hop weight × (0.8 × (0.6·EM + 0.3·F1) + 0.2·recall), from 0 to 1.84");
  });

  test("musique runs --wide adds start time, the step of the scores, recall, support F1, format failures, calls, tokens, dataset and the full model", async () => {
    const result = await runCli(["runs", "--db", path, "--wide"]);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/\sreward\s+tags\s+started\s+scored after\s+recall\s+support F1\s+format fail\s+calls\s+tokens\s+dataset$/);
    expect(lines[3]).toMatch(/^eval-one\s+evaluate\s+completed\s+-\s+Qwen\/Qwen2\.5-7B-Instruct\s.*\s1\.000\s+1\.000\s+0\s+15\s+1800\s+-$/);
  });

  test("musique runs fits 120 columns with long run and model names (cut with …); a run recorded with camelCase settings still shows them", async () => {
    const database = directory.database("wide.db");
    const store = openStore(database);
    createRun(store, {
      name: "evaluate-a-rather-long-run-name-with-every-setting-in-it-20260101-120000-abcdef",
      kind: "evaluate",
      config: { numHops: "auto", temperature: 0.7, reward: "v2" },
      toolVersion: "test",
      model: "some-organisation/an-extremely-long-model-name-with-a-quantisation-suffix-AWQ-4bit",
      retriever: "hybrid",
    });
    store.close();
    const result = await runCli(["runs", "--db", database]);
    expect(result.exitCode).toBe(0);
    expect(Math.max(...result.stdout.split("\n").map((line) => Bun.stringWidth(line)))).toBeLessThanOrEqual(120);
    expect(result.stdout).toMatch(/^evaluate-a-rather[^ ]*…\s+evaluate\s+running\s+-\s+an-extremely[^ ]*…\s+hybrid\s+auto\s+0\.7\s/m);
    const wide = await runCli(["runs", "--db", database, "--wide"]);
    expect(wide.stdout).toContain("some-organisation/an-extremely-long-model-name-with-a-quantisation-suffix-AWQ-4bit");
  });

  test("a REAL is printed as SQLite's shell prints it (printf %!.15g), an INTEGER whole", () => {
    // Each pair: the value, and what sqlite3 3.40.1's shell prints for it.
    const shell: Array<[number | bigint, string]> = [
      [0.667, "0.667"],
      [0, "0.0"],
      [1, "1.0"],
      [2.5, "2.5"],
      [-2.5, "-2.5"],
      [1 / 3, "0.333333333333333"],
      [2 / 3, "0.666666666666667"],
      [0.1 + 0.2, "0.3"],
      [123456789012.5, "123456789012.5"],
      [1e14, "100000000000000.0"],
      [99999999999999.9, "99999999999999.9"],
      [1e15, "1.0e+15"],
      [1e20, "1.0e+20"],
      [1e-4, "0.0001"],
      [1e-5, "1.0e-05"],
      [-1e-7, "-1.0e-07"],
      [1.5e300, "1.5e+300"],
      [Infinity, "Inf"],
      [12345678901234567890n, "12345678901234567890"],
      [10n, "10"],
    ];
    for (const [value, printed] of shell) expect(`${String(value)} → ${sqliteNumber(value)}`).toBe(`${String(value)} → ${printed}`);
  });

  test("musique query prints numbers as SQLite gives them: round(x, 3) is 0.667, integers whole", async () => {
    const result = await runCli([
      "query",
      "SELECT round(em, 3) AS em, round(2.0/3, 2) AS two, 0.1 + 0.2 AS sum, 10 AS ten FROM run_summary WHERE run_name = 'eval-one'",
      "--db",
      path,
    ]);
    expect(result.stdout.split("\n")[2]).toBe("0.667  0.67  0.3   10");
  });

  test("musique query cuts a long cell at --max-width (80) with … and says how many were cut; --max-width 0 never cuts", async () => {
    const sql = "SELECT printf('%.100c', 'x') AS long, 'short' AS short";
    const cut = await runCli(["query", sql, "--db", path]);
    expect(cut.stdout).toContain(`${"x".repeat(79)}…  short`);
    expect(cut.stdout).toContain("(1 cell cut at 80 characters, ending in …: --max-width 0 shows them whole, --format csv or json never cuts)");
    const narrow = await runCli(["query", sql, "--db", path, "--max-width", "10"]);
    expect(narrow.stdout).toContain(`${"x".repeat(9)}…  short`);
    const whole = await runCli(["query", sql, "--db", path, "--max-width", "0"]);
    expect(whole.stdout).toContain(`${"x".repeat(100)}  short`);
    expect(whole.stdout).not.toContain("cut at");
  });

  test("musique runs --json prints the summaries", async () => {
    const result = await runCli(["runs", "--db", path, "--json"]);
    const runs = JSON.parse(result.stdout) as { name: string; n: number; status: string }[];
    expect(runs.map((run) => [run.name, run.status, run.n])).toEqual([
      ["eval-two", "running", 0],
      ["eval-one", "completed", 3],
    ]);
  });

  test("musique runs on a missing database exits 6 without creating it", async () => {
    const missing = directory.database("nothing-here.db");
    const result = await runCli(["runs", "--db", missing]);
    expect(result.exitCode).toBe(6);
    expect(existsSync(missing)).toBe(false);
  });
});
