/**
 * Checks a rerank answer's body against the API it claims to speak. A malformed body is a
 * retryable ServiceError (a proxy hiccup or a half-loaded server), naming the URL and the fault.
 */
import type { RerankApi } from "../names.ts";
import { ServiceError, excerpt } from "../../errors.ts";
import type { RerankResult } from "./client.ts";

interface Where {
  service: string;
  url: string;
}

function malformed(where: Where, what: string, body: string): ServiceError {
  return new ServiceError(`${where.service} at ${where.url} sent an unexpected response: ${what}`, {
    service: where.service,
    url: where.url,
    kind: "malformed",
    retryable: true,
    body,
    cause: `the body was ${JSON.stringify(excerpt(body, 200))}`,
    fix: "check that --rerank-api matches the server at --rerank-url (service, tei or cohere)",
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parse and check a 2xx body; `count` is the number of documents sent. */
export function parseRerankBody(api: RerankApi, body: string, count: number, where: Where): RerankResult[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw malformed(where, "not JSON", body);
  }
  let items: unknown;
  if (api === "tei") {
    items = parsed;
    if (!Array.isArray(items)) throw malformed(where, "expected a JSON array of {index, score}", body);
  } else {
    items = isRecord(parsed) ? parsed.results : undefined;
    if (!Array.isArray(items)) throw malformed(where, 'expected {"results": [...]}', body);
  }
  const scoreKey = api === "tei" ? "score" : "relevance_score";
  const seen = new Set<number>();
  const results: RerankResult[] = [];
  for (const item of items as unknown[]) {
    if (!isRecord(item)) throw malformed(where, "a result is not an object", body);
    const index = item.index;
    const score = item[scoreKey];
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= count) {
      throw malformed(where, `a result has index ${JSON.stringify(index)}, not 0…${count - 1}`, body);
    }
    if (seen.has(index)) throw malformed(where, `index ${index} appears twice`, body);
    if (typeof score !== "number" || !Number.isFinite(score)) {
      throw malformed(where, `a result has ${scoreKey} ${JSON.stringify(score)}, not a number`, body);
    }
    seen.add(index);
    results.push({ index, score });
  }
  return results;
}
