/** A ProgramResult for a run that failed outside its module calls (e.g. the retriever's service). */
import { ExitCode, isMusiqueError, ServiceError } from "../errors.ts";
import type { FailedService, ModuleName, ProgramResult } from "./types.ts";

/** The service a ServiceError came from, as a program failure names it. */
function failedServiceOf(error: unknown): FailedService {
  return error instanceof ServiceError && error.service === "language model" ? "lm" : "retrieval";
}

export function failedRun(error: unknown, module: ModuleName = "extract_information"): ProgramResult {
  const message = isMusiqueError(error) ? error.message : error instanceof Error ? error.message : String(error);
  return {
    answer: null,
    collectedInfo: [],
    retrievedIds: [],
    hopsUsed: 0,
    hops: [],
    calls: [],
    failure: { kind: "service", service: failedServiceOf(error), module, message, refused: isMusiqueError(error) && error.exitCode === ExitCode.rejected },
  };
}
