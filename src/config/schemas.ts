/**
 * One schema per command: every flag, its conversion, its check, its default (from defaults.ts)
 * and its help (src/config/flags.ts), in one place. Flags several commands share are in entries.ts.
 */
import * as v from "valibot";
import { CHECKPOINT_POLICIES, FALLBACK_SAMPLES, ON_INTERRUPT, REPORT_TO } from "../grpo/policies.ts";
import { DEFAULTS, QUERY_FORMATS } from "./defaults.ts";
import {
  baseUrlEntry,
  curriculumEntry,
  dataEntries,
  datasetsEntry,
  globalEntries,
  htmlEntry,
  limitEntry,
  listenEntries,
  lmEntries,
  outputDirEntry,
  programEntries,
  resumeEntry,
  retrievalEntries,
  runNameEntry,
  temperatureEntry,
} from "./entries.ts";
import { booleanField, enumField, integerField, numberField, stringField, stringListField, urlField } from "./fields.ts";
import { commandSchema, flag } from "./flags.ts";

export { globalEntries, retrievalEntries } from "./entries.ts";

/** What ask, evaluate and train share: data, retrieval, the model server and the program. */
const programRunEntries = { ...globalEntries, ...dataEntries, ...retrievalEntries, ...lmEntries, ...programEntries };

/** A size flag of train/evaluate (the reference script's names). */
function sizeEntry(what: string) {
  return flag(v.optional(integerField(1)), `use the first N ${what} examples after the seeded shuffle`, { group: "data", valueHint: "n" });
}

export const DataSchema = commandSchema({
  specs: flag(v.optional(v.array(v.string()), []), "dataset specs, same syntax as --datasets (several are joined with ';')", {
    group: "arguments",
    kind: "positionals",
    shownDefault: "the --datasets value",
  }),
  datasets: datasetsEntry(DEFAULTS.sampleDatasets),
  limit: limitEntry,
  ...globalEntries,
  ...dataEntries,
  show: flag(v.optional(integerField(0, 1000), DEFAULTS.show), "print N example records", { group: "output", valueHint: "n" }),
  curriculum: curriculumEntry,
});

export const RetrieveSchema = commandSchema({
  datasets: datasetsEntry(DEFAULTS.sampleDatasets),
  limit: limitEntry,
  ...globalEntries,
  ...dataEntries,
  ...retrievalEntries,
  output: flag(v.optional(stringField("a file path")), "write per-question rankings (JSONL) to this file", { group: "output", valueHint: "file" }),
});

export const AskSchema = commandSchema({
  /** "" = not given: use the picked example's own question. */
  question: flag(
    v.optional(v.pipe(v.string("must be a question"), v.trim()), ""),
    "question to ask: matched against the dataset's questions, or asked over the --id/--index example",
    { group: "arguments", kind: "positional", shownDefault: "the example's own question" },
  ),
  datasets: datasetsEntry(DEFAULTS.sampleDatasets),
  ...programRunEntries,
  temperature: temperatureEntry(DEFAULTS.evaluateTemperature),
  id: flag(v.optional(stringField("an example id")), "example id", { group: "data", valueHint: "id" }),
  index: flag(v.optional(integerField(0)), "example position in the prepared dataset", { group: "data", valueHint: "n" }),
});

export const EvaluateSchema = commandSchema({
  datasets: datasetsEntry(DEFAULTS.evalDatasets),
  limit: limitEntry,
  testSize: sizeEntry("evaluation"),
  ...programRunEntries,
  temperature: temperatureEntry(DEFAULTS.evaluateTemperature),
  cache: flag(v.optional(booleanField(), true), "answer identical temperature-0 requests from the database (--no-cache: always ask)", {
    group: "model",
    kind: "boolean",
  }),
  runName: runNameEntry("evaluate-{UTC time}-{random}"),
  outputDir: outputDirEntry,
  resume: resumeEntry,
});

