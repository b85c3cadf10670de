/**
 * The one retry policy (src/http/retry.ts): its outcome is data — a RetryError with the reason and
 * every attempt — and a call that is not safe to repeat narrows it with `retryWhen`.
 */
import { describe, expect, test } from "bun:test";
import { ServiceError, attemptsMade, type FailureKind } from "../../src/errors.ts";
import { withRetries } from "../../src/http/retry.ts";
import { retryError } from "../helpers/errors.ts";

const fast = { initialDelayMs: 1, maxDelayMs: 2, random: () => 0 };

function failing(kinds: FailureKind[]): () => Promise<string> {
  let index = 0;
  return async () => {
    const kind = kinds[index++];
    if (kind === undefined) return "ok";
    throw new ServiceError(`failure ${index}: ${kind}`, { service: "s", url: "http://s/", kind });
  };
}

describe("withRetries: the outcome as data", () => {
  test("success after two transient failures returns the value and the attempt count", async () => {
    const result = await withRetries(failing(["server", "reset"]), { maxRetries: 3, ...fast });
    expect(result).toEqual({ value: "ok", attempts: 3 });
  });

  test("retries used up: reason maxRetriesExceeded, every attempt with its error, the last error's kind", async () => {
    const error = await retryError(withRetries(failing(["server", "timeout", "server"]), { maxRetries: 2, ...fast }));
    expect(error.reason).toBe("maxRetriesExceeded");
    expect(error.attempts.map((attempt) => [attempt.number, attempt.error.kind])).toEqual([
      [1, "server"],
      [2, "timeout"],
      [3, "server"],
    ]);
    expect(error.kind).toBe("server");
    expect(error.lastError.message).toBe("failure 3: server");
    expect(error.message).toBe("failure 3: server (after 3 attempts)");
    expect(attemptsMade(error)).toBe(3);
  });

  test("a failure not worth retrying: reason errorNotRetryable after one attempt, message unchanged", async () => {
    const error = await retryError(withRetries(failing(["auth"]), { maxRetries: 3, ...fast }));
    expect(error.reason).toBe("errorNotRetryable");
    expect(error.attempts).toHaveLength(1);
    expect(error.message).toBe("failure 1: auth");
    expect(error.exitCode).toBe(5);
  });

  test("retryWhen narrows the rule: a call not safe to repeat is retried after unreachable, never after reset or timeout", async () => {
    const onlyUnsent = { maxRetries: 3, ...fast, retryWhen: (error: ServiceError) => error.kind === "unreachable" };
    expect((await withRetries(failing(["unreachable", "unreachable"]), onlyUnsent)).attempts).toBe(3);
    for (const kind of ["reset", "timeout", "server"] as const) {
      const error = await retryError(withRetries(failing([kind, kind]), onlyUnsent));
      expect(error.reason).toBe("errorNotRetryable");
      expect(error.attempts).toHaveLength(1);
    }
  });

  test("an error that is not a ServiceError is not retried and propagates as it is", async () => {
    let calls = 0;
    const bug = new TypeError("bug");
    const promise = withRetries(
      async () => {
        calls += 1;
        throw bug;
      },
      { maxRetries: 3, ...fast },
    );
    expect(promise).rejects.toBe(bug);
    await promise.catch(() => undefined);
    expect(calls).toBe(1);
  });
});
