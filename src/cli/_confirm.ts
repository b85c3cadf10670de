/**
 * Asking before something that cannot be undone (`musique runs rm`): the question on stderr, one
 * line read from the terminal. Without a terminal nothing is asked: the command needs --yes.
 */
import { UsageError } from "../errors.ts";

/** True when the user typed y or yes. Refuses (usage error) when stdin is not a terminal. */
export async function confirm(question: string, flag = "--yes"): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new UsageError(`${question.replace(/\?$/, "")}: not done without confirmation`, {
      cause: "nothing can be asked: stdin is not a terminal",
      fix: `pass ${flag} to confirm`,
    });
  }
  process.stderr.write(`${question} [y/N] `);
  for await (const line of console) return /^\s*y(es)?\s*$/i.test(line);
  return false;
}
