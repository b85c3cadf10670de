/**
 * Every default of musique, in one place. Schemas (src/config/schemas.ts) read them; --help
 * prints them; nothing else hard-codes a default.
 */
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

export const DEFAULTS = {
  // global
  /** As --help shows it (XDG_DATA_HOME is rarely set); the path itself is defaultDatabasePath(). */
  db: "~/.local/share/musique/musique.db",
  /** Where the results database was by default before it moved to the per-user place. */
  previousDb: "./outputs/musique.db",
  logLevel: "info",
  outputDir: "./outputs",

  // data (the reference script's values)
  datasets: "bdsaglam/musique,answerable,train",
  evalDatasets: "bdsaglam/musique,answerable,validation",
  /** What `data`, `retrieve`, `ask` and `evaluate` read when no --datasets is given. */
  sampleDatasets: "bdsaglam/musique,answerable,validation",
  noiseRate: 1.0,
  seed: 89,
  hubEndpoint: "https://huggingface.co",
  hubRevision: "main",
  /** HF_HUB_DOWNLOAD_TIMEOUT: seconds the Hub may send nothing (an idle limit, as in huggingface_hub). */
  hubIdleTimeoutSeconds: 10,
  show: 0,

  // retrieval
  retriever: "hybrid",
  topN: 2,
  rerankUrl: "http://localhost:8931",
  rerankApi: "service",
  rerankModel: "tei",
  rerankTimeoutSeconds: 30,
  teiUrl: "http://localhost:8930",

  // language model
  model: "Qwen/Qwen2.5-7B-Instruct",
  port: 7453,
  apiKey: "arbor",
  trainTemperature: 0.7,
  evaluateTemperature: 0.5,
  /** DSPy 3.0.2's default max_tokens, which the reference program ran with. */
  maxTokens: 4000,
  // top_p has no default: it is sent only when --top-p is given (DSPy sends none; vLLM then
  // applies the model's generation config, e.g. Qwen2.5's top_p 0.8).
  maxRetries: 3,
  requestTimeoutSeconds: 600,
  /** Whole-example deadline: all hops, retries and retrieval of one program run. */
  exampleTimeoutSeconds: 1800,
  /** LM calls in flight: `auto` finds each endpoint's useful concurrency (src/http/adaptive-limit.ts). */
  concurrency: "auto",
  /** The most LM calls (and programs) in flight at once with `auto`. */
  maxConcurrency: 1024,
  /** Requests in flight to a service without an adaptive limit (retrieve's rerank calls, the rerank server's TEI calls). */
  serviceConcurrency: 16,

  // program
  /** DSPy 3.0.2's JSONAdapter fallback after a ChatAdapter reply that does not parse. */
  jsonFallback: true,
  /** GRPO samples of calls the JSON fallback rescued (or that failed): DSPy's, or on-policy. */
  fallbackSamples: "dspy",
  /** The trainer reports to nothing but its own log (trainer_state.json), which musique reads when it can. */
  reportTo: "none",
  numHops: 2,
  maxHops: 4,
  reward: "v1",

  // training (the reference script's GRPO knobs)
  numTrainSteps: 500,
  learningRate: 2e-5,
  klBeta: 0.04,
  useLora: true,
  loraR: 16,
  loraAlpha: 64,
  loraDropout: 0.05,
  numExamplesPerStep: 6,
  numRolloutsPerStep: 8,
  batchSize: 8,
  gradientAccumulation: 4,
  maxGradNorm: 0.5,
  numStepsForVal: 10,
  checkpoint: "single-best",
  numInferenceGpus: 1,
  numTrainingGpus: 2,
  dryRunSteps: 2,
  /**
   * Run the next step's rollouts while Arbor trains this step's groups, so its trainer does not
   * wait for them (issue 19 item 3; they sample weights one step older). DSPy's GRPO does not.
   */
  overlapRollouts: true,
  /** Ctrl-C during training: terminate the Arbor job (saves checkpoint_final) or cancel it. */
  onInterrupt: "terminate",
  /**
   * After Ctrl-C, SIGTERM or SIGHUP: how long bookkeeping (recording the work in flight, marking
   * the run interrupted, terminating or cancelling the Arbor job) may take before musique exits anyway.
   */
  shutdownGraceSeconds: 150,
  /** Arbor's initialize launches vLLM and the trainer: minutes. */
  arborInitializeTimeoutSeconds: 1800,
  arborStepTimeoutSeconds: 600,
  /**
   * Arbor answers a /step in milliseconds unless its link to the trainer is dead (the call then
   * never returns). A step unanswered this long while /status still answers means the trainer is lost.
   */
  arborStepAcceptSeconds: 60,
  /**
   * How long the preflight waits for Arbor: it answers no request while it launches a model for
   * any client (vLLM start-up, minutes; a /status took 26 s with a small model).
   */
  arborProbeTimeoutSeconds: 300,
  /** The least time without the trainer asking for a batch before it counts as lost (10× its slowest pace otherwise). */
  arborStallFloorSeconds: 300,

  // serve (it has no authentication: only this machine unless --host says otherwise)
  serveHost: "127.0.0.1",
  servePort: 8931,
  /** A rerank request is a query and its paragraphs (MuSiQue: ~15 KB); TEI's own default is 2 MB. */
  serveMaxBodyBytes: 16 * 1024 * 1024,
  /** A connection that sends nothing for this long is closed. */
  serveIdleSeconds: 30,
  /** A request body must arrive within this. */
  serveBodySeconds: 60,
  /** On SIGTERM, requests being answered may finish within this (Docker sends SIGKILL after 10 s). */
  serveDrainSeconds: 8,
  /** GET /health waits this long for TEI's /health (Docker's health check allows 5 s). */
  serveHealthSeconds: 3,

  // view (local only by default, like promptfoo view)
  viewHost: "127.0.0.1",
  viewPort: 8600,

  // query / compare
  queryFormat: "table",
  /** Longest table cell of `musique query` before it is cut (marked …, counted under the table); 0 = no limit. */
  queryMaxWidth: 80,
  bootstrapResamples: 2000,
} as const;

export const LOG_LEVELS = ["silent", "error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const QUERY_FORMATS = ["table", "csv", "json"] as const;
export type QueryFormat = (typeof QUERY_FORMATS)[number];

/**
 * The per-user results database, the same from every working directory (README "The results
 * database"): `$XDG_DATA_HOME/musique/musique.db`, with XDG's fallback `~/.local/share` when
 * XDG_DATA_HOME is unset or not absolute; `./outputs/musique.db` when there is no home folder.
 */
export function defaultDatabasePath(env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, "musique", "musique.db");
  let home = env.HOME;
  if (home === undefined || home === "") {
    try {
      home = homedir();
    } catch {
      home = "";
    }
  }
  return home !== "" && isAbsolute(home) ? join(home, ".local", "share", "musique", "musique.db") : DEFAULTS.previousDb;
}
