/**
 * A canonical, JSON-compatible form of option values, so that equal options always hash equally:
 * object keys sorted, `undefined` dropped (as if the key were absent), -0 written as 0, and binary
 * data (calibration tensors, a calibration table) replaced by its sha256 so keys stay small.
 *
 * Keys starting with "$" are escaped with a second "$", because "$"-keys mark encoded binary data:
 * no user object can collide with an encoding.
 */
import { createHash } from 'node:crypto';
import { describeValue } from '../core/validate.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../core/errors.js';

export type CanonicalValue = null | boolean | number | string | CanonicalValue[] | { [key: string]: CanonicalValue };

export function sha256Hex(data: Uint8Array | string): string {
  const hash = createHash('sha256');
  if (typeof data === 'string') return hash.update(data).digest('hex');
  // In slices, so plans beyond 2 GiB never meet a 32-bit length limit on the way into OpenSSL.
  const slice = 1 << 30;
  for (let offset = 0; offset < data.byteLength; offset += slice) hash.update(data.subarray(offset, offset + slice));
  return hash.digest('hex');
}

const expectedData = 'JSON-like data (plain objects, arrays, strings, finite numbers, booleans, null, bigints, typed arrays)';

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function encode(value: unknown, name: string, ancestors: Set<object>): CanonicalValue | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new ArgumentRangeError(
        `Expected a finite number for ${name} but received ${describeValue(value)}`,
        ErrorCode.INVALID_ARGUMENT,
      );
    return value === 0 ? 0 : value;
  }
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (typeof value !== 'object')
    throw new ArgumentTypeError(
      `Expected ${expectedData} for ${name} but received ${describeValue(value)}`,
      ErrorCode.INVALID_ARGUMENT,
    );
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    const bytes =
      value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    // A Buffer is a Uint8Array with extra methods: the same bytes give the same key.
    const type = value instanceof ArrayBuffer || Buffer.isBuffer(value) ? 'Uint8Array' : value.constructor.name;
    return { $bytes: sha256Hex(bytes), $length: bytes.byteLength, $type: type };
  }
  if (ancestors.has(value))
    throw new ArgumentRangeError(
      `Expected ${expectedData} without cycles for ${name} but received an object that contains itself`,
      ErrorCode.INVALID_ARGUMENT,
    );
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item, index) => encode(item, `${name}[${index}]`, ancestors) ?? null);
    if (!isPlainObject(value))
      throw new ArgumentTypeError(
        `Expected ${expectedData} for ${name} but received ${describeValue(value)}`,
        ErrorCode.INVALID_ARGUMENT,
      );
    const encoded: { [key: string]: CanonicalValue } = {};
    for (const key of Object.keys(value).sort()) {
      const item = encode((value as Record<string, unknown>)[key], `${name}.${key}`, ancestors);
      if (item !== undefined) encoded[key.startsWith('$') ? `$${key}` : key] = item;
    }
    return encoded;
  } finally {
    ancestors.delete(value);
  }
}

/** The canonical form of `value`; `name` is used in error messages (`parts.build.profiles`). */
export function canonicalize(value: unknown, name: string): CanonicalValue | undefined {
  return encode(value, name, new Set());
}

/** JSON with object keys in code-unit order at every level, whatever order they were inserted in. */
export function stableStringify(value: CanonicalValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${stableStringify(value[key]!)}`).join(',')}}`;
}