const trainingEntries = {
  numTrainSteps: flag(v.optional(integerField(1), DEFAULTS.numTrainSteps), "GRPO steps", { group: "training", valueHint: "n" }),
  learningRate: flag(v.optional(numberField(0, 1), DEFAULTS.learningRate), "learning rate", { group: "training", valueHint: "lr" }),
  klBeta: flag(v.optional(numberField(0, 100), DEFAULTS.klBeta), "KL coefficient (beta)", { group: "training", valueHint: "b" }),
  useLora: flag(v.optional(booleanField(), DEFAULTS.useLora), "train a LoRA adapter (--no-lora for full weights)", {
    group: "training",
    kind: "boolean",
    aliases: ["lora"],
  }),
  loraR: flag(v.optional(integerField(1, 4096), DEFAULTS.loraR), "LoRA rank", { group: "training", valueHint: "r" }),
  loraAlpha: flag(v.optional(integerField(1, 65536), DEFAULTS.loraAlpha), "LoRA alpha", { group: "training", valueHint: "a" }),
  loraDropout: flag(v.optional(numberField(0, 1), DEFAULTS.loraDropout), "LoRA dropout", { group: "training", valueHint: "p" }),
  numExamplesPerStep: flag(v.optional(integerField(1), DEFAULTS.numExamplesPerStep), "examples per GRPO step", {
    group: "training",
    valueHint: "n",
  }),
  numRolloutsPerStep: flag(v.optional(integerField(2), DEFAULTS.numRolloutsPerStep), "rollouts per example (the GRPO group size)", {
    group: "training",
    valueHint: "n",
  }),
  batchSize: flag(v.optional(integerField(1), DEFAULTS.batchSize), "per-device train batch size", { group: "training", valueHint: "n" }),
  gradientAccumulation: flag(v.optional(integerField(1), DEFAULTS.gradientAccumulation), "gradient accumulation steps", {
    group: "training",
    valueHint: "n",
  }),
  maxGradNorm: flag(v.optional(numberField(0), DEFAULTS.maxGradNorm), "gradient clipping norm", { group: "training", valueHint: "x" }),
  numStepsForVal: flag(v.optional(integerField(1), DEFAULTS.numStepsForVal), "validate every N steps", { group: "training", valueHint: "n" }),
  checkpoint: flag(v.optional(enumField(CHECKPOINT_POLICIES), DEFAULTS.checkpoint), "single-best|improvements|none", {
    group: "training",
    valueHint: "policy",
  }),
  numInferenceGpus: flag(v.optional(integerField(1, 64), DEFAULTS.numInferenceGpus), "GPUs Arbor gives to vLLM", {
    group: "training",
    valueHint: "n",
  }),
  numTrainingGpus: flag(v.optional(integerField(1, 64), DEFAULTS.numTrainingGpus), "GPUs Arbor gives to the trainer", {
    group: "training",
    valueHint: "n",
  }),
  arborUrl: flag(v.optional(urlField()), "Arbor base URL", {
    group: "training",
    valueHint: "url",
    env: "ARBOR_URL",
    shownDefault: "http://localhost:{port}/v1/",
  }),
  arborTimeout: flag(v.optional(numberField(1), DEFAULTS.arborInitializeTimeoutSeconds), "seconds to wait for Arbor to load the model", {
    group: "training",
    valueHint: "s",
  }),
  dryRun: flag(v.optional(booleanField(), false), "roll out and build groups without Arbor; write groups.jsonl", {
    group: "training",
    kind: "boolean",
  }),
  dryRunSteps: flag(v.optional(integerField(1, 1000), DEFAULTS.dryRunSteps), "steps to run with --dry-run", { group: "training", valueHint: "n" }),
  overlapRollouts: flag(
    v.optional(booleanField(), DEFAULTS.overlapRollouts),
    "run step N+1's rollouts while Arbor trains step N's groups, so the trainer never waits for them (--no-overlap-rollouts: after the trainer took step N's last group, as DSPy does)",
    { group: "training", kind: "boolean" },
  ),
  onInterrupt: flag(
    v.optional(enumField(ON_INTERRUPT), DEFAULTS.onInterrupt),
    "on Ctrl-C, SIGTERM, SIGHUP or failure: terminate the Arbor job (saves checkpoint_final) or cancel it (frees GPUs)",
    { group: "training", valueHint: "terminate|cancel" },
  ),
  reportTo: flag(
    v.optional(enumField(REPORT_TO), DEFAULTS.reportTo),
    "where Arbor's trainer also sends loss, KL, grad norm and learning rate: none, wandb (WANDB_API_KEY and WANDB_PROJECT set for Arbor) or tensorboard (under the job's checkpoints folder, runs/)",
    { group: "training", valueHint: "none|wandb|tensorboard" },
  ),
  fallbackSamples: flag(
    v.optional(enumField(FALLBACK_SAMPLES), DEFAULTS.fallbackSamples),
    "GRPO samples of calls the JSON fallback rescued or that failed: dspy (DSPy's) or on-policy (the JSON prompt and reply)",
    { group: "training", valueHint: "dspy|on-policy" },
  ),
};

