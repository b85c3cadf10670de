/**
 * The concurrency each LM endpoint got over a run (docs/store.md `concurrency_limits`, issue 19):
 * one row per change of an endpoint's limit under `--concurrency auto` (why, and what the window
 * that decided it measured), or one row per endpoint with the fixed `--concurrency`. Queryable:
 *
 *   SELECT endpoint, at, concurrency, reason FROM concurrency_limits WHERE run_id = ? ORDER BY id
 */
import { guarded, type Store } from "./database.ts";
import type { ConcurrencyLimitRow } from "./tables.ts";

export type ConcurrencyLimitRecord = Omit<ConcurrencyLimitRow, "id" | "runId">;

export function recordConcurrencyLimit(store: Store, runId: number, record: ConcurrencyLimitRecord): void {
  guarded(store, () =>
    store.database
      .query(
        `INSERT INTO concurrency_limits (run_id, endpoint, at, concurrency, previous, reason, requests_per_second, tokens_per_second, latency_p50_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        runId,
        record.endpoint,
        record.at,
        record.concurrency,
        record.previous,
        record.reason,
        record.requestsPerSecond,
        record.tokensPerSecond,
        record.latencyP50Ms,
      ),
  );
}
