/**
 * The DSPy compatibility features through the command line (the compiled binary under
 * `bun run test`): `musique evaluate` against the replay of DSPy's recorded run sends DSPy's
 * requests and records DSPy's scores; `--program FILE` sends the file's prompts and every run
 * writes the program it used as a DSPy program file; a file for another program is refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_PROGRAM } from "../../src/program/signatures.ts";
import { parseProgramFile, programFileText, savedModules } from "../../src/program/program-file.ts";
import { startFakeOpenAI } from "../fakes/openai.ts";
import { startReplayLm, type TranscriptRow } from "../fakes/replay-lm.ts";
import { runCli } from "../helpers/cli.ts";
import { REFERENCE_DIR, recordsJsonl, referenceLines, referenceText } from "../helpers/dspy-reference.ts";
import { expectedRequests, type DspyPrediction } from "../program/parity-helpers.ts";

let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), "musique-dspy-cli-"));
});
afterAll(() => {});

function common(run: string, baseUrl: string, datasets: string, model = "fake"): string[] {
  return [
    "--base-url",
    baseUrl,
    "--api-key",
    "x",
    "--model",
    model,
    "--datasets",
    datasets,
    "--db",
    join(directory, "m.db"),
    "--output-dir",
    join(directory, "out"),
    "--run-name",
    run,
  ];
}

describe("musique evaluate replaying DSPy's recorded lexical-gold run", () => {
  test("every request equals DSPy's (no extra keys), and every example records DSPy's answer and score", async () => {
    const rows = referenceLines<TranscriptRow>("lexical-gold.transcript.jsonl.gz");
    const predictions = referenceLines<DspyPrediction>("lexical-gold.predictions.jsonl.gz");
    const datasets = join(directory, "records.jsonl");
    writeFileSync(datasets, recordsJsonl(predictions.map((prediction) => prediction.example_id)));
    const replay = await startReplayLm(rows);
    try {
      const args = ["evaluate", ...common("lexical-gold", replay.baseUrl, datasets), "--retriever", "lexical", "--num-hops", "gold"];
      const result = await runCli([...args, "--reward", "v2", "--temperature", "0", "--no-cache", "--concurrency", "4"]);
      expect(result.exitCode).toBe(0);
    } finally {
      await replay.stop();
    }
    const chat = replay.log.filter((entry) => entry.body.messages !== undefined && (entry.body.max_tokens as number) > 1);
    expect(chat.filter((entry) => !entry.matched || entry.extraKeys.length > 0).map((entry) => entry.diff ?? entry.extraKeys.join(","))).toEqual([]);
    const byExample = new Map<string, TranscriptRow[]>();
    for (const row of rows) byExample.set(row.example_id, [...(byExample.get(row.example_id) ?? []), row]);
    const expectedCount = predictions.reduce((sum, prediction) => sum + expectedRequests(byExample.get(prediction.example_id) ?? [], true).rows.length, 0);
    expect(chat.length).toBe(expectedCount);

    const database = new Database(join(directory, "m.db"), { readonly: true });
    try {
      const recorded = database
        .query("SELECT example_id, answer, reward, status FROM predictions WHERE run_id = (SELECT id FROM runs WHERE name = 'lexical-gold')")
        .all() as Array<{ example_id: string; answer: string | null; reward: number; status: string }>;
      const ours = new Map(recorded.map((row) => [row.example_id, row]));
      for (const prediction of predictions) {
        const stop = expectedRequests(byExample.get(prediction.example_id) ?? [], true).stop;
        const row = ours.get(prediction.example_id);
        const expected =
          stop === "empty"
            ? { answer: null, reward: 0, status: "format_failure" }
            : {
                answer: prediction.answer,
                reward: prediction.evaluate_score,
                status: prediction.outcome === "answer" ? "ok" : "format_failure",
              };
        expect({ id: prediction.example_id, answer: row?.answer, reward: Number(row?.reward.toFixed(12)), status: row?.status }).toEqual({
          id: prediction.example_id,
          ...expected,
          reward: Number(expected.reward.toFixed(12)),
        });
      }
    } finally {
      database.close();
    }
    // README query 6 counts the calls the JSON fallback rescued.
    const readme = readFileSync(join(import.meta.dir, "..", "..", "README.md"), "utf8");
    const sql = /# 6\. .*\nmusique query "(.*)"/.exec(readme)?.[1]?.replace("'RUN'", "'lexical-gold'") ?? "";
    const query = await runCli(["query", sql, "--db", join(directory, "m.db"), "--format", "json"]);
    expect(query.exitCode).toBe(0);
    const counts = JSON.parse(query.stdout) as Array<{ module: string; fell_back: number; rescued: number }>;
    // In DSPy's transcript: every json_schema call is a fallback; it rescued the call when it or
    // the json_object call after it parsed.
    const parsed = new Set(["json", "json_fenced", "json_list_main", "json_padded"]);
    const fellBack = rows.filter((row) => row.adapter === "json_schema").length;
    const rescued = rows.filter((row) => row.adapter !== "chat" && parsed.has(row.variant)).length;
    expect(counts.reduce((sum, row) => sum + row.fell_back, 0)).toBe(fellBack);
    expect(counts.reduce((sum, row) => sum + row.rescued, 0)).toBe(rescued);
    // The run wrote the program it used, in DSPy's format.
    expect(readFileSync(join(directory, "out", "lexical-gold", "program.json"), "utf8")).toBe(programFileText(DEFAULT_PROGRAM, savedModules(false)));
  }, 60_000);
});

describe("--program FILE", () => {
  test("evaluate sends the prompts of a DSPy-saved program (instructions, demos) and writes it back as program.json", async () => {
    const fake = await startFakeOpenAI();
    try {
      const file = join(REFERENCE_DIR, "program-file", "c-instructions-demos.program.json");
      const recorded = referenceLines<{ record_id: string; messages: unknown }>("program-file/c-instructions-demos.messages.jsonl.gz");
      const first = recorded[0];
      const datasets = join(directory, "record41.jsonl");
      writeFileSync(datasets, recordsJsonl([first?.record_id ?? ""]));
      const args = [
        "evaluate",
        ...common("with-program", fake.baseUrl, datasets, "Qwen/Qwen2.5-7B-Instruct"),
        "--retriever",
        "golden",
        "--num-hops",
        "2",
        "--program",
        file,
      ];
      const result = await runCli([...args, "--temperature", "0", "--no-cache"]);
      expect(result.exitCode).toBe(0);
      const sent = fake.chatRequests().filter((request) => request.max_tokens !== 1);
      expect(sent[0]?.messages).toEqual(first?.messages as (typeof sent)[0]["messages"]);
      const written = readFileSync(join(directory, "out", "with-program", "program.json"), "utf8");
      expect(written).toBe(
        programFileText(parseProgramFile(referenceText("program-file/c-instructions-demos.program.json"), file).program, savedModules(false)),
      );
    } finally {
      await fake.stop();
    }
  }, 60_000);

  test("a file for another program exits 3 naming the predictors expected and found", async () => {
    const file = join(directory, "other.json");
    writeFileSync(
      file,
      JSON.stringify({ "classify.predict": { signature: { instructions: "x", fields: [] }, lm: null }, metadata: { dependency_versions: {} } }),
    );
    const result = await runCli([
      "ask",
      "--datasets",
      "sample",
      "--index",
      "0",
      "--retriever",
      "golden",
      "--base-url",
      "http://127.0.0.1:9/v1",
      "--program",
      file,
    ]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain("expected the predictors generate_query.predict, extract_info.predict, generate_answer.predict");
    expect(result.stderr).toContain("found classify.predict");
  });
});
