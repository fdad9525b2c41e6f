/**
 * Reading and writing the values of a TensorProto. ONNX stores values either as little-endian
 * `raw_data` or in typed repeated fields (float_data, int32_data holding int8/uint8/bool/float16
 * bits, int64_data, double_data, uint64_data); these helpers hide the difference.
 */
import { create } from '@bufbuild/protobuf';
import {
  allocateTypedArray,
  dtypeSize,
  viewTypedArray,
  float16BitsToFloat32,
  bfloat16BitsToFloat32,
  type AnyTypedArray,
  type DType,
} from '../core/dtypes.js';
import { ErrorCode, OnnxError } from '../core/errors.js';
import {
  DataLocation,
  DataType,
  TensorProtoSchema,
  dataTypeBits,
  dataTypeName,
  dataTypeToDType,
  dtypeToDataType,
  type TensorProto,
} from './proto.js';

/** The dims of a tensor as numbers (ONNX stores int64). */
export function tensorDims(tensor: TensorProto): number[] {
  return tensor.dims.map((dim) => Number(dim));
}

/**
 * The element count of a tensor (1 for scalars). Dims come from an untrusted file: a negative dim or
 * a product beyond 2^53 is an OnnxError here, so that no caller allocates from a bogus count.
 */
export function tensorElementCount(tensor: TensorProto): number {
  let count = 1;
  for (const dim of tensor.dims) {
    if (dim < 0n)
      throw new OnnxError(
        ErrorCode.ONNX,
        `Expected non-negative dims for tensor "${tensor.name}" but received [${tensor.dims.join(', ')}]`,
      );
    count *= Number(dim);
  }
  if (!Number.isSafeInteger(count)) {
    throw new OnnxError(
      ErrorCode.ONNX,
      `Expected dims with an element count below 2^53 for tensor "${tensor.name}" but received [${tensor.dims.join(', ')}]`,
    );
  }
  return count;
}

/** Bytes the values of `tensor` occupy (rounded up for sub-byte types; 0 for strings). */
export function tensorByteLength(tensor: TensorProto): number {
  if (tensor.dataType === DataType.STRING) return tensor.stringData.reduce((sum, value) => sum + value.length, 0);
  return Math.ceil((tensorElementCount(tensor) * dataTypeBits(tensor.dataType)) / 8);
}

/** Whether the values live in an external file that has not been loaded yet. */
export function isExternal(tensor: TensorProto): boolean {
  return tensor.dataLocation === DataLocation.EXTERNAL;
}

function notLoaded(tensor: TensorProto): OnnxError {
  return new OnnxError(
    ErrorCode.ONNX,
    `The values of tensor "${tensor.name}" are in external data that was not loaded (read the model with loadExternalData: true)`,
  );
}

/** Copies bytes into a fresh, aligned ArrayBuffer and views them as `dtype`. */
function viewBytes(dtype: DType, bytes: Uint8Array, count: number): AnyTypedArray {
  const size = dtypeSize(dtype);
  if (bytes.byteOffset % size === 0) return viewTypedArray(dtype, bytes.buffer, bytes.byteOffset, count);
  const copy = new Uint8Array(count * size);
  copy.set(bytes.subarray(0, count * size));
  return viewTypedArray(dtype, copy.buffer, 0, count);
}

/**
 * The values of `tensor` in the TypedArray of its dtype. Values from raw_data may be a view into the
 * model's bytes: treat the result as read-only.
 */
export function tensorValues(tensor: TensorProto): AnyTypedArray {
  if (isExternal(tensor)) throw notLoaded(tensor);
  const dtype = dataTypeToDType(tensor.dataType);
  if (!dtype)
    throw new OnnxError(
      ErrorCode.ONNX,
      `Tensor "${tensor.name}" has element type ${dataTypeName(tensor.dataType)}, which tensorrt-node cannot read`,
    );
  const count = tensorElementCount(tensor);
  if (tensor.rawData.length > 0 || count === 0) {
    const expected = count * dtypeSize(dtype);
    if (tensor.rawData.length !== expected) {
      throw new OnnxError(
        ErrorCode.ONNX,
        `Expected ${expected} bytes of raw data for tensor "${tensor.name}" (${dtype} [${tensorDims(tensor).join(', ')}]) but received ${tensor.rawData.length}`,
      );
    }
    return viewBytes(dtype, tensor.rawData, count);
  }
  const source: ArrayLike<number | bigint> = (() => {
    switch (dtype) {
      case 'float32':
        return tensor.floatData;
      case 'float64':
        return tensor.doubleData;
      case 'int64':
        return tensor.int64Data;
      default:
        return tensor.int32Data; // int32, int8, uint8, bool, float16/bfloat16 bits, fp8 bits
    }
  })();
  // Checked before allocating: dims from the file may claim far more values than it holds.
  if (source.length !== count) {
    throw new OnnxError(
      ErrorCode.ONNX,
      `Expected ${count} values for tensor "${tensor.name}" (${dtype} [${tensorDims(tensor).join(', ')}]) but received ${source.length}`,
    );
  }
  const values = allocateTypedArray(dtype, count);
  if (values instanceof BigInt64Array) for (let index = 0; index < count; index++) values[index] = BigInt(source[index]!);
  else
    for (let index = 0; index < count; index++) (values as Exclude<AnyTypedArray, BigInt64Array>)[index] = Number(source[index]!);
  return values;
}

/** The values of a floating-point tensor (float32/float16/bfloat16/float64) as float32. */
export function tensorFloat32Values(tensor: TensorProto): Float32Array {
  const values = tensorValues(tensor);
  switch (tensor.dataType) {
    case DataType.FLOAT:
      return values as Float32Array;
    case DataType.DOUBLE:
      return Float32Array.from(values as Float64Array);
    case DataType.FLOAT16: {
      const bits = values as Uint16Array;
      const result = new Float32Array(bits.length);
      for (let index = 0; index < bits.length; index++) result[index] = float16BitsToFloat32(bits[index]!);
      return result;
    }
    case DataType.BFLOAT16: {
      const bits = values as Uint16Array;
      const result = new Float32Array(bits.length);
      for (let index = 0; index < bits.length; index++) result[index] = bfloat16BitsToFloat32(bits[index]!);
      return result;
    }
    default:
      throw new OnnxError(
        ErrorCode.ONNX,
        `Expected a floating-point tensor for "${tensor.name}" but received ${dataTypeName(tensor.dataType)}`,
      );
  }
}

function bytesOf(values: AnyTypedArray): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(values.byteLength);
  bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  return bytes;
}

/** Replaces the values (and element type) of `tensor` with `values`, stored as raw_data. */
export function setTensorValues(tensor: TensorProto, dtype: DType, dims: readonly number[], values: AnyTypedArray): void {
  tensor.dataType = dtypeToDataType(dtype);
  tensor.dims = dims.map((dim) => BigInt(dim));
  tensor.floatData = [];
  tensor.int32Data = [];
  tensor.int64Data = [];
  tensor.doubleData = [];
  tensor.uint64Data = [];
  tensor.stringData = [];
  tensor.externalData = [];
  tensor.dataLocation = DataLocation.DEFAULT;
  tensor.rawData = bytesOf(values);
}

/** A new TensorProto holding a copy of `values`. */
export function createTensor(name: string, dtype: DType, dims: readonly number[], values: AnyTypedArray): TensorProto {
  const tensor = create(TensorProtoSchema, { name });
  setTensorValues(tensor, dtype, dims, values);
  return tensor;
}
