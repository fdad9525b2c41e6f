/**
 * Tensor contents in the protocol's three forms and back: JSON values (flat or nested, row-major),
 * raw little-endian bytes (the binary tensor data extension and gRPC's raw_input_contents), and the
 * typed repeated fields of gRPC's InferTensorContents (flat JSON-like values here too). Every value
 * is checked against the stated datatype; nesting is walked with an explicit stack, so no depth of
 * input can overflow the call stack.
 */
import {
  allocateTypedArray,
  dtypeSize,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  fromBfloat16Array,
  fromFloat16Array,
  type AnyTypedArray,
  type DType,
} from '../core/dtypes.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../core/errors.js';
import { describeValue } from '../core/validate.js';
import { dtypeOf, datatypes, type Datatype } from './datatypes.js';

/** Most dims a request shape may have (TensorRT's limit). */
const MAX_RANK = 8;

/** The dtype for a request's datatype; ERR_DTYPE naming the supported ones otherwise. */
export function requestDtype(datatype: unknown, name: string): { datatype: Datatype; dtype: DType } {
  const dtype = typeof datatype === 'string' ? dtypeOf(datatype) : undefined;
  if (dtype === undefined) {
    const ErrorClass = typeof datatype === 'string' ? ArgumentRangeError : ArgumentTypeError;
    throw new ErrorClass(
      `Expected one of ${datatypes.join(', ')} for ${name} but received ${describeValue(datatype)}`,
      ErrorCode.DTYPE,
    );
  }
  return { datatype: datatype as Datatype, dtype };
}

/** A request shape: up to MAX_RANK non-negative safe integers whose product is at most `maxElements`. Returns the element count. */
export function checkShape(shape: unknown, name: string, maxElements: number): number {
  if (
    !Array.isArray(shape) ||
    shape.length > MAX_RANK ||
    !shape.every((dim) => typeof dim === 'number' && Number.isSafeInteger(dim) && dim >= 0)
  ) {
    throw new ArgumentTypeError(
      `Expected an array of at most ${MAX_RANK} non-negative integers for ${name} but received ${describeShapeValue(shape)}`,
      ErrorCode.SHAPE,
    );
  }
  let count = 1;
  for (const dim of shape as number[]) count *= dim;
  if (count > maxElements)
    throw new ArgumentRangeError(
      `Expected at most ${maxElements} elements for ${name} but received [${(shape as number[]).join(', ')}] (${count} elements)`,
      ErrorCode.SHAPE,
    );
  return count;
}

function describeShapeValue(shape: unknown): string {
  if (!Array.isArray(shape)) return describeValue(shape);
  const bad = shape.find((dim) => !(typeof dim === 'number' && Number.isSafeInteger(dim) && dim >= 0));
  return bad === undefined
    ? `an array of length ${shape.length}`
    : `${describeValue(bad)} in [${shape.map((dim) => JSON.stringify(dim) ?? String(dim)).join(', ')}]`;
}

const integerRanges: Partial<Record<DType, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int32: [-2147483648, 2147483647],
};
const INT64_TEXT = /^-?\d{1,19}$/;

/** One JSON value as the element of `dtype`, or a message saying why it cannot be one. */
type Store = (index: number, value: unknown) => string | undefined;

function storeFor(dtype: DType, datatype: Datatype, target: AnyTypedArray): Store {
  switch (dtype) {
    case 'float32':
    case 'float64': {
      const array = target as Float32Array;
      return (index, value) => {
        if (typeof value !== 'number') return 'a number';
        array[index] = value;
        return undefined;
      };
    }
    case 'float16':
    case 'bfloat16': {
      const array = target as Uint16Array;
      const toBits = dtype === 'float16' ? float32ToFloat16Bits : float32ToBfloat16Bits;
      return (index, value) => {
        if (typeof value !== 'number') return 'a number';
        array[index] = toBits(value);
        return undefined;
      };
    }
    case 'int8':
    case 'uint8':
    case 'int32': {
      const array = target as Int32Array;
      const [low, high] = integerRanges[dtype]!;
      return (index, value) => {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high)
          return `an integer between ${low} and ${high}`;
        array[index] = value;
        return undefined;
      };
    }
    case 'int64': {
      const array = target as BigInt64Array;
      return (index, value) => {
        // Beyond 2^53 a JSON number has already lost digits; such values come as decimal strings.
        if (typeof value === 'number' && Number.isSafeInteger(value)) array[index] = BigInt(value);
        else if (typeof value === 'string' && INT64_TEXT.test(value) && BigInt.asIntN(64, BigInt(value)) === BigInt(value))
          array[index] = BigInt(value);
        else return 'a safe integer or a decimal string of a 64-bit integer';
        return undefined;
      };
    }
    case 'bool': {
      const array = target as Uint8Array;
      return (index, value) => {
        if (typeof value !== 'boolean') return 'a boolean';
        array[index] = value ? 1 : 0;
        return undefined;
      };
    }
    case 'fp8e4m3':
      return () => `raw bytes (${datatype} data travels in binary form only)`;
  }
}

