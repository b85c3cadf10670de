/**
 * The flags several commands share, each defined once (value check, default from defaults.ts,
 * help text, group, value hint, environment variable: src/config/flags.ts). Command schemas in
 * schemas.ts spread these groups and add their own flags.
 */
import * as v from "valibot";
import { REWARDS } from "../metrics/reward-versions.ts";
import { RERANK_APIS, RETRIEVER_ALIASES, RETRIEVERS } from "../retrieval/names.ts";
import { DEFAULTS, defaultDatabasePath, LOG_LEVELS } from "./defaults.ts";
import {
  RUN_NAME_PATTERN,
  booleanField,
  concurrencyField,
  enumField,
  integerField,
  numberField,
  numHopsField,
  portField,
  stringField,
  urlField,
  urlListField,
} from "./fields.ts";
import { flag } from "./flags.ts";

/** --db: DEFAULTS.db (as --help shows it) stands for the per-user path. */
const databaseField = v.pipe(
  stringField("a file path"),
  v.transform((path) => (path === DEFAULTS.db ? defaultDatabasePath() : path)),
);

export const globalEntries = {
  db: flag(
    v.optional(databaseField, DEFAULTS.db),
    "results database, an SQLite file (musique schema describes it); one per user, the same from every folder; $XDG_DATA_HOME/musique/musique.db when XDG_DATA_HOME is set",
    {
      group: "general",
      valueHint: "file",
      env: "MUSIQUE_DB",
    },
  ),
  logLevel: flag(v.optional(enumField(LOG_LEVELS), DEFAULTS.logLevel), "silent|error|warn|info|debug|trace (logs go to stderr)", {
    group: "general",
    valueHint: "level",
    env: "MUSIQUE_LOG_LEVEL",
  }),
  json: flag(v.optional(booleanField(), false), "machine-readable JSON on stdout", { group: "general", kind: "boolean" }),
};

/** --datasets with the command's default. */
export function datasetsEntry(fallback: string) {
  return flag(
    v.optional(stringField("a dataset spec"), fallback),
    "dataset specs: name,config,split[slice] joined by ';', `sample`, or a local .jsonl/.json/.parquet file",
    { group: "data", valueHint: "spec" },
  );
}

/** --limit: the recommended way to take N examples (README "Choosing examples"). */
export const limitEntry = flag(v.optional(integerField(1)), "use N examples: the first N after the seeded shuffle (the same N for the same --seed)", {
  group: "data",
  valueHint: "n",
});

export const dataEntries = {
  revision: flag(v.optional(stringField("a revision (branch, tag or commit)")), "Hub revision for every spec without an @revision suffix", {
    group: "data",
    valueHint: "rev",
  }),
  noiseRate: flag(v.optional(numberField(0, 1), DEFAULTS.noiseRate), "keep each distractor paragraph with this probability (0–1)", {
    group: "data",
    valueHint: "r",
  }),
  seed: flag(v.optional(integerField(0), DEFAULTS.seed), "seed for shuffling, noise and sampling", { group: "data", valueHint: "n" }),
  skipInvalid: flag(v.optional(booleanField(), false), "skip (and count) rows that fail validation instead of stopping", {
    group: "data",
    kind: "boolean",
  }),
};

export const curriculumEntry = flag(v.optional(booleanField(), false), "sort training examples by hop count, 2 hops first", {
  group: "data",
  kind: "boolean",
});

export const retrievalEntries = {
  retriever: flag(v.optional(enumField(RETRIEVERS, RETRIEVER_ALIASES), DEFAULTS.retriever), "lexical (BM25; bm25 works too)|semantic|hybrid|golden", {
    group: "retrieval",
    valueHint: "name",
  }),
  topN: flag(v.optional(integerField(1, 20), DEFAULTS.topN), "documents retrieved per hop", { group: "retrieval", valueHint: "n" }),
  rerankUrl: flag(v.optional(urlField(), DEFAULTS.rerankUrl), "rerank service URL (musique init writes a compose file that starts it)", {
    group: "retrieval",
    valueHint: "url",
    env: "RERANK_URL",
  }),
  rerankApi: flag(v.optional(enumField(RERANK_APIS), DEFAULTS.rerankApi), "service|tei|cohere: the API spoken at --rerank-url", {
    group: "retrieval",
    valueHint: "api",
  }),
  rerankModel: flag(v.optional(stringField("a model name"), DEFAULTS.rerankModel), "model name sent to the rerank service", {
    group: "retrieval",
    valueHint: "name",
  }),
  rerankApiKey: flag(v.optional(stringField("an API key")), "API key for the rerank service", {
    group: "retrieval",
    valueHint: "key",
    env: "RERANK_API_KEY",
  }),
  rerankTimeout: flag(v.optional(numberField(0.1, 3600), DEFAULTS.rerankTimeoutSeconds), "seconds per rerank request", {
    group: "retrieval",
    valueHint: "s",
  }),
};

/** --temperature with the command's default. */
export function temperatureEntry(fallback: number) {
  return flag(v.optional(numberField(0, 2), fallback), "sampling temperature", { group: "model", valueHint: "t" });
}

/** The largest --concurrency / --max-concurrency accepted. */
const CONCURRENCY_CEILING = 4096;

