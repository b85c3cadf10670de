/**
 * What --help says about each flag, how the command line reads it, and which environment
 * variable may supply it. Keys are the camelCase keys of the schemas in schemas.ts; the flag
 * is the kebab-case form (`noiseRate` → `--noise-rate`).
 */

export type FlagKind = "string" | "boolean" | "list" | "positional" | "positionals";

export interface FlagInfo {
  description: string;
  kind?: FlagKind;
  valueHint?: string;
  env?: string;
  alias?: string;
  /** Extra spellings that set a boolean: `{ "no-lora": false }`. */
  spellings?: Record<string, boolean>;
}

export const FLAGS: Record<string, FlagInfo> = {
  // global
  db: { description: "results database (SQLite)", valueHint: "file", env: "MUSIQUE_DB" },
  logLevel: { description: "silent|error|warn|info|debug|trace (logs go to stderr)", env: "MUSIQUE_LOG_LEVEL" },
  json: { description: "machine-readable JSON on stdout", kind: "boolean" },

  // data
  datasets: {
    description: "dataset specs: name,config,split[slice] joined by ';', or local .jsonl/.json/.parquet",
    valueHint: "spec",
  },
  evalDatasets: { description: "validation dataset specs (same syntax as --datasets)", valueHint: "spec" },
  revision: { description: "Hub revision for every spec without an @revision suffix", valueHint: "rev" },
  noiseRate: { description: "keep each distractor paragraph with this probability (0–1)", valueHint: "r" },
  seed: { description: "seed for shuffling, noise and sampling", valueHint: "n" },
  trainSize: { description: "use the first N training examples after shuffling", valueHint: "n" },
  devSize: { description: "use the first N validation examples after shuffling", valueHint: "n" },
  testSize: { description: "use the first N evaluation examples after shuffling", valueHint: "n" },
  skipInvalid: { description: "skip (and count) rows that fail validation instead of stopping", kind: "boolean" },
  curriculum: { description: "sort training examples by hop count, 2-hop first", kind: "boolean" },
  limit: { description: "stop after N examples", valueHint: "n" },
  show: { description: "print N example records", valueHint: "n" },
  specs: { description: "dataset specs, same syntax as --datasets (several are joined with ';')", kind: "positionals" },

  // retrieval
  retriever: { description: "lexical|semantic|hybrid|golden", valueHint: "name" },
  topN: { description: "documents retrieved per hop", valueHint: "n" },
  rerankUrl: { description: "rerank service URL (docker compose up rerank)", valueHint: "url", env: "RERANK_URL" },
  rerankApi: { description: "service|tei|cohere: the API spoken at --rerank-url", valueHint: "api" },
  rerankModel: { description: "model name sent to the rerank service", valueHint: "name" },
  rerankApiKey: { description: "API key for the rerank service", valueHint: "key", env: "RERANK_API_KEY" },
  rerankTimeout: { description: "seconds per rerank request", valueHint: "s" },
  output: { description: "write per-question rankings (JSONL) to this file", valueHint: "file" },

  // language model
  model: { description: "model name served by the OpenAI-compatible endpoint", valueHint: "name" },
  port: { description: "Arbor port; the default --base-url is http://localhost:{port}/v1", valueHint: "n" },
  baseUrl: {
    description: "OpenAI-compatible endpoint; repeat for several servers (least in-flight wins)",
    kind: "list",
    valueHint: "url",
    env: "OPENAI_BASE_URL",
  },
  apiKey: { description: "API key (a dummy is fine for local servers)", valueHint: "key", env: "OPENAI_API_KEY" },
  temperature: { description: "sampling temperature", valueHint: "t" },
  maxTokens: { description: "max completion tokens per call", valueHint: "n" },
  topP: { description: "nucleus sampling top_p (not sent unless given: the server's default applies, as with DSPy)", valueHint: "p" },
  maxRetries: { description: "retries per call on 408/409/429/5xx and connection errors", valueHint: "n" },
  requestTimeout: { description: "seconds per LM request", valueHint: "s" },
  concurrency: { description: "examples (and LM calls) in flight at once", valueHint: "n" },
  exampleTimeout: { description: "seconds one example (all its hops, retries and retrievals) may take", valueHint: "s" },
  cache: {
    description: "answer identical temperature-0 requests from the database (--no-cache: always ask)",
    kind: "boolean",
    spellings: { "no-cache": false },
  },

  // program
  numHops: {
    description: "hops per question: 1–6, auto (model decides), or gold (label's count; leaks the label)",
    valueHint: "n|auto|gold",
  },
  maxHops: { description: "upper bound on hops with --num-hops auto", valueHint: "n" },

  // runs
  runName: { description: "run name (also its folder under --output-dir)", valueHint: "name" },
  outputDir: { description: "where outputs/{run_name}/ is written", valueHint: "dir" },
  reward: { description: "combined reward formula: v1 (seed) or v2", valueHint: "v1|v2" },
  resume: { description: "resume an interrupted run by name", valueHint: "run" },
  id: { description: "example id", valueHint: "id" },
  question: {
    description: "question to ask: matched against the dataset's questions, or asked over the --id/--index example",
    kind: "positional",
  },
  index: { description: "example position in the prepared dataset", valueHint: "n" },

  // training
  numTrainSteps: { description: "GRPO steps", valueHint: "n" },
  learningRate: { description: "learning rate", valueHint: "lr" },
  klBeta: { description: "KL coefficient (beta)", valueHint: "b" },
  useLora: {
    description: "train a LoRA adapter (--no-lora for full weights)",
    kind: "boolean",
    spellings: { "no-lora": false, lora: true, "no-use-lora": false },
  },
  loraR: { description: "LoRA rank", valueHint: "r" },
  loraAlpha: { description: "LoRA alpha", valueHint: "a" },
  loraDropout: { description: "LoRA dropout", valueHint: "p" },
  numExamplesPerStep: { description: "examples per GRPO step", valueHint: "n" },
  numRolloutsPerStep: { description: "rollouts per example (the GRPO group size)", valueHint: "n" },
  batchSize: { description: "per-device train batch size", valueHint: "n" },
  gradientAccumulation: { description: "gradient accumulation steps", valueHint: "n" },
  maxGradNorm: { description: "gradient clipping norm", valueHint: "x" },
  numStepsForVal: { description: "validate every N steps", valueHint: "n" },
  checkpoint: { description: "single-best|improvements|none", valueHint: "policy" },
  numInferenceGpus: { description: "GPUs Arbor gives to vLLM", valueHint: "n" },
  numTrainingGpus: { description: "GPUs Arbor gives to the trainer", valueHint: "n" },
  arborUrl: { description: "Arbor base URL (default http://localhost:{port}/v1/)", valueHint: "url", env: "ARBOR_URL" },
  arborTimeout: { description: "seconds to wait for Arbor to load the model", valueHint: "s" },
  dryRun: { description: "roll out and build groups without Arbor; write groups.jsonl", kind: "boolean" },
  onInterrupt: {
    description: "on Ctrl-C, SIGTERM, SIGHUP or failure: terminate the Arbor job (saves checkpoint_final) or cancel it (frees GPUs)",
    valueHint: "terminate|cancel",
  },
  dryRunSteps: { description: "steps to run with --dry-run", valueHint: "n" },

  // score
  gold: { description: "gold file (official MuSiQue JSONL)", valueHint: "file" },
  predictions: { description: "predictions file (official format)", valueHint: "file" },
  detailed: { description: "add a per-hop breakdown", kind: "boolean" },

  // query / runs / report / compare
  sql: {
    description: "a read-only SQL statement; after -- when it starts with '-' (musique query -- \"-- note …\")",
    kind: "positional",
  },
  format: { description: "table|csv|json", valueHint: "fmt" },
  run: { description: "run name", kind: "positional" },
  runs: { description: "two or more runs: RUN, RUN@STEP (validation after STEP steps, 0 = before training) or RUN@best", kind: "positionals" },
  html: { description: "write a self-contained HTML report to this file", valueHint: "file" },
  resamples: { description: "bootstrap resamples", valueHint: "n" },

  // serve
  service: { description: "what to serve: rerank", kind: "positional" },
  host: { description: "address to listen on", valueHint: "host" },
  teiUrl: { description: "text-embeddings-inference URL for model 'tei'", valueHint: "url", env: "TEI_RERANK_URL" },
};

export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

export function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function flagInfo(key: string): FlagInfo {
  const info = FLAGS[key];
  if (!info) throw new Error(`flag metadata missing for "${key}" (add it to src/config/flags.ts)`);
  return info;
}
