import { describe, expect, test } from "bun:test";
import { ExitCode, UsageError } from "../../src/errors.ts";
import { parseCommandLine, resolveOptions } from "../../src/config/resolve.ts";
import { EvaluateSchema, TrainSchema, QuerySchema, CompareSchema } from "../../src/config/schemas.ts";
import { defaultDatabasePath } from "../../src/config/defaults.ts";
import * as v from "valibot";
import { commandSchema, flagsOf, type CommandSchema } from "../../src/config/flags.ts";
import * as schemas from "../../src/config/schemas.ts";

function evaluate(words: string[], env: Record<string, string> = {}) {
  return resolveOptions(EvaluateSchema, parseCommandLine(words, EvaluateSchema), env);
}
function train(words: string[], env: Record<string, string> = {}) {
  return resolveOptions(TrainSchema, parseCommandLine(words, TrainSchema), env);
}
function usageMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.usage);
    return (error as UsageError).describe();
  }
  throw new Error("expected a usage error");
}

describe("a flag is defined in one place", () => {
  test("a schema entry without its description and metadata does not type-check", () => {
    // @ts-expect-error a plain valibot schema is not a flag: flag(schema, description, metadata) is required
    const schema = commandSchema({ bare: v.optional(v.string()) });
    expect(Object.keys(schema.entries)).toEqual(["bare"]);
  });

  test("every flag of every command has a description, a group and a name", () => {
    for (const schema of Object.values(schemas)) {
      if (typeof schema !== "object" || !("entries" in schema)) continue;
      for (const flag of flagsOf(schema as CommandSchema)) {
        expect(flag.description.length).toBeGreaterThan(0);
        expect(flag.name).toMatch(/^[a-z][a-z0-9-]*$/);
        // --help's "Arguments" section holds the positional arguments and nothing else
        expect(flag.group === "arguments").toBe(flag.kind === "positional" || flag.kind === "positionals");
      }
    }
  });
});

describe("defaults", () => {
  test("train uses the reference script's defaults", () => {
    const options = train([]);
    expect(options.model).toBe("Qwen/Qwen2.5-7B-Instruct");
    expect(options.port).toBe(7453);
    expect(options.temperature).toBe(0.7);
    expect(options.datasets).toBe("bdsaglam/musique,answerable,train");
    expect(options.evalDatasets).toBe("bdsaglam/musique,answerable,validation");
    expect(options.noiseRate).toBe(1);
    expect(options.retriever).toBe("hybrid");
    expect(options.topN).toBe(2);
    expect(options.numHops).toBe(2);
    expect(options.numTrainSteps).toBe(500);
    expect(options.learningRate).toBe(2e-5);
    expect(options.klBeta).toBe(0.04);
    expect(options.useLora).toBe(true);
    expect(options.outputDir).toBe("./outputs");
    expect(options.db).toBe(defaultDatabasePath());
    expect(options.trainSize).toBeUndefined();
  });

  test("evaluate samples at temperature 0.5", () => {
    expect(evaluate([]).temperature).toBe(0.5);
  });
});

