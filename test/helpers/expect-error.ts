import { expect } from 'vitest';

type ErrorClass = abstract new (...args: never[]) => Error;

/** Asserts class, `code` and message of what `action` throws (or rejects with). */
export async function expectError(
  action: () => unknown,
  errorClass: ErrorClass,
  code: string,
  message: string | RegExp,
): Promise<Error & { code: string }> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected an error to be thrown').toBeInstanceOf(errorClass);
  const error = caught as Error & { code: string };
  expect(error.code).toBe(code);
  if (typeof message === 'string') expect(error.message).toBe(message);
  else expect(error.message).toMatch(message);
  return error;
}

/** The same, for code that must throw synchronously. */
export function expectErrorSync(
  action: () => unknown,
  errorClass: ErrorClass,
  code: string,
  message: string | RegExp,
): Error & { code: string } {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected an error to be thrown').toBeInstanceOf(errorClass);
  const error = caught as Error & { code: string };
  expect(error.code).toBe(code);
  if (typeof message === 'string') expect(error.message).toBe(message);
  else expect(error.message).toMatch(message);
  return error;
}
