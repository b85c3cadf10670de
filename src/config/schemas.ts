/**
 * One valibot schema per command: every flag, its conversion, its check and its default
 * (from defaults.ts). Flag metadata for --help lives in flags.ts under the same keys.
 */
import * as v from "valibot";
import {
  CHECKPOINT_POLICIES,
  DEFAULTS,
  LOG_LEVELS,
  QUERY_FORMATS,
  RERANK_APIS,
  RETRIEVERS,
  REWARDS,
} from "./defaults.ts";
import {
  booleanField,
  enumField,
  integerField,
  numberField,
  numHopsField,
  portField,
  stringField,
  urlField,
  urlListField,
} from "./fields.ts";

export const globalEntries = {
  db: v.optional(stringField("a file path"), DEFAULTS.db),
  logLevel: v.optional(enumField(LOG_LEVELS), DEFAULTS.logLevel),
  json: v.optional(booleanField(), false),
};

const dataEntries = {
  revision: v.optional(stringField("a revision (branch, tag or commit)")),
  noiseRate: v.optional(numberField(0, 1), DEFAULTS.noiseRate),
  seed: v.optional(integerField(0), DEFAULTS.seed),
  skipInvalid: v.optional(booleanField(), false),
};

const sizeEntries = {
  trainSize: v.optional(integerField(1)),
  devSize: v.optional(integerField(1)),
  testSize: v.optional(integerField(1)),
};

export const retrievalEntries = {
  retriever: v.optional(enumField(RETRIEVERS), DEFAULTS.retriever),
  topN: v.optional(integerField(1, 20), DEFAULTS.topN),
  rerankUrl: v.optional(urlField(), DEFAULTS.rerankUrl),
  rerankApi: v.optional(enumField(RERANK_APIS), DEFAULTS.rerankApi),
  rerankModel: v.optional(stringField("a model name"), DEFAULTS.rerankModel),
  rerankApiKey: v.optional(stringField("an API key")),
  rerankTimeout: v.optional(numberField(0.1, 3600), DEFAULTS.rerankTimeoutSeconds),
};

const lmEntries = {
  model: v.optional(stringField("a model name"), DEFAULTS.model),
  port: v.optional(portField(), DEFAULTS.port),
  baseUrl: v.optional(urlListField()),
  apiKey: v.optional(stringField("an API key"), DEFAULTS.apiKey),
  maxTokens: v.optional(integerField(1), DEFAULTS.maxTokens),
  topP: v.optional(numberField(0, 1)),
  maxRetries: v.optional(integerField(0, 20), DEFAULTS.maxRetries),
  requestTimeout: v.optional(numberField(0.1, 86400), DEFAULTS.requestTimeoutSeconds),
  concurrency: v.optional(integerField(1, 1024), DEFAULTS.concurrency),
  exampleTimeout: v.optional(numberField(1, 86400), DEFAULTS.exampleTimeoutSeconds),
};

const programEntries = {
  numHops: v.optional(numHopsField(), DEFAULTS.numHops),
  maxHops: v.optional(integerField(1, 10), DEFAULTS.maxHops),
};

const runEntries = {
  runName: v.optional(
    v.pipe(
      stringField("a run name"),
      v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "must be letters, digits, '.', '_' or '-' (at most 128)"),
    ),
  ),
  outputDir: v.optional(stringField("a directory"), DEFAULTS.outputDir),
  reward: v.optional(enumField(REWARDS), DEFAULTS.reward),
};

export const DataSchema = v.object({
  ...globalEntries,
  ...dataEntries,
  specs: v.optional(v.array(v.string()), []),
  datasets: v.optional(stringField("a dataset spec"), DEFAULTS.sampleDatasets),
  limit: v.optional(integerField(1)),
  show: v.optional(integerField(0, 1000), DEFAULTS.show),
  curriculum: v.optional(booleanField(), false),
});

export const RetrieveSchema = v.object({
  ...globalEntries,
  ...dataEntries,
  ...retrievalEntries,
  datasets: v.optional(stringField("a dataset spec"), DEFAULTS.sampleDatasets),
  limit: v.optional(integerField(1)),
  output: v.optional(stringField("a file path")),
});

export const AskSchema = v.object({
  ...globalEntries,
  ...dataEntries,
  ...retrievalEntries,
  ...lmEntries,
  ...programEntries,
  datasets: v.optional(stringField("a dataset spec"), DEFAULTS.sampleDatasets),
  temperature: v.optional(numberField(0, 2), DEFAULTS.evaluateTemperature),
  id: v.optional(stringField("an example id")),
  index: v.optional(integerField(0)),
  /** "" = not given: use the picked example's own question. */
  question: v.optional(v.pipe(v.string("must be a question"), v.trim()), ""),
  reward: runEntries.reward,
});