describe("flag parsing", () => {
  test("numbers, enums and booleans are converted", () => {
    const options = train(["--top-n", "3", "--retriever=lexical", "--no-lora", "--num-hops", "gold", "--seed", "7"]);
    expect(options.topN).toBe(3);
    expect(options.retriever).toBe("lexical");
    expect(options.useLora).toBe(false);
    expect(options.numHops).toBe("gold");
    expect(options.seed).toBe(7);
  });

  test("--use-lora turns LoRA on, --num-hops auto is accepted", () => {
    expect(train(["--use-lora", "--num-hops", "auto"])).toMatchObject({ useLora: true, numHops: "auto" });
  });

  test("--base-url may be repeated or comma-separated", () => {
    expect(evaluate(["--base-url", "http://a:1/v1", "--base-url", "http://b:2/v1,http://c:3/v1"]).baseUrl).toEqual([
      "http://a:1/v1",
      "http://b:2/v1",
      "http://c:3/v1",
    ]);
  });

  test("environment variables apply when the flag is absent, flags win", () => {
    expect(evaluate([], { OPENAI_BASE_URL: "http://env:9/v1" }).baseUrl).toEqual(["http://env:9/v1"]);
    expect(evaluate(["--base-url", "http://flag:1/v1"], { OPENAI_BASE_URL: "http://env:9/v1" }).baseUrl).toEqual(["http://flag:1/v1"]);
    expect(evaluate([], { RERANK_API_KEY: "k" }).rerankApiKey).toBe("k");
  });

  test("--retriever bm25 is lexical (BM25 is what lexical is)", () => {
    expect(evaluate(["--retriever", "bm25"]).retriever).toBe("lexical");
  });

  test("booleans: --no-cache, --cache=false, --lora, --no-use-lora", () => {
    expect(evaluate(["--no-cache"]).cache).toBe(false);
    expect(evaluate(["--cache=false"]).cache).toBe(false);
    expect(evaluate([]).cache).toBe(true);
    expect(train(["--no-lora", "--lora"]).useLora).toBe(true);
    expect(train(["--no-use-lora"]).useLora).toBe(false);
  });

  test("a value may start with '-' (a negative number) and the last of a repeated flag wins", () => {
    expect(usageMessage(() => evaluate(["--seed", "-5"]))).toContain("--seed -5: must be at least 0");
    expect(evaluate(["--top-n", "3", "--top-n=5"]).topN).toBe(5);
  });

  test("SQL starting with a comment is the argument; after -- every word is one", () => {
    const comment = "-- note\nSELECT 1";
    expect(resolveOptions(QuerySchema, parseCommandLine([comment], QuerySchema), {}).sql).toBe(comment);
    expect(resolveOptions(QuerySchema, parseCommandLine(["--format", "csv", "--", "--json"], QuerySchema), {})).toMatchObject({
      sql: "--json",
      format: "csv",
      json: false,
    });
  });

  test("positional arguments", () => {
    const query = resolveOptions(QuerySchema, parseCommandLine(["SELECT 1", "--format", "csv"], QuerySchema), {});
    expect(query).toMatchObject({ sql: "SELECT 1", format: "csv" });
    const compare = resolveOptions(CompareSchema, parseCommandLine(["a", "b", "c"], CompareSchema), {});
    expect(compare.runs).toEqual(["a", "b", "c"]);
  });
});

describe("bad input gets one clear message", () => {
  const cases: Array<[string[], string]> = [
    [["--noise-rate", "1.5"], "--noise-rate 1.5: must be between 0 and 1"],
    [["--noise-rate", "abc"], "--noise-rate abc: must be a number between 0 and 1"],
    [["--top-n", "0"], "--top-n 0: must be between 1 and 20"],
    [["--top-n", "2.5"], "--top-n 2.5: must be a whole number between 1 and 20"],
    [["--num-hops", "7"], '--num-hops 7: must be a whole number from 1 to 6, "auto" or "gold"'],
    [["--retriever", "lexcal"], '--retriever lexcal: must be one of lexical, semantic, hybrid, golden (did you mean "lexical"?)'],
    [["--port", "70000"], "--port 70000: must be between 1 and 65535"],
    [["--base-url", "localhost:8000"], "--base-url localhost:8000: every value must be an http:// or https:// URL"],
    [["--temperature", "-1"], "--temperature -1: must be between 0 and 2"],
    [["--run-name", "a b"], "--run-name a b: must be letters, digits"],
    [["--nosie-rate", "0.5"], "unknown flag --nosie-rate\n  fix:   did you mean --noise-rate?"],
    [["--model"], "--model needs a value"],
    [["--model", "--json"], "--model needs a value"],
    [["-x"], "unknown flag -x"],
    [["--no-cache=1"], "--no-cache takes no value"],
    [["--no-model"], "unknown flag --no-model"],
    [["extra"], 'unexpected argument "extra"'],
  ];
  for (const [words, expected] of cases) {
    test(`${words.join(" ")} → ${expected.split("\n")[0]}`, () => {
      expect(usageMessage(() => evaluate(words))).toContain(expected);
    });
  }

  test("a bad environment value names the variable", () => {
    expect(usageMessage(() => evaluate([], { OPENAI_BASE_URL: "nope" }))).toContain("OPENAI_BASE_URL=nope");
  });

  test("train rejects a rollout count below 2", () => {
    expect(usageMessage(() => train(["--num-rollouts-per-step", "1"]))).toContain("--num-rollouts-per-step 1: must be at least 2");
  });

  test("a missing positional names it", () => {
    expect(usageMessage(() => resolveOptions(QuerySchema, parseCommandLine([], QuerySchema), {}))).toContain("missing argument <sql>");
  });
});