export const TrainSchema = commandSchema({
  datasets: datasetsEntry(DEFAULTS.datasets),
  evalDatasets: flag(v.optional(stringField("a dataset spec"), DEFAULTS.evalDatasets), "validation dataset specs (same syntax as --datasets)", {
    group: "data",
    valueHint: "spec",
  }),
  trainSize: sizeEntry("training"),
  devSize: sizeEntry("validation"),
  ...programRunEntries,
  ...trainingEntries,
  curriculum: curriculumEntry,
  baseUrl: baseUrlEntry("the Arbor server (with --dry-run: http://localhost:{port}/v1)"),
  temperature: temperatureEntry(DEFAULTS.trainTemperature),
  runName: runNameEntry("train-{UTC time}-{random}"),
  outputDir: outputDirEntry,
  resume: resumeEntry,
});

export const ScoreSchema = commandSchema({
  ...globalEntries,
  gold: flag(stringField("a gold JSONL file"), "gold file (official MuSiQue JSONL)", { group: "data", valueHint: "file" }),
  predictions: flag(stringField("a predictions JSONL file"), "predictions file (official format)", { group: "data", valueHint: "file" }),
  detailed: flag(v.optional(booleanField(), false), "add a per-hop breakdown", { group: "output", kind: "boolean" }),
});

export const QuerySchema = commandSchema({
  sql: flag(stringField("an SQL statement"), "a read-only SQL statement; after -- when it starts with '-' (musique query -- \"-- note …\")", {
    group: "arguments",
    kind: "positional",
  }),
  ...globalEntries,
  format: flag(v.optional(enumField(QUERY_FORMATS), DEFAULTS.queryFormat), "table|csv|json", { group: "output", valueHint: "fmt" }),
  crlf: flag(v.optional(booleanField(), false), "end CSV lines with CRLF (RFC 4180, for Excel) instead of LF", { group: "output", kind: "boolean" }),
  maxWidth: flag(
    v.optional(integerField(0), DEFAULTS.queryMaxWidth),
    "cut table cells longer than this (they end in …, and the table says how many); 0: never cut",
    { group: "output", valueHint: "n" },
  ),
});

/** --tag as a filter: the runs carrying every tag given. */
function tagFilterEntry(what: string) {
  return flag(v.optional(stringListField("a tag")), `${what} every run carrying this tag (repeat: runs carrying all of them)`, {
    group: "runs",
    kind: "list",
    valueHint: "tag",
  });
}

export const RunsSchema = commandSchema({
  ...globalEntries,
  tag: tagFilterEntry("list"),
  limit: flag(v.optional(integerField(1), 50), "show at most N runs, newest first", { group: "output", valueHint: "n" }),
  wide: flag(v.optional(booleanField(), false), "every column (start time, recall, support F1, failures, calls, tokens, dataset), not cut to 120", {
    group: "output",
    kind: "boolean",
  }),
});

/** One or more run names. */
function runNamesEntry(description: string) {
  return flag(v.pipe(v.array(v.string()), v.minLength(1, "needs at least one run name")), description, {
    group: "arguments",
    kind: "positionals",
  });
}

export const RunsRemoveSchema = commandSchema({
  runs: runNamesEntry("the runs to delete"),
  ...globalEntries,
  yes: flag(v.optional(booleanField(), false), "delete without asking (required when stdin is not a terminal)", {
    group: "general",
    kind: "boolean",
  }),
  outputs: flag(v.optional(booleanField(), false), "also delete each run's output folder (only a folder that is that run's own)", {
    group: "output",
    kind: "boolean",
  }),
});

export const RunsRenameSchema = commandSchema({
  names: flag(v.pipe(v.array(v.string()), v.length(2, "needs two names: the run's name and its new name")), "the run's name and its new name", {
    group: "arguments",
    kind: "positionals",
  }),
  ...globalEntries,
});

export const RunsTagSchema = commandSchema({
  runs: runNamesEntry("the runs to tag or untag"),
  tag: flag(v.pipe(stringListField("a tag"), v.minLength(1, "needs at least one tag")), "the tag to add or remove (repeat for several)", {
    group: "runs",
    kind: "list",
    valueHint: "tag",
  }),
  ...globalEntries,
});

const copyEntries = {
  rename: flag(v.optional(stringListField("OLD=NEW")), "copy run OLD under the name NEW (repeat for several)", {
    group: "output",
    kind: "list",
    valueHint: "old=new",
  }),
  prefix: flag(v.optional(stringField("a run-name prefix")), "put this before the name of every copied run that --rename does not name", {
    group: "output",
    valueHint: "text",
  }),
};