const concurrencyEntries = {
  concurrency: flag(
    v.optional(concurrencyField(CONCURRENCY_CEILING), DEFAULTS.concurrency),
    "LM calls (and examples) in flight at once: auto finds each --base-url server's useful concurrency (backs off on 429/503 and queueing); a number fixes it",
    { group: "model", valueHint: "auto|n" },
  ),
  maxConcurrency: flag(
    v.optional(integerField(1, CONCURRENCY_CEILING), DEFAULTS.maxConcurrency),
    "with --concurrency auto: the most LM calls (and examples) in flight at once, over all servers",
    { group: "model", valueHint: "n" },
  ),
};

/** --base-url with the default --help shows for the command. */
export function baseUrlEntry(shownDefault: string) {
  return flag(v.optional(urlListField()), "OpenAI-compatible endpoint; repeat for several servers (least in-flight wins)", {
    group: "model",
    kind: "list",
    valueHint: "url",
    env: "OPENAI_BASE_URL",
    shownDefault,
  });
}

export const lmEntries = {
  model: flag(v.optional(stringField("a model name"), DEFAULTS.model), "model name served by the OpenAI-compatible endpoint", {
    group: "model",
    valueHint: "name",
  }),
  port: flag(v.optional(portField(), DEFAULTS.port), "Arbor port; the default --base-url is http://localhost:{port}/v1", {
    group: "model",
    valueHint: "n",
  }),
  baseUrl: baseUrlEntry("http://localhost:{port}/v1"),
  apiKey: flag(v.optional(stringField("an API key"), DEFAULTS.apiKey), "API key (a dummy is fine for local servers)", {
    group: "model",
    valueHint: "key",
    env: "OPENAI_API_KEY",
  }),
  maxTokens: flag(v.optional(integerField(1), DEFAULTS.maxTokens), "max completion tokens per call", { group: "model", valueHint: "n" }),
  topP: flag(v.optional(numberField(0, 1)), "nucleus sampling top_p (not sent unless given: the server's default applies, as with DSPy)", {
    group: "model",
    valueHint: "p",
  }),
  maxRetries: flag(v.optional(integerField(0, 20), DEFAULTS.maxRetries), "retries per call on 408/409/429/5xx and connection errors", {
    group: "model",
    valueHint: "n",
  }),
  requestTimeout: flag(v.optional(numberField(0.1, 86400), DEFAULTS.requestTimeoutSeconds), "seconds per LM request", {
    group: "model",
    valueHint: "s",
  }),
  ...concurrencyEntries,
  exampleTimeout: flag(
    v.optional(numberField(1, 86400), DEFAULTS.exampleTimeoutSeconds),
    "seconds one example (all its hops, retries and retrievals) may take",
    { group: "model", valueHint: "s" },
  ),
};

const rewardEntry = flag(v.optional(enumField(REWARDS), DEFAULTS.reward), "combined reward formula: v1 (seed) or v2", {
  group: "program",
  valueHint: "v1|v2",
});

export const programEntries = {
  numHops: flag(v.optional(numHopsField(), DEFAULTS.numHops), "hops per question: 1–6, auto (model decides), or gold (label's count; leaks the label)", {
    group: "program",
    valueHint: "n|auto|gold",
  }),
  maxHops: flag(v.optional(integerField(1, 10), DEFAULTS.maxHops), "upper bound on hops with --num-hops auto", {
    group: "program",
    valueHint: "n",
  }),
  reward: rewardEntry,
  program: flag(
    v.optional(stringField("a DSPy program file (.json)")),
    'DSPy program file (program.save("program.json")): its instructions, field descriptions and demos',
    { group: "program", valueHint: "file" },
  ),
  jsonFallback: flag(
    v.optional(booleanField(), DEFAULTS.jsonFallback),
    "retry a reply that breaks the ChatAdapter format with DSPy's JSONAdapter prompts (--no-json-fallback: ChatAdapter only)",
    { group: "program", kind: "boolean" },
  ),
};

/** --run-name with the command's default shown in --help. */
export function runNameEntry(shownDefault: string) {
  return flag(
    v.optional(v.pipe(stringField("a run name"), v.regex(RUN_NAME_PATTERN, "must be letters, digits, '.', '_' or '-' (at most 128)"))),
    "run name (also its folder under --output-dir)",
    { group: "output", valueHint: "name", shownDefault },
  );
}

export const outputDirEntry = flag(v.optional(stringField("a directory"), DEFAULTS.outputDir), "where {output-dir}/{run_name}/ is written", {
  group: "output",
  valueHint: "dir",
});

export const resumeEntry = flag(v.optional(stringField("a run name")), "resume an interrupted run by name", { group: "output", valueHint: "run" });

/** --html FILE with what the page holds. */
export function htmlEntry(what: string) {
  return flag(v.optional(stringField("a file path")), `write ${what} to this file`, { group: "output", valueHint: "file" });
}

/** --host / --port of a server command. */
export function listenEntries(host: string, port: number) {
  return {
    host: flag(
      v.optional(stringField("a host"), host),
      "address to listen on (0.0.0.0 = every interface: anyone who reaches it can use it, there is no authentication)",
      { group: "service", valueHint: "host" },
    ),
    port: flag(v.optional(portField(), port), "port to listen on", { group: "service", valueHint: "n" }),
  };
}