export const EvaluateSchema = v.object({
  ...globalEntries,
  ...dataEntries,
  ...retrievalEntries,
  ...lmEntries,
  ...programEntries,
  ...runEntries,
  datasets: v.optional(stringField("a dataset spec"), DEFAULTS.evalDatasets),
  testSize: sizeEntries.testSize,
  limit: v.optional(integerField(1)),
  temperature: v.optional(numberField(0, 2), DEFAULTS.evaluateTemperature),
  cache: v.optional(booleanField(), true),
  resume: v.optional(stringField("a run name")),
});

export const TrainSchema = v.object({
  ...globalEntries,
  ...dataEntries,
  ...sizeEntries,
  ...retrievalEntries,
  ...lmEntries,
  ...programEntries,
  ...runEntries,
  datasets: v.optional(stringField("a dataset spec"), DEFAULTS.datasets),
  evalDatasets: v.optional(stringField("a dataset spec"), DEFAULTS.evalDatasets),
  temperature: v.optional(numberField(0, 2), DEFAULTS.trainTemperature),
  concurrency: v.optional(integerField(1, 1024), DEFAULTS.trainConcurrency),
  curriculum: v.optional(booleanField(), false),
  numTrainSteps: v.optional(integerField(1), DEFAULTS.numTrainSteps),
  learningRate: v.optional(numberField(0, 1), DEFAULTS.learningRate),
  klBeta: v.optional(numberField(0, 100), DEFAULTS.klBeta),
  useLora: v.optional(booleanField(), DEFAULTS.useLora),
  loraR: v.optional(integerField(1, 4096), DEFAULTS.loraR),
  loraAlpha: v.optional(integerField(1, 65536), DEFAULTS.loraAlpha),
  loraDropout: v.optional(numberField(0, 1), DEFAULTS.loraDropout),
  numExamplesPerStep: v.optional(integerField(1), DEFAULTS.numExamplesPerStep),
  numRolloutsPerStep: v.optional(integerField(2), DEFAULTS.numRolloutsPerStep),
  batchSize: v.optional(integerField(1), DEFAULTS.batchSize),
  gradientAccumulation: v.optional(integerField(1), DEFAULTS.gradientAccumulation),
  maxGradNorm: v.optional(numberField(0), DEFAULTS.maxGradNorm),
  numStepsForVal: v.optional(integerField(1), DEFAULTS.numStepsForVal),
  checkpoint: v.optional(enumField(CHECKPOINT_POLICIES), DEFAULTS.checkpoint),
  numInferenceGpus: v.optional(integerField(1, 64), DEFAULTS.numInferenceGpus),
  numTrainingGpus: v.optional(integerField(1, 64), DEFAULTS.numTrainingGpus),
  arborUrl: v.optional(urlField()),
  arborTimeout: v.optional(numberField(1), DEFAULTS.arborInitializeTimeoutSeconds),
  dryRun: v.optional(booleanField(), false),
  onInterrupt: v.optional(enumField(["terminate", "cancel"] as const), DEFAULTS.onInterrupt),
  dryRunSteps: v.optional(integerField(1, 1000), DEFAULTS.dryRunSteps),
  resume: v.optional(stringField("a run name")),
});

export const ScoreSchema = v.object({
  ...globalEntries,
  gold: stringField("a gold JSONL file"),
  predictions: stringField("a predictions JSONL file"),
  detailed: v.optional(booleanField(), false),
});

export const QuerySchema = v.object({
  ...globalEntries,
  sql: stringField("an SQL statement"),
  format: v.optional(enumField(QUERY_FORMATS), DEFAULTS.queryFormat),
});

export const RunsSchema = v.object({
  ...globalEntries,
  limit: v.optional(integerField(1), 50),
});

export const ReportSchema = v.object({
  ...globalEntries,
  run: stringField("a run name"),
  html: v.optional(stringField("a file path")),
});

export const CompareSchema = v.object({
  ...globalEntries,
  runs: v.pipe(v.array(v.string()), v.minLength(2, "needs at least two run names")),
  resamples: v.optional(integerField(1000, 1_000_000), DEFAULTS.bootstrapResamples),
  seed: v.optional(integerField(0), DEFAULTS.seed),
  html: v.optional(stringField("a file path")),
});

export const ServeSchema = v.object({
  ...globalEntries,
  service: enumField(["rerank"] as const),
  host: v.optional(stringField("a host"), DEFAULTS.serveHost),
  port: v.optional(portField(), DEFAULTS.servePort),
  teiUrl: v.optional(urlField(), DEFAULTS.teiUrl),
  rerankTimeout: retrievalEntries.rerankTimeout,
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
export type ReportOptions = v.InferOutput<typeof ReportSchema>;
export type CompareOptions = v.InferOutput<typeof CompareSchema>;
export type ServeOptions = v.InferOutput<typeof ServeSchema>;
