/** The results database (docs/store.md). The only place in musique with SQL. */
export { DEFAULT_BUSY_TIMEOUT_MS, inTransaction, openReadOnly, openStore, type OpenOptions, type Store } from "./database.ts";
export { MIGRATIONS, SCHEMA_VERSION } from "./schema.ts";
export {
  canonicalJson,
  configHash,
  createRun,
  findRun,
  getRun,
  listRuns,
  lockOf,
  runExampleOf,
  recordRunExamples,
  updateRunStatus,
  type ExampleRole,
  type ListRunsOptions,
  type NewRun,
  type RunExample,
  type RunKind,
  type RunRecord,
  type RunStatus,
  type RunSettings,
  type RunSummary,
} from "./runs.ts";
export {
  EVALUATION_STEP,
  NO_ROLLOUT,
  completedExampleIds,
  predictionStatus,
  predictionsOf,
  recordExampleResult,
  writeModuleCalls,
  type ExampleResult,
  type PredictionRecord,
  type PredictionStatus,
} from "./results.ts";
export {
  bestValidation,
  checkpointsOf,
  lastCompletedStep,
  newestCheckpoint,
  stepOfBatch,
  recordCheckpoint,
  recordGroup,
  recordGroups,
  recordRollouts,
  recordTrainingStep,
  recordValidation,
  type CheckpointRecord,
  type GroupRecord,
  type RolloutResult,
  type TrainingStepRecord,
  type TrainingStepStatus,
  type ValidationRecord,
} from "./training.ts";
export { cacheCountsOf, createStoreCache, type StoreResponseCache } from "./cache.ts";
export { schemaStatements } from "./describe.ts";
export { runReadOnlyQuery, splitStatements, streamReadOnlyQuery, type QueryResult, type QueryValue } from "./query.ts";
export { TABLE_SAMPLE_ROWS, formatCsv, formatJson, formatTable, rowFormatter, type RowFormatter } from "./format.ts";
export { addTags, checkNewRunName, deleteRun, removeTags, renameRun, requireRun, requireRuns, runsWithTags, tagsOf, type RunRename } from "./manage.ts";
export {
  copyRuns,
  openForCopy,
  rowCountsOf,
  runDigest,
  runTables,
  type CopiedRun,
  type CopyAction,
  type CopyNames,
  type RunTable,
  type TableDigest,
} from "./transfer.ts";
