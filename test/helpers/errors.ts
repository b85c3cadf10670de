/**
 * The error a promise rejects with, checked to be of the expected class: a test reads its fields
 * (`kind`, `status`, `attempts`, …) instead of matching a message. When the promise resolves, or
 * rejects with something else, the test fails saying so.
 */
import { RetryError, ServiceError } from "../../src/errors.ts";

async function rejectionOf<E extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name}, but the call succeeded`);
}

/** The ServiceError `promise` rejects with. */
export function serviceError(promise: Promise<unknown>): Promise<ServiceError> {
  return rejectionOf(promise, ServiceError);
}

/** The RetryError `promise` rejects with. */
export function retryError(promise: Promise<unknown>): Promise<RetryError> {
  return rejectionOf(promise, RetryError);
}
