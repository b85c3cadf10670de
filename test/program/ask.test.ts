import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runCli } from "../helpers/cli.ts";
import { startFakeOpenAI, type FakeOpenAI } from "../fakes/openai.ts";

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake.stop());

function ask(...extra: string[]) {
  return runCli(["ask", "--base-url", fake.baseUrl, "--retriever", "lexical", "--datasets", "sample", ...extra]);
}

describe("musique ask", () => {
  test("prints the trajectory of example 0: hops, documents (supporting marked), answer, gold and scores", async () => {
    const result = await ask("--index", "0");
    expect(result.exitCode).toBe(0);
    const out = result.stdout;
    expect(out).toContain("Question: When was the first branch of the company that bought FleetBoston Financial established?");
    expect(out).toContain("Example:  2hop__6827_55848 (2 hops, supporting paragraphs 2, 17)");
    expect(out).toContain("Hop 1\n  query: When was the first branch");
    expect(out).toContain("    * [17] Bank of America");
    expect(out).toContain("      [5] Bank of America");
    expect(out).toContain("  key information: Bank of America");
    expect(out).toContain("Answer: Bank of America\nGold:   November 3, 1930");
    expect(out).toMatch(/EM 0\.00 {2}F1 0\.00 {2}recall 0\.50/);
    expect(out).toContain("LM calls: 4");
  });

  test("--json prints the same data as one JSON document", async () => {
    const result = await ask("--id", "2hop__6827_55848", "--json");
    expect(result.exitCode).toBe(0);
    const data = JSON.parse(result.stdout) as {
      example: { id: string; answers: string[]; supportingIds: string[] };
      answer: string;
      scores: { em: number; f1: number; recall: number };
      result: { calls: Array<{ module: string; status: string }>; hops: Array<{ query: string }>; retrievedIds: string[] };
    };
    expect(data.example.id).toBe("2hop__6827_55848");
    expect(data.example.answers[0]).toBe("November 3, 1930");
    expect(data.answer).toBe("Bank of America");
    expect(data.scores).toMatchObject({ em: 0, f1: 0, recall: 0.5 });
    expect(data.result.calls.map((call) => call.module)).toEqual(["extract_information", "generate_query", "extract_information", "generate_answer"]);
    expect(data.result.retrievedIds).toContain("17");
  });

  test("a free question is matched to the dataset question it resembles", async () => {
    const result = await ask("When was the first branch of the company that bought FleetBoston Financial founded?");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("Example:  2hop__6827_55848");
    expect(result.stdout).toContain("(the example's own question: When was the first branch");
  });

  test("an unknown --id exits 2 and says how to find ids", async () => {
    const result = await ask("--id", "nope");
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('no example with id "nope"');
  });

  test("an unreachable LM exits 4 with the URL and how to start the server", async () => {
    const gone = await startFakeOpenAI();
    await gone.stop();
    const result = await runCli(["ask", "--base-url", gone.baseUrl, "--retriever", "lexical", "--datasets", "sample", "--index", "0"]);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain(gone.baseUrl);
    expect(result.stderr).toContain("arbor.cli serve");
  });

  test("a model the server does not list exits 5 and names the served models", async () => {
    const other = await startFakeOpenAI({ models: ["some/other-model"] });
    const result = await runCli(["ask", "--base-url", other.baseUrl, "--retriever", "lexical", "--datasets", "sample", "--index", "0"]);
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toContain("some/other-model");
    await other.stop();
  });
});
