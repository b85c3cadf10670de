/**
 * From trained to evaluated (README "After training: serve, evaluate, compare"): training ends
 * with the commands to serve its checkpoint with vLLM and to evaluate and compare it; the
 * evaluate command, run against the served model, evaluates exactly the examples and settings of
 * the run's validations, so compare pairs them all and only the model differs.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeArbor } from "../fakes/arbor.ts";
import { dspyResponder, startFakeOpenAI } from "../fakes/openai.ts";
import { runCli } from "../helpers/cli.ts";
import { spreadResponder, trainArgs } from "../helpers/train.ts";
import { nextSteps, shellWord, VLLM_PORT } from "../../src/run/next-steps.ts";
import type { TrainOptions } from "../../src/config/schemas.ts";
import type { DevScores } from "../../src/grpo/evaluation.ts";
import type { CheckpointRecord } from "../../src/store/training.ts";
import { resolveOptions } from "../../src/config/resolve.ts";
import { TrainSchema } from "../../src/config/schemas.ts";

const servers: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

/** The words of a printed command as a POSIX shell splits them (plain words and '…' quotes). */
function shellWords(line: string): string[] {
  return [...line.trim().matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((match) =>
    match[1] !== undefined ? match[1].replaceAll("'\\''", "'") : (match[2] ?? ""),
  );
}

function printed(stdout: string, start: string): string[] {
  return stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith(start));
}

describe("musique train ends with the way to serve, evaluate and compare its checkpoint", () => {
  test("the printed evaluate command, run against the served checkpoint, evaluates the validation's examples: compare pairs all of them and only the model differs", async () => {
    const arbor = startFakeArbor({ responder: spreadResponder() });
    servers.push(arbor);
    const directory = mkdtempSync(join(tmpdir(), "musique-next-"));
    const database = join(directory, "m.db");
    const trained = await runCli(trainArgs({ arborUrl: arbor.baseUrl, database, outputDir: join(directory, "outputs"), run: "e2e" }));
    expect(trained.exitCode).toBe(0);
    const job = [...arbor.jobs.values()][0]?.id ?? "?";
    // The fake's validations never improve: the trained weights (checkpoint_final) are the ones to serve.
    expect(trained.stdout).toContain("no validation beat the one before training");
    expect(printed(trained.stdout, "curl -X POST")).toEqual([
      `curl -X POST ${arbor.baseUrl}fine_tuning/grpo/cancel -H 'content-type: application/json' -d '{"job_id":"${job}"}'`,
    ]);
    const [serve] = printed(trained.stdout, "vllm serve");
    expect(shellWords(serve ?? "")).toEqual([
      "vllm",
      "serve",
      "Qwen/Qwen2.5-7B-Instruct",
      "--enable-lora",
      "--lora-modules",
      `e2e-final=/home/fake/.arbor/storage/${job}/checkpoints/checkpoint_final`,
      "--max-lora-rank",
      "16",
      "--port",
      String(VLLM_PORT),
    ]);

    // vLLM serving the adapter under its module name.
    const served = await startFakeOpenAI({ responder: dspyResponder(), models: ["e2e-final"] });
    servers.push(served);
    const [evaluate] = printed(trained.stdout, "musique evaluate");
    const words = shellWords(evaluate ?? "")
      .slice(1)
      .map((word) => (word === `http://localhost:${VLLM_PORT}/v1` ? served.baseUrl : word));
    const evaluated = await runCli([...words, "--output-dir", join(directory, "outputs")]);
    expect(evaluated.exitCode).toBe(0);

    const [compare] = printed(trained.stdout, "musique compare");
    const compared = await runCli([...shellWords(compare ?? "").slice(1), "--json"]);
    expect(compared.exitCode).toBe(0);
    const document = JSON.parse(compared.stdout) as { paired: number; warnings: Array<{ kind: string }> };
    expect(document.paired).toBe(6);
    expect(document.warnings.map((warning) => warning.kind)).toEqual(["model"]);
  }, 60_000);
});

