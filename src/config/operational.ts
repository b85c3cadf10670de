/**
 * The flags a resumed run takes from the new command line (README "Evaluate": `--resume` keeps the
 * run's stored configuration except these): where and how to reach things, not what to compute.
 * Read by the run session (src/run/) and by compare (src/report/), which leaves them out of the
 * settings it compares.
 */
/** Flags that may differ when a run is resumed: where and how to reach things, not what to compute. */
export const operationalKeys = [
  "db",
  "logLevel",
  "json",
  "baseUrl",
  "apiKey",
  "concurrency",
  "maxConcurrency",
  "requestTimeout",
  "maxRetries",
  "rerankUrl",
  "rerankApiKey",
  "rerankTimeout",
  "resume",
  "arborUrl",
  "arborTimeout",
  "onInterrupt",
] as const;
