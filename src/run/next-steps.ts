/**
 * From trained to evaluated (issue 17 item 4; README "After training: serve, evaluate, compare"):
 * the commands `musique train` ends with — free the GPUs the Arbor job still holds, serve the best
 * checkpoint with vLLM (a LoRA adapter on top of the base model with --enable-lora
 * --lora-modules, or full weights), evaluate the served model exactly as the run's validations
 * evaluated (same examples, retriever, hops, temperature, reward, seed), and compare it with the
 * validation before training. Built from the run's settings and recorded checkpoints; nothing
 * here runs anything.
 */
import { DEFAULTS } from "../config/defaults.ts";
import type { TrainOptions } from "../config/schemas.ts";
import { cancelCommand } from "../grpo/arbor-errors.ts";
import type { DevScores } from "../grpo/evaluation.ts";
import type { CheckpointRecord } from "../store/training.ts";

/** The port the printed vLLM command serves on (vLLM's own default). */
export const VLLM_PORT = 8000;

export interface NextSteps {
  /** The checkpoint the commands serve: the best validation's, else the last one saved. */
  checkpoint: { name: string; directory: string; step: number; jobId: string; lora: boolean };
  /** The name the served model answers to (--served-model-name / the LoRA module name). */
  servedName: string;
  /** Why this checkpoint and not the best validation's, when they differ. */
  note: string | null;
  /** Ending the Arbor job that still holds every GPU of the node (terminate keeps them). */
  freeGpus: string | null;
  serve: string;
  evaluate: string;
  compare: string[];
}

/** A word for a POSIX shell: as it is when it has nothing special, else in single quotes. */
export function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

function command(words: ReadonlyArray<string | number>): string {
  return words.map((word) => shellWord(String(word))).join(" ");
}

/** The checkpoint holding the best validation (the last one saved under its name), else null. */
function bestCheckpoint(checkpoints: readonly CheckpointRecord[], best: DevScores): CheckpointRecord | null {
  const names = new Set(["best", `step_${best.step}`]);
  return checkpoints.filter((checkpoint) => checkpoint.directory !== null && checkpoint.step === best.step && names.has(checkpoint.name)).at(-1) ?? null;
}

/** The flags that make `musique evaluate` evaluate what the run's validations evaluated. */
function evaluationFlags(options: TrainOptions): Array<string | number> {
  const flags: Array<string | number> = ["--datasets", options.evalDatasets];
  if (options.devSize !== undefined) flags.push("--test-size", options.devSize);
  if (options.revision !== undefined) flags.push("--revision", options.revision);
  flags.push("--retriever", options.retriever, "--top-n", options.topN, "--num-hops", options.numHops);
  if (options.numHops === "auto") flags.push("--max-hops", options.maxHops);
  flags.push("--temperature", options.temperature, "--reward", options.reward, "--seed", options.seed);
  if (options.noiseRate !== DEFAULTS.noiseRate) flags.push("--noise-rate", options.noiseRate);
  if (options.maxTokens !== DEFAULTS.maxTokens) flags.push("--max-tokens", options.maxTokens);
  if (options.topP !== undefined) flags.push("--top-p", options.topP);
  if (!options.jsonFallback) flags.push("--no-json-fallback");
  if (options.program !== undefined) flags.push("--program", options.program);
  if (options.retriever === "semantic" || options.retriever === "hybrid") {
    if (options.rerankUrl !== DEFAULTS.rerankUrl) flags.push("--rerank-url", options.rerankUrl);
    if (options.rerankApi !== DEFAULTS.rerankApi) flags.push("--rerank-api", options.rerankApi);
    if (options.rerankModel !== DEFAULTS.rerankModel) flags.push("--rerank-model", options.rerankModel);
  }
  if (options.skipInvalid) flags.push("--skip-invalid");
  return flags;
}

export interface NextStepsInput {
  options: TrainOptions;
  run: string;
  database: string;
  /** Arbor's base URL (…/v1/), for the cancel command. */
  arborUrl: string;
  best: DevScores | null;
  checkpoints: readonly CheckpointRecord[];
}

/** The commands after a finished training run, or null when no checkpoint folder was recorded (nothing to serve). */
export function nextSteps(input: NextStepsInput): NextSteps | null {
  const { options, run, database, best, checkpoints } = input;
  const saved = checkpoints.filter((checkpoint) => checkpoint.directory !== null);
  const last = saved.filter((checkpoint) => checkpoint.name === "checkpoint_final").at(-1) ?? saved.at(-1);
  // A best validation before training is the base model: the trained weights are worth serving instead.
  const found = best && best.step > 0 ? bestCheckpoint(saved, best) : null;
  const chosen = found ?? last;
  if (!chosen?.directory) return null;
  let note: string | null = null;
  if (!found && best) {
    note =
      best.step === 0
        ? `no validation beat the one before training (reward ${best.reward.toFixed(4)}): the base model is the best; the commands serve ${chosen.name} (after ${chosen.step} steps) to compare with it`
        : `no checkpoint holds the best validation (after ${best.step} steps; --checkpoint ${options.checkpoint}): the commands serve ${chosen.name} (after ${chosen.step} steps)`;
  }
  const lora = options.useLora;
  const servedName = `${run}-${found ? "best" : chosen.name === "checkpoint_final" ? "final" : chosen.name}`;
  const serve = lora
    ? command([
        "vllm",
        "serve",
        options.model,
        "--enable-lora",
        "--lora-modules",
        `${servedName}=${chosen.directory}`,
        "--max-lora-rank",
        options.loraR,
        "--port",
        VLLM_PORT,
      ])
    : command(["vllm", "serve", chosen.directory, "--served-model-name", servedName, "--port", VLLM_PORT]);
  const evaluationRun = `${servedName}-eval`;
  const evaluate = command([
    "musique",
    "evaluate",
    "--base-url",
    `http://localhost:${VLLM_PORT}/v1`,
    "--model",
    servedName,
    ...evaluationFlags(options),
    "--run-name",
    evaluationRun,
    "--db",
    database,
  ]);
  const compare = [command(["musique", "compare", `${run}@0`, evaluationRun, "--db", database])];
  if (best && best.step > 0) compare.push(command(["musique", "compare", `${run}@0`, `${run}@best`, "--db", database]));
  return {
    checkpoint: { name: chosen.name, directory: chosen.directory, step: chosen.step, jobId: chosen.jobId ?? "", lora },
    servedName,
    note,
    freeGpus: chosen.jobId ? cancelCommand(input.arborUrl, chosen.jobId) : null,
    serve,
    evaluate,
    compare,
  };
}

/** The lines `musique train` prints at its end. */
export function nextStepsLines(next: NextSteps): string[] {
  const { checkpoint } = next;
  const lines = [
    "",
    `next: serve ${checkpoint.name} (after ${checkpoint.step} steps; ${checkpoint.lora ? "a LoRA adapter on top of the base model" : "full weights"}) with vLLM, on the machine that holds ${checkpoint.directory}:`,
  ];
  if (next.note) lines.push(`  (${next.note})`);
  if (next.freeGpus) lines.push(`  # Arbor's job still holds the node's GPUs; free them first:`, `  ${next.freeGpus}`);
  lines.push(`  ${next.serve}`);
  lines.push("then evaluate it on the examples the run validated on, with the same settings, and compare it with the validation before training:");
  lines.push(`  ${next.evaluate}`);
  for (const line of next.compare) lines.push(`  ${line}`);
  return lines;
}