export const ExportSchema = commandSchema({
  runs: flag(v.optional(v.array(v.string()), []), "the runs to copy (and/or --tag)", { group: "arguments", kind: "positionals" }),
  tag: tagFilterEntry("also copy"),
  to: flag(stringField("a database file"), "the musique database to copy the runs into (created if missing)", {
    group: "output",
    valueHint: "file",
  }),
  ...globalEntries,
  ...copyEntries,
});

export const ImportSchema = commandSchema({
  files: flag(v.pipe(v.array(v.string()), v.minLength(1, "needs at least one database file")), "musique databases whose runs to copy into --db", {
    group: "arguments",
    kind: "positionals",
  }),
  ...globalEntries,
  ...copyEntries,
});

export const ReportSchema = commandSchema({
  run: flag(v.optional(stringField("a run name")), "run name (or --tag)", { group: "arguments", kind: "positional" }),
  tag: tagFilterEntry("report"),
  ...globalEntries,
  html: htmlEntry("a self-contained HTML report"),
});

export const CompareSchema = commandSchema({
  runs: flag(
    v.pipe(v.array(v.string()), v.minLength(2, "needs at least two run names")),
    "two or more runs: RUN, RUN@STEP (validation after STEP steps, 0 = before training) or RUN@best",
    { group: "arguments", kind: "positionals" },
  ),
  ...globalEntries,
  resamples: flag(v.optional(integerField(1000, 1_000_000), DEFAULTS.bootstrapResamples), "bootstrap resamples", {
    group: "output",
    valueHint: "n",
  }),
  seed: flag(v.optional(integerField(0), DEFAULTS.seed), "seed of the bootstrap resampling", { group: "output", valueHint: "n" }),
  html: htmlEntry("a self-contained HTML comparison (side-by-side trajectories)"),
});

export const ServeSchema = commandSchema({
  service: flag(enumField(["rerank"] as const), "what to serve: rerank", { group: "arguments", kind: "positional" }),
  ...globalEntries,
  ...listenEntries(DEFAULTS.serveHost, DEFAULTS.servePort),
  teiUrl: flag(v.optional(urlField(), DEFAULTS.teiUrl), "text-embeddings-inference URL for model 'tei'", {
    group: "service",
    valueHint: "url",
    env: "TEI_RERANK_URL",
  }),
  rerankTimeout: retrievalEntries.rerankTimeout,
});

export const ViewSchema = commandSchema({
  ...globalEntries,
  tag: tagFilterEntry("open the runs page showing"),
  host: flag(v.optional(stringField("a host"), DEFAULTS.viewHost), "address to listen on (0.0.0.0 exposes the results to the network)", {
    group: "service",
    valueHint: "host",
  }),
  port: flag(v.optional(integerField(0, 65535), DEFAULTS.viewPort), "port to listen on (0: any free port)", { group: "service", valueHint: "n" }),
});

export const InitSchema = commandSchema({
  directory: flag(v.optional(stringField("a folder"), "."), "the folder to write the files into (created if missing)", {
    group: "arguments",
    kind: "positional",
  }),
  ...globalEntries,
  force: flag(v.optional(booleanField(), false), "overwrite files already there", { group: "output", kind: "boolean" }),
});

export const SchemaSchema = commandSchema({
  ...globalEntries,
  sql: flag(v.optional(booleanField(), false), "print the CREATE statements of the tables and views instead", {
    group: "output",
    kind: "boolean",
  }),
});

export type GlobalOptions = v.InferOutput<v.ObjectSchema<typeof globalEntries, undefined>>;
export type DataOptions = v.InferOutput<typeof DataSchema>;
export type RetrieveOptions = v.InferOutput<typeof RetrieveSchema>;
export type AskOptions = v.InferOutput<typeof AskSchema>;
export type EvaluateOptions = v.InferOutput<typeof EvaluateSchema>;
export type TrainOptions = v.InferOutput<typeof TrainSchema>;
export type ScoreOptions = v.InferOutput<typeof ScoreSchema>;
export type QueryOptions = v.InferOutput<typeof QuerySchema>;
export type RunsOptions = v.InferOutput<typeof RunsSchema>;
export type RunsRemoveOptions = v.InferOutput<typeof RunsRemoveSchema>;
export type ExportOptions = v.InferOutput<typeof ExportSchema>;
export type ImportOptions = v.InferOutput<typeof ImportSchema>;
export type ReportOptions = v.InferOutput<typeof ReportSchema>;
export type CompareOptions = v.InferOutput<typeof CompareSchema>;
export type ServeOptions = v.InferOutput<typeof ServeSchema>;
export type ViewOptions = v.InferOutput<typeof ViewSchema>;