function options(overrides: Record<string, unknown> = {}): TrainOptions {
  return { ...resolveOptions(TrainSchema, {}, {}), runName: "run", ...overrides } as TrainOptions;
}

function scores(step: number, reward = 0.5): DevScores {
  return { step, reward, em: 0, f1: 0, recall: 0, supportF1: 0, examples: 6, formatFailures: 0, lmErrors: 0 };
}

function checkpoint(name: string, step: number, jobId = "job-1"): CheckpointRecord {
  return { name, step, directory: `/storage/${jobId}/checkpoints/${name}`, jobId };
}

const INPUT = { run: "run", database: "/data/m.db", arborUrl: "http://arbor:7453/v1/" };

describe("the commands after training", () => {
  test("full weights are served as the checkpoint folder under the run's name; LoRA as an adapter of --model", () => {
    const checkpoints = [checkpoint("best", 0), checkpoint("best", 20, "job-2"), checkpoint("checkpoint_final", 30, "job-2")];
    const full = nextSteps({ ...INPUT, options: options({ useLora: false }), best: scores(20), checkpoints });
    expect(full?.serve).toBe(`vllm serve /storage/job-2/checkpoints/best --served-model-name run-best --port ${VLLM_PORT}`);
    expect(full?.checkpoint).toMatchObject({ name: "best", step: 20, jobId: "job-2", lora: false });
    expect(full?.note).toBeNull();
    const lora = nextSteps({ ...INPUT, options: options({ useLora: true, loraR: 32 }), best: scores(20), checkpoints });
    expect(lora?.serve).toBe(
      `vllm serve Qwen/Qwen2.5-7B-Instruct --enable-lora --lora-modules run-best=/storage/job-2/checkpoints/best --max-lora-rank 32 --port ${VLLM_PORT}`,
    );
    expect(lora?.compare).toEqual(["musique compare run@0 run-best-eval --db /data/m.db", "musique compare run@0 run@best --db /data/m.db"]);
  });

  test("--checkpoint improvements: the best validation's step_N folder", () => {
    const next = nextSteps({
      ...INPUT,
      options: options({ checkpoint: "improvements" }),
      best: scores(10),
      checkpoints: [checkpoint("step_0", 0), checkpoint("step_10", 10), checkpoint("checkpoint_final", 20)],
    });
    expect(next?.checkpoint.name).toBe("step_10");
  });

  test("--checkpoint none: checkpoint_final, saying it is not the best validation's", () => {
    const next = nextSteps({ ...INPUT, options: options({ checkpoint: "none" }), best: scores(10), checkpoints: [checkpoint("checkpoint_final", 20)] });
    expect(next?.checkpoint.name).toBe("checkpoint_final");
    expect(next?.note).toBe(
      "no checkpoint holds the best validation (after 10 steps; --checkpoint none): the commands serve checkpoint_final (after 20 steps)",
    );
  });

  test("the evaluate command repeats what the validations evaluated, quoting what a shell would split", () => {
    const next = nextSteps({
      ...INPUT,
      options: options({
        evalDatasets: "a.jsonl;b.jsonl",
        devSize: 50,
        retriever: "hybrid",
        rerankUrl: "http://node:8931",
        numHops: "auto",
        maxHops: 3,
        noiseRate: 0.5,
        temperature: 0.7,
        jsonFallback: false,
      }),
      best: scores(10),
      checkpoints: [checkpoint("best", 10)],
    });
    expect(next?.evaluate).toBe(
      `musique evaluate --base-url http://localhost:${VLLM_PORT}/v1 --model run-best --datasets 'a.jsonl;b.jsonl' --test-size 50 --retriever hybrid --top-n 2 ` +
        "--num-hops auto --max-hops 3 --temperature 0.7 --reward v1 --seed 89 --noise-rate 0.5 --no-json-fallback --rerank-url http://node:8931 --run-name run-best-eval --db /data/m.db",
    );
    expect(shellWord("it's")).toBe(`'it'\\''s'`);
  });

  test("no checkpoint folder recorded: nothing to serve", () => {
    expect(nextSteps({ ...INPUT, options: options(), best: scores(10), checkpoints: [] })).toBeNull();
  });
});
