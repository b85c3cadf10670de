/**
 * Run names, the configuration stored with a run (secrets removed), and the options of a
 * resumed run: its stored configuration, with only operational flags taken from the new call.
 */
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { camelKeys, snakeKeys } from "../config/keys.ts";
import { UsageError, redactCredentials } from "../errors.ts";
import type { Store } from "../store/database.ts";
import { createRun, findRun, type RunKind, type RunRecord } from "../store/runs.ts";
import { operationalKeys } from "../config/operational.ts";
import { VERSION } from "../version.ts";

const SECRET_KEYS = new Set(["apiKey", "rerankApiKey"]);

/** Random per process; every name takes the next value, so the names one process makes never repeat. */
let nextSuffix = randomBytes(3).readUIntBE(0, 3);

/**
 * `evaluate-20261125-013045-7f3a9c`: UTC time to the second plus 6 hex digits, so two runs
 * started in the same second (or on two machines) do not share a name or an output folder. The
 * digits start at a random value per process and count up: names made by one process never
 * repeat (independent random draws collided for ~3 % of 1,000 names in one second), those of two
 * processes collide as rarely as two random draws (1 in 16.7 million), and a clash is refused
 * (the output folder belongs to the other run).
 */
export function defaultRunName(kind: string, date = new Date()): string {
  const stamp = date.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const suffix = nextSuffix;
  nextSuffix = (nextSuffix + 1) % 0x1000000;
  return `${kind}-${stamp}-${suffix.toString(16).padStart(6, "0")}`;
}

/** A stored value with the credentials inside URLs redacted (`http://***@host`). */
function withoutCredentials(value: unknown): unknown {
  if (typeof value === "string") return redactCredentials(value);
  if (Array.isArray(value)) return value.map(withoutCredentials);
  return value;
}

/**
 * The options as stored with the run (database and config.json): snake_case keys (num_hops, as in
 * every file musique writes), secrets removed, credentials inside URLs redacted, undefined
 * dropped. A resume gets its URLs from the new call (operational flags) when the stored ones were
 * redacted.
 */
export function publicConfig<T extends object>(options: T): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || SECRET_KEYS.has(key)) continue;
    config[key] = withoutCredentials(value);
  }
  return snakeKeys(config);
}

/** The stored configuration of a run, with the operational flags of this call on top. */
export function resumeOptions<T extends object>(storedJson: string, current: T): T {
  let stored: Record<string, unknown>;
  try {
    // snake_case keys since config files have one key style; camelCase in runs recorded before
    stored = camelKeys(JSON.parse(storedJson) as Record<string, unknown>);
  } catch (error) {
    throw new UsageError("the stored configuration of this run is not valid JSON", {
      cause: error instanceof Error ? error.message : String(error),
      fix: "start a new run instead of resuming",
    });
  }
  const merged: Record<string, unknown> = { ...stored };
  const currentRecord = current as Record<string, unknown>;
  for (const key of operationalKeys) {
    if (currentRecord[key] !== undefined) merged[key] = currentRecord[key];
    else if (SECRET_KEYS.has(key)) delete merged[key];
  }
  for (const key of SECRET_KEYS) if (currentRecord[key] !== undefined) merged[key] = currentRecord[key];
  for (const key of operationalKeys) {
    if (JSON.stringify(merged[key] ?? null).includes("://***@")) {
      throw new UsageError(
        `the stored --${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)} of this run had credentials in its URL, which are never stored`,
        {
          fix: "pass it again (with the credentials) when you resume",
        },
      );
    }
  }
  return merged as T;
}

export interface NewRunOptions {
  runName?: string | undefined;
  seed: number;
  datasets: string;
  model: string;
  retriever: string;
  outputDir: string;
}

/** A run name that is free in this database: --run-name, or {prefix}-{UTC time}-{random}. */
export function newRunName(store: Store, prefix: string, requested: string | undefined): string {
  const name = requested ?? defaultRunName(prefix);
  if (findRun(store, name)) {
    throw new UsageError(`a run named "${name}" already exists in ${store.path}`, {
      fix: `choose another --run-name, or continue it with --resume ${name}`,
    });
  }
  return name;
}

/** Create the run named `name` (see newRunName) with its stored configuration. */
export function startNewRun<T extends NewRunOptions>(store: Store, kind: RunKind, name: string, options: T): RunRecord {
  return createRun(store, {
    name,
    kind,
    config: publicConfig({ ...options, runName: name }),
    toolVersion: VERSION,
    seed: options.seed,
    dataset: options.datasets,
    model: options.model,
    retriever: options.retriever,
    // Absolute: the database may be read from anywhere (runs rm/rename find the folder by it).
    outputDir: resolve(options.outputDir, name),
  });
}
