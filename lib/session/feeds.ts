/**
 * Turns what callers pass to `session.run()` into the HostTensor feeds backends take (see
 * ./types.ts FeedValue), then checks them with the one feed validator (core/feeds.ts), so bad input
 * gets the same class, code and message whichever form it came in and whichever backend runs it:
 *
 * - HostTensor / `{ data, shape }` with the dtype's TypedArray: used as is (never copied);
 * - a Tensor: host and pinned tensors are used in place (`.data`); a device tensor is copied to
 *   host memory first (the cpu backend cannot read GPU memory);
 * - plain arrays where the dtype makes them unambiguous (numbers for float32/float64/int8/uint8/
 *   int32, numbers or bigints for int64, booleans for bool), copied into the TypedArray;
 * - a bare TypedArray or plain array when the model's shape for that input is fully static;
 * - an onnxruntime-node `Tensor`, or anything with its `type`, `data` and `dims`: its data used in
 *   place (never copied), its `type` checked as a dtype.
 */
import { allocateTypedArray, type DType, type HostTensor } from '../core/dtypes.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../core/errors.js';
import { checkDType, checkFeedNames, inputLabel, staticShapeFor, tensorOfDType, validateInputs } from '../core/feeds.js';
import { setEntry, type TensorInfo, type TensorMap } from '../core/tensors.js';
import { Tensor } from '../cuda/tensor.js';
import { describeValue } from '../core/validate.js';

const plainNumberRanges: Partial<Record<DType, [number, number] | null>> = {
  float32: null,
  float64: null,
  int8: [-128, 127],
  uint8: [0, 255],
  int32: [-2147483648, 2147483647],
};

/** A plain JS array as the TypedArray of `info.dtype`, every element checked. */
function fromPlainArray(info: TensorInfo, values: readonly unknown[], label: string): HostTensor['data'] {
  const { dtype } = info;
  if (dtype in plainNumberRanges) {
    const range = plainNumberRanges[dtype] ?? null;
    const data = allocateTypedArray(dtype, values.length) as Float32Array;
    for (let index = 0; index < values.length; index++) {
      const value = values[index];
      if (typeof value !== 'number')
        throw new ArgumentTypeError(
          `Expected numbers in the data of ${label} (${dtype}) but received ${describeValue(value)} at index ${index}`,
          ErrorCode.DTYPE,
        );
      if (range && !(Number.isInteger(value) && value >= range[0] && value <= range[1])) {
        throw new ArgumentRangeError(
          `Expected integers between ${range[0]} and ${range[1]} in the data of ${label} (${dtype}) but received ${describeValue(value)} at index ${index}`,
          ErrorCode.DTYPE,
        );
      }
      data[index] = value;
    }
    return data;
  }
  if (dtype === 'int64') {
    const data = new BigInt64Array(values.length);
    for (let index = 0; index < values.length; index++) {
      const value = values[index];
      if (typeof value === 'bigint') data[index] = value;
      else if (typeof value === 'number' && Number.isSafeInteger(value)) data[index] = BigInt(value);
      else
        throw new ArgumentTypeError(
          `Expected bigints or safe integers in the data of ${label} (int64) but received ${describeValue(value)} at index ${index}`,
          ErrorCode.DTYPE,
        );
    }
    return data;
  }
  if (dtype === 'bool') {
    const data = new Uint8Array(values.length);
    for (let index = 0; index < values.length; index++) {
      const value = values[index];
      if (typeof value !== 'boolean')
        throw new ArgumentTypeError(
          `Expected booleans in the data of ${label} (bool) but received ${describeValue(value)} at index ${index}`,
          ErrorCode.DTYPE,
        );
      data[index] = value ? 1 : 0;
    }
    return data;
  }
  throw new ArgumentTypeError(
    `Expected a ${dtype === 'float16' || dtype === 'bfloat16' ? 'Uint16Array of raw bits' : 'Uint8Array of raw bytes'} for ${label} (${dtype}) but received a plain array, which is ambiguous for ${dtype} (bits or values?); convert it (toFloat16Array(), toBfloat16Array()) or pass a Tensor`,
    ErrorCode.DTYPE,
  );
}

