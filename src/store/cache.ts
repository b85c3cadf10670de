/**
 * The LM response cache, backed by the lm_cache table. Structurally the `ResponseCache` of
 * src/lm/cache.ts: get(key) → ChatResult | null, set(key, result). A hit comes back marked as
 * one: cached = true, attempts = 0, endpoint = null, latencyMs = 0. The key (src/lm/cache.ts)
 * holds the endpoint and the served model's identity; `cacheCounts` says how many of a run's
 * module calls the cache answered (module_calls.cached).
 */
import type { CacheCounts } from "../lm/cache.ts";
import type { ChatResult } from "../lm/types.ts";
import { guarded, now, type Store } from "./database.ts";
import { jsonValue } from "./json.ts";
import type { LmCacheRow } from "./tables.ts";

export interface StoreResponseCache {
  get(key: string): ChatResult | null;
  set(key: string, result: ChatResult): void;
}

function isChatResult(value: unknown): value is ChatResult {
  return (
    typeof value === "object" && value !== null && "text" in value && typeof value.text === "string" && "model" in value && typeof value.model === "string"
  );
}

export function createStoreCache(store: Store): StoreResponseCache {
  return {
    get(key: string): ChatResult | null {
      const row = guarded(store, () =>
        store.database.query<Pick<LmCacheRow, "responseJson">, [string]>("SELECT response_json AS responseJson FROM lm_cache WHERE key = ?").get(key),
      );
      if (!row) return null;
      const stored = jsonValue(row.responseJson);
      if (!isChatResult(stored)) return null;
      return { ...stored, cached: true, attempts: 0, endpoint: null, latencyMs: 0 };
    },
    set(key: string, result: ChatResult): void {
      const stored: ChatResult = { ...result, cached: false };
      guarded(store, () =>
        store.database
          .query(
            `INSERT INTO lm_cache (key, model, response_json, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET model = excluded.model, response_json = excluded.response_json,
               created_at = excluded.created_at`,
          )
          .run(key, result.model, JSON.stringify(stored), now()),
      );
    },
  };
}

/** How many of a run's module calls the response cache answered (module_calls.cached). */
export function cacheCountsOf(store: Store, runId: number): CacheCounts {
  const row = guarded(store, () =>
    store.database.query<CacheCounts, [number]>("SELECT COALESCE(SUM(cached), 0) AS answered, COUNT(*) AS calls FROM module_calls WHERE run_id = ?").get(runId),
  );
  return row ?? { answered: 0, calls: 0 };
}
