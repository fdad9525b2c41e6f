/**
 * NumPy .npy files (format versions 1-3, little-endian, C order) and JSON tensors
 * (`{ "dtype": "float32", "shape": [1, 3], "data": [...] }`): how tensors travel in and out of the CLI
 * and calibration folders.
 */
import {
  allocateTypedArray,
  dtypeSize,
  elementCount,
  float16BitsToFloat32,
  isDType,
  toFloat16Array,
  type AnyTypedArray,
  type DType,
  type HostTensor,
} from '../core/dtypes.js';
import { ErrorCode, OnnxError } from '../core/errors.js';
import { describeValue } from '../core/validate.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const descrToDType: Record<string, DType> = {
  '<f4': 'float32',
  '<f2': 'float16',
  '<f8': 'float64',
  '|i1': 'int8',
  '|u1': 'uint8',
  '<i4': 'int32',
  '<i8': 'int64',
  '|b1': 'bool',
};

function bad(name: string, why: string): OnnxError {
  return new OnnxError(ErrorCode.IO, `Expected a NumPy .npy tensor for ${name} but received ${why}`);
}

/** Parses an .npy file; `name` labels errors. The data is copied into a fresh aligned array. */
export function parseNpy(bytes: Uint8Array, name: string): HostTensor {
  if (bytes.length < 10 || MAGIC.some((value, index) => bytes[index] !== value))
    throw bad(name, 'a file without the \\x93NUMPY magic');
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw bad(name, `format version ${major} (supported: 1, 2, 3)`);
  if (major > 1 && bytes.length < 12) throw bad(name, 'a truncated header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLength > bytes.length) throw bad(name, 'a truncated header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, headerStart + headerLength),
  );
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw bad(name, `an unreadable header ${JSON.stringify(header.trim())}`);
  const dtype = descrToDType[descr];
  if (!dtype) throw bad(name, `dtype ${descr} (supported: ${Object.keys(descrToDType).join(', ')})`);
  if (fortran === 'True') throw bad(name, 'Fortran-ordered data (save it with np.ascontiguousarray)');
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map(Number);
  const count = elementCount(shape, `shape of ${name}`);
  const dataStart = headerStart + headerLength;
  const expected = count * dtypeSize(dtype);
  if (bytes.length - dataStart !== expected)
    throw bad(name, `${bytes.length - dataStart} data bytes where shape [${shape.join(', ')}] of ${dtype} needs ${expected}`);
  const data = allocateTypedArray(dtype, count);
  new Uint8Array(data.buffer).set(bytes.subarray(dataStart, dataStart + expected));
  return { dtype, shape, data } as HostTensor;
}

/** Encodes a tensor as an .npy (version 1) file. */
export function encodeNpy(tensor: HostTensor): Uint8Array {
  const descr = Object.entries(descrToDType).find(([, dtype]) => dtype === tensor.dtype)?.[0];
  if (!descr)
    throw new OnnxError(ErrorCode.DTYPE, `Expected a dtype NumPy can store for an .npy file but received ${tensor.dtype}`);
  const shape = tensor.shape.length === 1 ? `(${tensor.shape[0]},)` : `(${tensor.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const data = tensor.data as AnyTypedArray;
  const bytes = new Uint8Array(10 + header.length + data.byteLength);
  bytes.set(MAGIC, 0);
  bytes[6] = 1;
  bytes[7] = 0;
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return bytes;
}

/** An int64 element: an integer number, an integer string (beyond 2^53) or a boolean; BigInt() alone throws untyped errors. */
function int64Value(item: unknown, fail: () => OnnxError): bigint {
  if (typeof item === 'boolean') return item ? 1n : 0n;
  if (typeof item === 'number' && Number.isInteger(item)) return BigInt(item);
  if (typeof item === 'string' && /^\s*-?\d+\s*$/.test(item)) {
    const value = BigInt(item);
    if (value >= -(2n ** 63n) && value < 2n ** 63n) return value;
  }
  throw fail();
}

/** A tensor from its JSON form; float16 data is given as numbers (converted to bits). */
export function tensorFromJson(value: unknown, name: string): HostTensor {
  const fail = (why: string) =>
    new OnnxError(ErrorCode.IO, `Expected a JSON tensor { "dtype", "shape", "data" } for ${name} but received ${why}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(describeValue(value));
  const { dtype, shape, data } = value as { dtype?: unknown; shape?: unknown; data?: unknown };
  if (!isDType(dtype) || dtype === 'bfloat16' || dtype === 'fp8e4m3') throw fail(`dtype ${describeValue(dtype)}`);
  if (!Array.isArray(shape)) throw fail(`shape ${describeValue(shape)}`);
  const count = elementCount(shape as number[], `shape of ${name}`);
  if (!Array.isArray(data) || data.length !== count)
    throw fail(
      `data ${Array.isArray(data) ? `of length ${data.length} where shape [${shape.join(', ')}] needs ${count}` : describeValue(data)}`,
    );
  const numbers = data as unknown[];
  if (numbers.some((item) => typeof item !== 'number' && typeof item !== 'boolean' && typeof item !== 'string'))
    throw fail('non-numeric data');
  let array: AnyTypedArray;
  if (dtype === 'float16') array = toFloat16Array(numbers.map(Number));
  else if (dtype === 'int64')
    array = BigInt64Array.from(
      numbers.map((item, index) =>
        int64Value(item, () => fail(`data[${index}] ${describeValue(item)}, which is not an integer`)),
      ),
    );
  else {
    array = allocateTypedArray(dtype, count);
    (array as Exclude<AnyTypedArray, BigInt64Array>).set(numbers.map(Number));
  }
  return { dtype, shape: shape as number[], data: array } as HostTensor;
}

/** The JSON form of a tensor (int64 as numbers when safe, else strings; float16 as numbers). */
export function tensorToJson(tensor: HostTensor): { dtype: DType; shape: number[]; data: (number | string)[] } {
  const data: (number | string)[] = [];
  if (tensor.data instanceof BigInt64Array)
    for (const value of tensor.data) data.push(Number.isSafeInteger(Number(value)) ? Number(value) : value.toString());
  else if (tensor.dtype === 'float16') {
    for (const bits of tensor.data as Uint16Array) data.push(float16BitsToFloat32(bits));
  } else for (const value of tensor.data as Iterable<number>) data.push(Number(value));
  return { dtype: tensor.dtype, shape: [...tensor.shape], data };
}
