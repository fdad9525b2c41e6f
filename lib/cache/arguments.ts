/** Argument checks shared by the engine cache's methods (same template and error classes as lib/validate.ts). */
import { ArgumentTypeError, ErrorCode } from '../core/errors.js';
import { describeValue, invalidType, invalidValue } from '../core/validate.js';
import { expectDurationMs } from '../core/units.js';
import { isCacheKeyId, type CacheKey } from './key.js';
import { describeFailure } from './warnings.js';

/** A byte or millisecond count that may be 0 or Infinity ("no limit"). */
export function expectLimit(value: unknown, name: string): number {
  if (typeof value !== 'number') throw invalidType('a non-negative integer or Infinity', name, value);
  if (value !== Infinity && (!Number.isSafeInteger(value) || value < 0))
    throw invalidValue('a non-negative integer or Infinity', name, value);
  return value;
}

/** A lock wait or staleness limit: the one duration check (core/units.ts), above 0, Infinity for none. */
export function expectPositiveMs(value: unknown, name: string): number {
  return expectDurationMs(value, name, { positive: true, allowInfinity: true });
}

export function expectSignal(value: unknown, name: string): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) throw invalidType('an AbortSignal', name, value);
  return value;
}

/** A CacheKey object (writing needs its parts for the metadata; reading accepts a bare id too). */
export function expectCacheKey(value: unknown, name: string): CacheKey {
  const key = value as Partial<CacheKey> | null;
  if (typeof key !== 'object' || key === null || !isCacheKeyId(key.id) || typeof key.parts !== 'object' || key.parts === null) {
    throw new ArgumentTypeError(
      `Expected a CacheKey from cacheKey() for ${name} but received ${describeValue(value)}`,
      ErrorCode.INVALID_ARGUMENT,
    );
  }
  return key as CacheKey;
}

export function expectPlan(value: unknown, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidType('a Uint8Array', name, value);
  if (value.byteLength === 0) throw invalidValue('a non-empty Uint8Array', name, value);
  return value;
}

/** Metadata is stored as JSON: refuse what JSON cannot hold before anything is written. */
export function expectJsonSerializable(value: unknown, name: string): void {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new ArgumentTypeError(
      `Expected JSON-serializable data for ${name} but received ${describeValue(value)} (${describeFailure(error)})`,
      ErrorCode.INVALID_ARGUMENT,
    );
  }
  if (text === undefined) throw invalidType('JSON-serializable data', name, value);
}

/** A Buffer over the same memory (no copy). */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
