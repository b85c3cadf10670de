/**
 * The JSON API of musique view (read-only): routes GET /api/… to the data layer (src/view/data/,
 * which reads the store) and answers JSON. A run that does not exist or a bad parameter is a 4xx
 * with the error's message and fix; answers are cached until the database changes (data_version).
 * A comparison (thousands of bootstrap resamples) runs on a worker thread (src/worker/), so the
 * server keeps answering meanwhile.
 */
import { DEFAULTS } from "../config/defaults.ts";
import { DataError, isMusiqueError, UsageError } from "../errors.ts";
import { loadRunReport, worstExamples } from "../report/data.ts";
import type { Store } from "../store/database.ts";
import { dataVersion } from "../store/view.ts";
import { runTask } from "../worker/run.ts";
import { runsPayload } from "./data/runs.ts";
import { groupPayload, rolloutPayload, stepPayload } from "./data/steps.ts";
import { trainingPayload } from "./data/training.ts";
import type { ApiError, ComparePayload, RunPayload, StatusPayload } from "./types.ts";

/** How many of the lowest-scoring examples the run page lists (as report --html). */
const WORST_EXAMPLES = 100;
const CACHE_ENTRIES = 64;

function integer(text: string | undefined, what: string): number {
  if (text === undefined || !/^-?\d+$/.test(text)) throw new UsageError(`${what} must be an integer, got "${text ?? ""}"`);
  return Number(text);
}

/** The payload of a GET /api/… path (without /api), or null when no route matches. */
async function route(store: Store, parts: readonly string[], query: URLSearchParams, signal: AbortSignal): Promise<unknown> {
  const [head, name, what, ...rest] = parts;
  if (head === "status" && parts.length === 1) return { database: store.path, version: dataVersion(store) } satisfies StatusPayload;
  if (head === "runs" && parts.length === 1) return runsPayload(store);
  if (head === "compare" && parts.length === 1) {
    const sides = query.getAll("side").filter((side) => side !== "");
    if (sides.length < 2) throw new UsageError("compare needs at least two sides", { fix: "add ?side=RUN&side=RUN@STEP to the address" });
    const input = { path: store.path, runs: sides, resamples: DEFAULTS.bootstrapResamples, seed: DEFAULTS.seed };
    const detailed = await runTask("compare", input, { signal, write: async () => undefined });
    return detailed satisfies ComparePayload;
  }
  if (head !== "runs" || name === undefined) return null;
  if (what === undefined) {
    return { report: loadRunReport(store, name), worst: worstExamples(store, name, WORST_EXAMPLES) } satisfies RunPayload;
  }
  if (what === "training" && rest.length === 0) return trainingPayload(store, name);
  if (what === "steps" && rest.length === 1) return stepPayload(store, name, integer(rest[0], "the step"));
  if (what === "groups" && rest.length === 1) return groupPayload(store, name, integer(rest[0], "the group id"));
  if (what === "rollouts" && rest.length === 3) {
    return rolloutPayload(store, name, integer(rest[0], "the step"), rest[1] ?? "", integer(rest[2], "the rollout index"));
  }
  return null;
}

function errorResponse(error: unknown): Response {
  if (isMusiqueError(error)) {
    const status = error instanceof UsageError ? 404 : error instanceof DataError ? 422 : 500;
    return Response.json({ error: error.message, fix: error.fix ?? null } satisfies ApiError, { status });
  }
  const message = error instanceof Error ? error.message : String(error);
  return Response.json({ error: `internal error: ${message}`, fix: "this is a bug in musique; please report it" } satisfies ApiError, { status: 500 });
}

export interface Api {
  handle(request: Request): Promise<Response>;
}

export function createApi(store: Store): Api {
  const cache = new Map<string, { version: number; body: string }>();
  return {
    async handle(request: Request): Promise<Response> {
      const url = new URL(request.url);
      if (request.method !== "GET" && request.method !== "HEAD") {
        return Response.json({ error: "musique view is read-only", fix: "use GET" } satisfies ApiError, { status: 405 });
      }
      try {
        const version = dataVersion(store);
        const key = url.pathname + url.search;
        const cached = cache.get(key);
        if (cached && cached.version === version) return new Response(cached.body, { headers: { "content-type": "application/json" } });
        const parts = url.pathname
          .replace(/^\/api\/?/, "")
          .split("/")
          .filter(Boolean)
          .map(decodeURIComponent);
        const payload = await route(store, parts, url.searchParams, request.signal);
        if (payload === null) return Response.json({ error: `no such API: ${url.pathname}`, fix: null } satisfies ApiError, { status: 404 });
        const body = JSON.stringify(payload);
        cache.delete(key);
        cache.set(key, { version, body });
        if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value ?? "");
        return new Response(body, { headers: { "content-type": "application/json" } });
      } catch (error) {
        return errorResponse(error);
      }
    },
  };
}
