/** A ProgramResult for a run that failed outside its module calls (e.g. the retriever's service). */
import { isMusiqueError } from "../errors.ts";
import type { ModuleName, ProgramResult } from "./types.ts";

export function failedRun(error: unknown, module: ModuleName = "extract_information"): ProgramResult {
  const message = isMusiqueError(error) ? error.message : error instanceof Error ? error.message : String(error);
  return {
    answer: null,
    collectedInfo: [],
    retrievedIds: [],
    hopsUsed: 0,
    hops: [],
    calls: [],
    failure: { kind: "lm", module, message },
  };
}
