/**
 * The JSON error document `--json` prints on stdout when a command fails (README "Exit codes"),
 * so a script reads what failed, the likely cause, the fix and the exit code without parsing
 * stderr:
 *   {"error": {"message": "…", "cause": "…", "fix": "…", "exitCode": 3, "kind": "data"}}
 */
import { ExitCode, isMusiqueError } from "../errors.ts";

const KINDS: Record<number, string> = {
  [ExitCode.internal]: "internal",
  [ExitCode.usage]: "usage",
  [ExitCode.data]: "data",
  [ExitCode.service]: "service",
  [ExitCode.rejected]: "rejected",
  [ExitCode.store]: "store",
  [ExitCode.interrupted]: "interrupted",
  [ExitCode.terminated]: "interrupted",
  [ExitCode.hangup]: "interrupted",
};

interface ErrorDocument {
  error: { message: string; cause: string | null; fix: string | null; exitCode: number; kind: string };
}

/** Whether the command line asks for JSON output (`--json` before any `--`). */
export function wantsJson(words: readonly string[]): boolean {
  const end = words.indexOf("--");
  return (end < 0 ? words : words.slice(0, end)).includes("--json");
}

function errorDocument(error: unknown, exitCode: number): ErrorDocument {
  if (isMusiqueError(error)) {
    return {
      error: { message: error.message, cause: error.hint ?? null, fix: error.fix ?? null, exitCode, kind: KINDS[exitCode] ?? "internal" },
    };
  }
  return {
    error: {
      message: error instanceof Error ? error.message : String(error),
      cause: "an error musique did not anticipate (a bug)",
      fix: "please report it with the command you ran",
      exitCode,
      kind: "internal",
    },
  };
}

/** Print the error document on stdout (logs and the human message stay on stderr). */
export function printErrorDocument(error: unknown, exitCode: number): void {
  process.stdout.write(JSON.stringify(errorDocument(error, exitCode), null, 2) + "\n");
}
