/**
 * The ONNX project's backend test corpus (onnx/backend/test/data in github.com/onnx/onnx), read from
 * the git-ignored `.deps/onnx-tests/` folder: each case is a folder with `model.onnx` and
 * `test_data_set_*` folders of `input_*.pb` / `output_*.pb` (serialized TensorProto). Nothing here
 * is committed; `npm run conformance` prints how to fetch it when it is absent.
 */
import { fromBinary } from '@bufbuild/protobuf';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataType, TensorProtoSchema, type TensorProto } from '../../lib/onnx/proto.js';

/** The folders of onnx/backend/test/data that the conformance run covers. */
export const CORPUS_FOLDERS = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'] as const;

/** Where the corpus is extracted (git archive of onnx/backend/test/data into .deps/onnx-tests). */
export const DEFAULT_CORPUS_ROOT = resolve('.deps/onnx-tests');

export function corpusDataDir(root: string): string {
  return join(root, 'onnx', 'backend', 'test', 'data');
}

export interface CorpusCase {
  /** "<folder>/<case>", e.g. "node/test_abs". */
  id: string;
  folder: string;
  dir: string;
}

/** The ONNX release the corpus was extracted from (the VERSION file written next to it), or null. */
export function corpusVersion(root: string): string | null {
  const file = join(root, 'VERSION');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
}

export function corpusPresent(root: string): boolean {
  return existsSync(join(corpusDataDir(root), 'node'));
}

/** Every case folder of the covered folders, sorted. */
export function listCases(root: string): CorpusCase[] {
  const cases: CorpusCase[] = [];
  for (const folder of CORPUS_FOLDERS) {
    const base = join(corpusDataDir(root), folder);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      const dir = join(base, name);
      if (statSync(dir).isDirectory()) cases.push({ id: `${folder}/${name}`, folder, dir });
    }
  }
  return cases;
}

/** One test data set: inputs and expected outputs in graph order. */
export interface DataSet {
  name: string;
  inputs: TensorProto[];
  outputs: TensorProto[];
}

/** Files a case needs that the snapshot lacks (files of 4 MiB and more are left out of snapshots). */
export function missingFiles(testCase: CorpusCase): string[] {
  const missing: string[] = [];
  if (!existsSync(join(testCase.dir, 'model.onnx'))) missing.push('model.onnx');
  const sets = readdirSync(testCase.dir).filter((name) => name.startsWith('test_data_set_'));
  if (sets.length === 0) missing.push('test_data_set_*');
  return missing;
}

function numbered(dir: string, prefix: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.startsWith(prefix) && name.endsWith('.pb'))
    .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
    .map((name) => join(dir, name));
}

/** The data sets of a case; `.pb` files are TensorProto unless the graph declares another type (the caller checks). */
export function readDataSets(testCase: CorpusCase): DataSet[] {
  return readdirSync(testCase.dir)
    .filter((name) => name.startsWith('test_data_set_'))
    .sort()
    .map((name) => {
      const dir = join(testCase.dir, name);
      const decode = (path: string) => fromBinary(TensorProtoSchema, readFileSync(path));
      return { name, inputs: numbered(dir, 'input_').map(decode), outputs: numbered(dir, 'output_').map(decode) };
    });
}

/** An element type onnxruntime-node can take as a tensor, with its TypedArray. */
export const ORT_TYPES: Partial<Record<number, string>> = {
  [DataType.FLOAT]: 'float32',
  [DataType.DOUBLE]: 'float64',
  [DataType.FLOAT16]: 'float16',
  [DataType.INT8]: 'int8',
  [DataType.UINT8]: 'uint8',
  [DataType.INT16]: 'int16',
  [DataType.UINT16]: 'uint16',
  [DataType.INT32]: 'int32',
  [DataType.UINT32]: 'uint32',
  [DataType.INT64]: 'int64',
  [DataType.UINT64]: 'uint64',
  [DataType.BOOL]: 'bool',
  [DataType.STRING]: 'string',
};

type Values =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[];

const arrays: Record<
  string,
  {
    new (buffer: ArrayBuffer, offset: number, length: number): Exclude<Values, string[]>;
    BYTES_PER_ELEMENT: number;
    from(values: ArrayLike<never>): Exclude<Values, string[]>;
  }
> = {
  float32: Float32Array as never,
  float64: Float64Array as never,
  float16: Uint16Array as never,
  int8: Int8Array as never,
  uint8: Uint8Array as never,
  int16: Int16Array as never,
  uint16: Uint16Array as never,
  int32: Int32Array as never,
  uint32: Uint32Array as never,
  int64: BigInt64Array as never,
  uint64: BigUint64Array as never,
  bool: Uint8Array as never,
};

/** A TensorProto as onnxruntime-node tensor parts (type, values, dims), or null for element types it cannot take. */
export function protoToTensorParts(tensor: TensorProto): { type: string; data: Values; dims: number[] } | null {
  const type = ORT_TYPES[tensor.dataType];
  if (!type) return null;
  const dims = tensor.dims.map(Number);
  const count = dims.reduce((product, dim) => product * dim, 1);
  if (type === 'string') return { type, data: tensor.stringData.map((bytes) => new TextDecoder().decode(bytes)), dims };
  const Array_ = arrays[type]!;
  if (tensor.rawData.length > 0 || count === 0) {
    const copy = new Uint8Array(tensor.rawData.length);
    copy.set(tensor.rawData);
    return { type, data: new Array_(copy.buffer, 0, count), dims };
  }
  const source: ArrayLike<number | bigint> =
    type === 'float32'
      ? tensor.floatData
      : type === 'float64'
        ? tensor.doubleData
        : type === 'int64'
          ? tensor.int64Data
          : type === 'uint32' || type === 'uint64'
            ? tensor.uint64Data
            : tensor.int32Data;
  const data = new Array_(new ArrayBuffer(count * Array_.BYTES_PER_ELEMENT), 0, count);
  for (let index = 0; index < count; index++) {
    const value = source[index]!;
    (data as unknown as (number | bigint)[])[index] =
      data instanceof BigInt64Array || data instanceof BigUint64Array ? BigInt(value) : Number(value);
  }
  return { type, data, dims };
}
