/** The results database (docs/store.md). The only place in musique with SQL. */
export { inTransaction, openReadOnly, openStore, type Store } from "./database.ts";
export { MIGRATIONS, SCHEMA_VERSION } from "./schema.ts";
export {
  canonicalJson,
  configHash,
  createRun,
  findRun,
  listRuns,
  lockOf,
  recordRunExamples,
  updateRunStatus,
  type RunRecord,
  type RunSettings,
  type RunSummary,
} from "./runs.ts";
export {
  completedExampleIds,
  predictionsOf,
  recordExampleResult,
} from "./results.ts";
export {
  bestValidation,
  checkpointsOf,
  lastCompletedStep,
  newestCheckpoint,
  recordCheckpoint,
  recordGroups,
  recordRollouts,
  recordTrainingStep,
  recordValidation,
} from "./training.ts";
export { cacheCountsOf, createStoreCache } from "./cache.ts";
export { schemaStatements } from "./describe.ts";
export { runReadOnlyQuery, splitStatements, streamReadOnlyQuery } from "./query.ts";
export { TABLE_SAMPLE_ROWS, formatCsv, formatJson, formatTable } from "./format.ts";
export { addTags, checkNewRunName, deleteRun, removeTags, renameRun, requireRuns, runsWithTags } from "./manage.ts";
export {
  copyRuns,
  openForCopy,
  rowCountsOf,
  type CopiedRun,
  type CopyNames,
} from "./transfer.ts";
