/**
 * Element types, the TypedArray that holds each one, and float16/bfloat16 conversion that works
 * without Float16Array (Node 20 has none). Shared by tensors, the backends and the ONNX toolkit.
 */
import { ArgumentRangeError, ArgumentTypeError, ErrorCode, TensorRTNodeError } from './errors.js';
import { describeValue, withArticle } from './validate.js';

/**
 * The element types tensorrt-node moves around. float16 and bfloat16 are held as raw bits in a
 * Uint16Array; fp8 (e4m3) as raw bytes. float64 exists for the cpu backend only (TensorRT has no
 * float64 I/O).
 */
export const dtypes = [
  'float32',
  'float16',
  'bfloat16',
  'float64',
  'int8',
  'uint8',
  'int32',
  'int64',
  'bool',
  'fp8e4m3',
] as const;
/** One element type: a member of {@link dtypes}. */
export type DType = (typeof dtypes)[number];

/** The TypedArray class that holds each element type (float16 and bfloat16 as raw bits). */
export interface DTypeArrayMap {
  float32: Float32Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  float64: Float64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int32: Int32Array;
  int64: BigInt64Array;
  bool: Uint8Array;
  fp8e4m3: Uint8Array;
}

/** The TypedArray that holds elements of `D`, e.g. `Float32Array` for `'float32'`. */
export type TypedArrayFor<D extends DType> = DTypeArrayMap[D];
/** Any TypedArray that holds one of the element types. */
export type AnyTypedArray = DTypeArrayMap[DType];

type TypedArrayConstructor = {
  new (length: number): AnyTypedArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): AnyTypedArray;
  BYTES_PER_ELEMENT: number;
  name: string;
};

const arrayConstructors: Record<DType, TypedArrayConstructor> = {
  float32: Float32Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
  fp8e4m3: Uint8Array,
} as Record<DType, TypedArrayConstructor>;

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (dtypes as readonly string[]).includes(value);
}

/** The constructor for `dtype`; ERR_DTYPE (with the list) for anything that is not a DType. */
function constructorOf(dtype: unknown): TypedArrayConstructor {
  const constructor = isDType(dtype) ? arrayConstructors[dtype] : undefined;
  if (constructor) return constructor;
  const expected = `one of ${dtypes.map((name) => JSON.stringify(name)).join(', ')}`;
  const ErrorClass = typeof dtype === 'string' ? ArgumentRangeError : ArgumentTypeError;
  throw new ErrorClass(`Expected ${expected} for dtype but received ${describeValue(dtype)}`, ErrorCode.DTYPE);
}

/** Bytes per element. */
export function dtypeSize(dtype: DType): number {
  return constructorOf(dtype).BYTES_PER_ELEMENT;
}

/** The TypedArray constructor that holds `dtype` (Uint16Array for float16/bfloat16). */
export function typedArrayConstructor(dtype: DType): TypedArrayConstructor {
  return constructorOf(dtype);
}