const quoted = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : describeValue(value));

/** onnxruntime's name for a tensor's shape is `dims` and for its dtype `type`: `{ type, data, dims }`. */
function isOrtTensorLike(value: object): value is { type: unknown; dims: unknown; data?: unknown; location?: unknown } {
  return 'dims' in value && 'type' in value && !('shape' in value);
}

/** An onnxruntime Tensor (or its look-alike) as a HostTensor over the same data. */
function fromOrtTensor(info: TensorInfo, value: { type: unknown; dims: unknown; location?: unknown }, label: string): unknown {
  // onnxruntime keeps GPU tensors' data out of reach (reading `data` throws): say so in our terms.
  if (value.location !== undefined && value.location !== 'cpu' && value.location !== 'cpu-pinned') {
    throw new ArgumentTypeError(
      `Expected a tensor in CPU memory for ${label} but received an onnxruntime Tensor at location ${quoted(value.location)}; read it to the CPU first (await tensor.getData())`,
      ErrorCode.INVALID_ARGUMENT,
    );
  }
  checkDType(info, value.type, label, `a tensor of type ${quoted(value.type)}`);
  // A Float16Array (onnxruntime's float16 data on Node.js 24 on) is viewed as bits by the one validator.
  return { dtype: info.dtype, shape: value.dims, data: (value as { data?: unknown }).data };
}

/** One feed as a HostTensor (not yet validated), or a promise of one for device tensors. */
function toHostTensor(info: TensorInfo, value: unknown, label: string): HostTensor | Promise<HostTensor> | unknown {
  if (value instanceof Tensor) {
    checkDType(info, value.dtype, label, tensorOfDType(value.dtype));
    if (value.location === 'device')
      return value.toArray().then((data) => ({ dtype: value.dtype, shape: [...value.shape], data }) as HostTensor);
    return { dtype: value.dtype, shape: [...value.shape], data: value.data } as HostTensor;
  }
  if (ArrayBuffer.isView(value)) return { dtype: info.dtype, shape: staticShapeFor(info, label, value), data: value };
  if (Array.isArray(value))
    return { dtype: info.dtype, shape: staticShapeFor(info, label, value), data: fromPlainArray(info, value, label) };
  if (typeof value === 'object' && value !== null && isOrtTensorLike(value)) return fromOrtTensor(info, value, label);
  if (typeof value === 'object' && value !== null && 'data' in value) {
    const { data, shape, dtype } = value as { data: unknown; shape: unknown; dtype?: unknown };
    if (dtype !== undefined) checkDType(info, dtype, label);
    if (Array.isArray(data)) return { dtype: info.dtype, shape, data: fromPlainArray(info, data, label) };
    return { dtype: info.dtype, shape, data };
  }
  return value; // validateTensor words the error
}

/**
 * Normalizes and validates `feeds` against `inputs`. Synchronous unless a device tensor must be
 * copied to host memory, so that the common path costs no extra turn of the event loop.
 */
export function normalizeFeeds(inputs: readonly TensorInfo[], feeds: unknown, context = ''): TensorMap | Promise<TensorMap> {
  checkFeedNames(inputs, feeds, { context });
  const normalized: Record<string, unknown> = {};
  let pending: Promise<void>[] | undefined;
  for (const info of inputs) {
    // checkFeedNames has refused missing inputs: every value is defined.
    const tensor = toHostTensor(info, feeds[info.name], inputLabel(info, context));
    if (tensor instanceof Promise) (pending ??= []).push(tensor.then((host) => setEntry(normalized, info.name, host)));
    else setEntry(normalized, info.name, tensor);
  }
  if (pending === undefined) return validateInputs(inputs, normalized, context);
  return Promise.all(pending).then(() => validateInputs(inputs, normalized, context));
}