/**
 * `data` (a JSON value: a flat or nested array of scalars, or one scalar for a 0-d tensor) as the
 * TypedArray of `datatype` with exactly `count` elements in row-major order.
 */
export function valuesToTypedArray(datatype: Datatype, data: unknown, count: number, name: string): AnyTypedArray {
  if (!Array.isArray(data) && (data === null || typeof data === 'object')) {
    throw new ArgumentTypeError(
      `Expected an array of values (flat or nested) for ${name} but received ${describeValue(data)}`,
      ErrorCode.INVALID_ARGUMENT,
    );
  }
  // Counted before anything is allocated: a shape of a billion elements with three values must cost
  // nothing but this error, not a 4 GB allocation.
  const received = Array.isArray(data) ? countValues(data) : 1;
  if (received !== count)
    throw new ArgumentRangeError(
      `Expected ${count} values (the element count of its shape) for ${name} but received ${received}`,
      ErrorCode.SHAPE,
    );
  const dtype = dtypeOf(datatype)!;
  const target = allocateTypedArray(dtype, count);
  const store = storeFor(dtype, datatype, target);
  let written = 0;
  walkValues(Array.isArray(data) ? data : [data], (value) => {
    const expected = store(written, value);
    if (expected !== undefined)
      throw new ArgumentTypeError(
        `Expected ${expected} at index ${written} of ${name} (${datatype}) but received ${describeValue(value)}`,
        ErrorCode.DTYPE,
      );
    written++;
  });
  return target;
}

/** Calls `visit` on every non-array value of nested arrays, depth-first, left to right (row-major order whatever the nesting), with an explicit stack. */
function walkValues(data: unknown[], visit: (value: unknown) => void): void {
  const arrays: unknown[][] = [data];
  const positions: number[] = [0];
  while (arrays.length > 0) {
    const top = arrays.length - 1;
    const array = arrays[top]!;
    const position = positions[top]!;
    if (position === array.length) {
      arrays.pop();
      positions.pop();
      continue;
    }
    positions[top] = position + 1;
    const value = array[position];
    if (Array.isArray(value)) {
      arrays.push(value);
      positions.push(0);
    } else {
      visit(value);
    }
  }
}

function countValues(data: unknown[]): number {
  let count = 0;
  walkValues(data, () => count++);
  return count;
}

/** Raw little-endian bytes as the TypedArray of `datatype` (copied: a byte slice of a body is not aligned for wider types). */
export function rawToTypedArray(datatype: Datatype, bytes: Uint8Array, count: number, name: string): AnyTypedArray {
  const dtype = dtypeOf(datatype)!;
  const size = dtypeSize(dtype);
  if (bytes.byteLength !== count * size) {
    throw new ArgumentRangeError(
      `Expected ${count * size} bytes (${count} ${datatype} elements of ${size} bytes) for ${name} but received ${bytes.byteLength}`,
      ErrorCode.SHAPE,
    );
  }
  const target = allocateTypedArray(dtype, count);
  new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(bytes);
  return target;
}

/** The bytes of a TypedArray, without a copy (the protocol's raw form is little-endian, as every host this runs on). */
export function typedArrayBytes(data: AnyTypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A tensor's data as JSON values: float16/bfloat16 as numbers, int64 as numbers (decimal strings beyond 2^53), bool as booleans. */
export function typedArrayToValues(dtype: DType, data: AnyTypedArray): unknown[] {
  switch (dtype) {
    case 'float16':
      return Array.from(fromFloat16Array(data as Uint16Array));
    case 'bfloat16':
      return Array.from(fromBfloat16Array(data as Uint16Array));
    case 'int64':
      return Array.from(data as BigInt64Array, (value) =>
        value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString(),
      );
    case 'bool':
      return Array.from(data as Uint8Array, (value) => value !== 0);
    default:
      return Array.from(data as ArrayLike<number>);
  }
}

/**
 * The JSON text of a tensor's data ("[1,2.5,3]"), the same text JSON.stringify(typedArrayToValues())
 * writes, built without an intermediate array for the common numeric dtypes: a 1x3x320x320 float32
 * output is 307,200 numbers, and this is on the event loop.
 */
export function typedArrayToJsonText(dtype: DType, data: AnyTypedArray): string {
  if (dtype === 'float32' || dtype === 'float64' || dtype === 'int8' || dtype === 'uint8' || dtype === 'int32') {
    const numbers = data as Float32Array;
    let finite = true;
    for (let index = 0; index < numbers.length; index++) {
      if (!Number.isFinite(numbers[index]!)) {
        finite = false;
        break;
      }
    }
    // JSON has no NaN or Infinity: JSON.stringify writes them as null, and so does the slow path.
    if (finite) return `[${Array.prototype.join.call(numbers, ',')}]`;
  }
  return JSON.stringify(typedArrayToValues(dtype, data));
}