/** A new zero-filled array for `elementCount` elements of `dtype`. */
export function allocateTypedArray<D extends DType>(dtype: D, elementCount: number): TypedArrayFor<D> {
  const constructor = constructorOf(dtype);
  if (typeof elementCount !== 'number' || !Number.isSafeInteger(elementCount) || elementCount < 0) {
    throw new ArgumentRangeError(
      `Expected a non-negative integer for elementCount but received ${describeValue(elementCount)}`,
      ErrorCode.SHAPE,
    );
  }
  try {
    return new constructor(elementCount) as TypedArrayFor<D>;
  } catch (error) {
    throw new TensorRTNodeError(
      ErrorCode.OUT_OF_MEMORY,
      `Could not allocate ${elementCount} ${dtype} elements (${elementCount * constructor.BYTES_PER_ELEMENT} bytes): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** A view of `dtype` over existing memory (no copy). */
export function viewTypedArray<D extends DType>(
  dtype: D,
  buffer: ArrayBufferLike,
  byteOffset: number,
  elementCount: number,
): TypedArrayFor<D> {
  const constructor = constructorOf(dtype);
  try {
    return new constructor(buffer, byteOffset, elementCount) as TypedArrayFor<D>;
  } catch (error) {
    // Misaligned offsets, ranges past the end and non-buffers: V8's own RangeError/TypeError, retyped.
    throw new ArgumentRangeError(
      `Expected ${elementCount} ${dtype} elements at byte ${byteOffset} inside buffer but received ${describeValue(buffer)} (${(error as Error).message})`,
      ErrorCode.SHAPE,
      { cause: error },
    );
  }
}

/**
 * A Float16Array (Node.js 24 on), described by its shape so that no TypeScript lib beyond ES2023 is
 * needed. Taken wherever float16 data is: as a view of its bits (the same memory, not a copy).
 */
export type Float16ArrayLike = ArrayBufferView & { readonly length: number; readonly [Symbol.toStringTag]: 'Float16Array' };

/** Whether `array` is the TypedArray class that holds `dtype`. */
export function matchesDType(dtype: DType, array: unknown): boolean {
  return isDType(dtype) && ArrayBuffer.isView(array) && array.constructor === arrayConstructors[dtype];
}

/**
 * `array` as the TypedArray that holds `dtype`, or undefined when it is not one. A Float16Array
 * (Node.js 24 on) given for float16 comes back as a Uint16Array over the same memory (its bits).
 */
export function asDTypeArray(dtype: DType, array: unknown): AnyTypedArray | undefined {
  const data = dtype === 'float16' ? asFloat16Bits(array) : array;
  return matchesDType(dtype, data) ? (data as AnyTypedArray) : undefined;
}

/**
 * `array` as the TypedArray for `dtype` (see {@link asDTypeArray}); ERR_DTYPE when it is not one, e.g.
 * "Expected a Float32Array for input "images" (float32) but received a Float64Array of length 3".
 */
export function checkTypedArray(dtype: DType, array: unknown, name: string): AnyTypedArray {
  const data = asDTypeArray(dtype, array);
  if (data) return data;
  const expected = constructorOf(dtype).name;
  const received = ArrayBuffer.isView(array)
    ? `${withArticle(array.constructor.name)} of length ${(array as AnyTypedArray).length}`
    : describeValue(array);
  throw new ArgumentTypeError(
    `Expected ${withArticle(expected)} for ${name} (${dtype}) but received ${received}`,
    ErrorCode.DTYPE,
  );
}

/**
 * Number of elements of `shape`, checked: every dim a non-negative safe integer and the product
 * representable. Throws ERR_SHAPE otherwise.
 */
export function elementCount(shape: readonly number[], name = 'shape'): number {
  if (!Array.isArray(shape))
    throw new ArgumentTypeError(
      `Expected an array of dimensions for ${name} but received ${describeValue(shape)}`,
      ErrorCode.SHAPE,
    );
  for (let index = 0; index < shape.length; index++) {
    const dim = shape[index];
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new ArgumentRangeError(
        `Expected a non-negative integer for ${name}[${index}] but received ${describeValue(dim)}`,
        ErrorCode.SHAPE,
      );
    }
  }
  // An empty tensor is empty whatever its other dims: [0, 2^40, 2^40] has 0 elements, not an overflow.
  if (shape.includes(0)) return 0;
  let count = 1;
  for (const dim of shape) {
    count *= dim;
    if (!Number.isSafeInteger(count))
      throw new ArgumentRangeError(`The element count of ${name} [${shape.join(', ')}] overflows`, ErrorCode.SHAPE);
  }
  return count;
}

// ------------------------------------------------------------------------------------------------
// float16 / bfloat16 <-> float32, bit-exact (round to nearest even; NaN payloads kept where they fit)
// ------------------------------------------------------------------------------------------------

const scratch = new DataView(new ArrayBuffer(4));

function float32Bits(value: number): number {
  scratch.setFloat32(0, value);
  return scratch.getUint32(0);
}

function bitsToFloat32(bits: number): number {
  scratch.setUint32(0, bits >>> 0);
  return scratch.getFloat32(0);
}

/** IEEE 754 binary16 bits of `value` (rounded to nearest even; overflow gives Infinity). */
export function float32ToFloat16Bits(value: number): number {
  const bits = float32Bits(value);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;

  if (exponent === 0xff) {
    if (mantissa === 0) return sign | 0x7c00;
    // NaN: keep the top payload bits and force a quiet NaN so it cannot become Infinity.
    return sign | 0x7c00 | 0x200 | (mantissa >>> 13);
  }
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign; // rounds to zero
    const fullMantissa = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let halfMantissa = fullMantissa >>> shift;
    const remainder = fullMantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && (halfMantissa & 1) === 1)) halfMantissa += 1;
    return sign | halfMantissa;
  }
  let half = sign | (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) half += 1; // may carry into Infinity, as IEEE says
  return half;
}

/** The float value of binary16 `bits`. */
export function float16BitsToFloat32(bits: number): number {
  const sign = (bits & 0x8000) << 16;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) {
    if (mantissa === 0) return bitsToFloat32(sign);
    // Subnormal half: exactly representable as a float32 value.
    const magnitude = mantissa * 2 ** -24;
    return sign ? -magnitude : magnitude;
  }
  if (exponent === 0x1f) return bitsToFloat32(sign | 0x7f800000 | (mantissa << 13));
  return bitsToFloat32(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

/** bfloat16 bits of `value` (the top half of float32, rounded to nearest even). */
export function float32ToBfloat16Bits(value: number): number {
  const bits = float32Bits(value);
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff; // quiet NaN
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** The float value of bfloat16 `bits`. */
export function bfloat16BitsToFloat32(bits: number): number {
  return bitsToFloat32((bits & 0xffff) << 16);
}

function expectArrayLike(value: unknown, name: string): void {
  const ok = ArrayBuffer.isView(value) ? !(value instanceof DataView) : Array.isArray(value);
  if (!ok) throw new ArgumentTypeError(`Expected an array or a TypedArray for ${name} but received ${describeValue(value)}`);
}

/**
 * `data` with float16 elements as tensorrt-node holds them: a Uint16Array of the bits. Where the
 * runtime has Float16Array (Node.js 24 on), onnxruntime-common hands float16 tensors' data out as
 * one, whose elements read as values, not bits: this views the same memory as bits instead, and
 * passes anything else through.
 */
export function asFloat16Bits<T>(data: T): T | Uint16Array {
  const Float16 = (globalThis as { Float16Array?: new (...args: never[]) => ArrayBufferView }).Float16Array;
  if (Float16 === undefined || !(data instanceof Float16)) return data;
  const view = data as ArrayBufferView;
  return new Uint16Array(view.buffer, view.byteOffset, view.byteLength / 2);
}

/** float16 bits of every value of `values`. */
export function toFloat16Array(values: ArrayLike<number>): Uint16Array {
  expectArrayLike(values, 'values');
  const result = new Uint16Array(values.length);
  for (let index = 0; index < values.length; index++) result[index] = float32ToFloat16Bits(values[index]!);
  return result;
}

/** float32 values of float16 bits. */
export function fromFloat16Array(bits: Uint16Array): Float32Array {
  expectArrayLike(bits, 'bits');
  const result = new Float32Array(bits.length);
  for (let index = 0; index < bits.length; index++) result[index] = float16BitsToFloat32(bits[index]!);
  return result;
}

/** bfloat16 bits of every value of `values`. */
export function toBfloat16Array(values: ArrayLike<number>): Uint16Array {
  expectArrayLike(values, 'values');
  const result = new Uint16Array(values.length);
  for (let index = 0; index < values.length; index++) result[index] = float32ToBfloat16Bits(values[index]!);
  return result;
}

/** float32 values of bfloat16 bits. */
export function fromBfloat16Array(bits: Uint16Array): Float32Array {
  expectArrayLike(bits, 'bits');
  const result = new Float32Array(bits.length);
  for (let index = 0; index < bits.length; index++) result[index] = bfloat16BitsToFloat32(bits[index]!);
  return result;
}

/**
 * A tensor in plain host memory, as plain data: what backends take and return. `Tensor`
 * adds pinned and device locations on top.
 */
export interface HostTensor<D extends DType = DType> {
  dtype: D;
  shape: number[];
  data: TypedArrayFor<D>;
}
