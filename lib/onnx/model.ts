/**
 * Reading and writing ONNX models (ModelProto). Decoding keeps fields this schema does not know
 * (they are written back unchanged), tensor bytes are views into the file's bytes rather than
 * copies, external data is loaded from inside the model's folder only, and writes are atomic.
 */
import { clone, create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { writeFileAtomic, writeFilesAtomic } from '../core/atomic-write.js';
import { ArgumentTypeError, ErrorCode, OnnxError } from '../core/errors.js';
import {
  describeValue,
  expectBoolean,
  expectInteger,
  expectOptions,
  expectString,
  rejectUnknownOptions,
} from '../core/validate.js';
import { checkModel, checkSubgraphDepth } from './check.js';
import { externalTensors, loadExternalData } from './external-data.js';
import { forEachStoredTensor } from './graph.js';
import { DataLocation, ModelProtoSchema, StringStringEntryProtoSchema, type ModelProto, type TensorProto } from './proto.js';
import { tensorByteLength } from './tensor-data.js';

/** A model in memory and where it came from. */
export interface OnnxModel {
  proto: ModelProto;
  /** The folder external data locations resolve against; null for a model made from bytes alone. */
  baseDir: string | null;
  /** The path it was read from, or a label such as "<bytes>" (used in messages). */
  source: string;
}

/** Options of {@link readModel}. */
export interface ReadModelOptions {
  /** Read external data into memory (default true). Without it, tensors keep pointing at their files. */
  loadExternalData?: boolean;
  /** Run the structural checks (default true). */
  check?: boolean;
  /** For models given as bytes: the folder their external data locations resolve against. */
  baseDir?: string;
}

const readOptionKeys = ['loadExternalData', 'check', 'baseDir'] as const;

/** Protobuf cannot encode a message over 2 GiB; larger models must keep weights in external data. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

function describeDecodeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (message === 'premature EOF') return 'premature end of data: the file is truncated';
  // Three messages per level of subgraphs (graph, node, attribute): the decoder's limit of 100 is about 31 levels.
  if (message.includes('maximum recursion depth')) return `${message}; subgraphs can nest about 31 deep in a file`;
  return message;
}

/** Decodes and checks a model from bytes (synchronous; no external data is read). */
export function parseModel(
  bytes: Uint8Array,
  options: { source?: string; baseDir?: string | null; check?: boolean } = {},
): OnnxModel {
  const source = options.source ?? '<bytes>';
  if (!(bytes instanceof Uint8Array))
    throw new ArgumentTypeError(`Expected a Uint8Array for model bytes but received ${describeValue(bytes)}`);
  let proto: ModelProto;
  try {
    proto = fromBinary(ModelProtoSchema, bytes, { readUnknownFields: true });
  } catch (error) {
    throw new OnnxError(
      ErrorCode.ONNX,
      `Expected an ONNX model (ModelProto protobuf) for ${source} but received bytes that are not valid protobuf (${describeDecodeError(error)})`,
      { cause: error },
    );
  }
  if (options.check !== false) checkModel(proto, source);
  return { proto, baseDir: options.baseDir ?? null, source };
}

/** Reads a model from a file path or bytes; external data is loaded by default. */
export async function readModel(source: string | Uint8Array, options?: ReadModelOptions): Promise<OnnxModel> {
  const opts = expectOptions<ReadModelOptions>(options);
  rejectUnknownOptions(opts, readOptionKeys);
  const load = opts.loadExternalData === undefined ? true : expectBoolean(opts.loadExternalData, 'options.loadExternalData');
  const check = opts.check === undefined ? true : expectBoolean(opts.check, 'options.check');
  let model: OnnxModel;
  if (typeof source === 'string') {
    expectString(source, 'model path');
    const path = resolve(source);
    let bytes: Uint8Array;
    try {
      const info = await stat(path);
      if (!info.isFile())
        throw new OnnxError(
          ErrorCode.ONNX,
          `Expected an ONNX model file for ${source} but received a ${info.isDirectory() ? 'directory' : 'special file'}`,
        );
      if (info.size > PROTOBUF_LIMIT)
        throw new OnnxError(
          ErrorCode.ONNX,
          `Expected an ONNX model file under 2 GiB for ${source} but received ${info.size} bytes (larger models keep their weights in external data)`,
        );
      bytes = await readFile(path);
    } catch (error) {
      if (error instanceof OnnxError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      throw new OnnxError(
        ErrorCode.IO,
        `Expected a readable ONNX model file for ${source} but received ${code === 'ENOENT' ? 'a path that does not exist' : `an error (${code ?? String(error)})`}`,
        { cause: error },
      );
    }
    model = parseModel(bytes, { source, baseDir: dirname(path), check });
  } else if (source instanceof Uint8Array) {
    const baseDir = opts.baseDir === undefined ? null : resolve(expectString(opts.baseDir, 'options.baseDir'));
    model = parseModel(source, { source: '<bytes>', baseDir, check });
  } else {
    throw new ArgumentTypeError(`Expected a file path or a Uint8Array for model but received ${describeValue(source)}`);
  }
  if (load) await loadExternalData(model.proto, model.baseDir, model.source);
  return model;
}

function isModelProto(value: unknown): value is ModelProto {
  return (
    typeof value === 'object' && value !== null && (value as { $typeName?: unknown }).$typeName === ModelProtoSchema.typeName
  );
}

/** Throws ArgumentTypeError unless `value` is an OnnxModel (from readModel, parseModel, a transform) with a graph. */
export function expectOnnxModel(value: unknown, name = 'model'): OnnxModel {
  const proto = (value as { proto?: unknown } | null)?.proto;
  if (typeof value !== 'object' || value === null || !isModelProto(proto) || !proto.graph) {
    throw new ArgumentTypeError(
      `Expected an OnnxModel (from readModel or parseModel) for ${name} but received ${describeValue(value)}`,
    );
  }
  // A model built in memory was never decoded: hold it to the nesting a file can have.
  checkSubgraphDepth(proto.graph, (value as OnnxModel).source);
  return value as OnnxModel;
}

/** A deep copy that transforms can edit without touching the original. */
export function cloneModel(model: OnnxModel): OnnxModel {
  expectOnnxModel(model);
  return { proto: clone(ModelProtoSchema, model.proto), baseDir: model.baseDir, source: model.source };
}

function inlineBytes(model: ModelProto): number {
  let total = 0;
  forEachStoredTensor(model, (tensor) => {
    total += tensor.rawData.length;
  });
  return total;
}

/** Encodes a model whose data is all inline (throws when it would exceed protobuf's 2 GiB). */
export function serializeModel(model: OnnxModel | ModelProto): Uint8Array {
  const proto = isModelProto(model) ? model : expectOnnxModel(model).proto;
  if (inlineBytes(proto) > PROTOBUF_LIMIT) {
    throw new OnnxError(
      ErrorCode.ONNX,
      `Expected a model under protobuf's 2 GiB limit but received ${inlineBytes(proto)} bytes of inline tensor data (write it with options.externalData)`,
    );
  }
  return toBinary(ModelProtoSchema, proto, { writeUnknownFields: true });
}

/** Options of {@link writeModel}. */
export interface WriteModelOptions {
  /**
   * Move tensors of at least `threshold` bytes (default 1024) into one file `location` (default
   * `<model file name>.data`) next to the model. `true` takes both defaults.
   */
  externalData?: boolean | { location?: string; threshold?: number };
}

const ALIGNMENT = 4096;

/**
 * Writes `model` to `path` atomically (temporary file + rename, external data first). Tensors that
 * still point at external files of the source model must be loaded first.
 */
export async function writeModel(model: OnnxModel, path: string, options?: WriteModelOptions): Promise<void> {
  expectOnnxModel(model);
  expectString(path, 'output path');
  const opts = expectOptions<WriteModelOptions>(options);
  rejectUnknownOptions(opts, ['externalData']);
  const target = resolve(path);
  const pending = externalTensors(model.proto);
  if (pending.length > 0) {
    throw new OnnxError(
      ErrorCode.ONNX,
      `Expected every tensor to be in memory before writing ${path} but received tensor "${pending[0]!.name}" still in external data (read the model with loadExternalData: true)`,
    );
  }
  const external = opts.externalData;
  if (external === undefined || external === false) {
    await writeFileAtomic(target, serializeModel(model), { errorClass: OnnxError });
    return;
  }
  const settings =
    external === true ? {} : expectOptions<{ location?: string; threshold?: number }>(external, 'options.externalData');
  rejectUnknownOptions(settings, ['location', 'threshold'], 'options.externalData');
  const location =
    settings.location === undefined
      ? `${basename(target)}.data`
      : expectString(settings.location, 'options.externalData.location');
  if (location.includes('/') || location.includes('\\') || location === '.' || location === '..') {
    throw new ArgumentTypeError(
      `Expected a plain file name for options.externalData.location but received ${describeValue(location)}`,
    );
  }
  const threshold =
    settings.threshold === undefined ? 1024 : expectInteger(settings.threshold, 'options.externalData.threshold', { min: 0 });

  // Point large tensors at the data file for the duration of serialization, then restore them: the
  // in-memory model stays self-contained whatever happens.
  const moved: { tensor: TensorProto; rawData: Uint8Array<ArrayBuffer> }[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  forEachStoredTensor(model.proto, (tensor) => {
    const length = tensor.rawData.length;
    if (length === 0 || length < threshold || tensorByteLength(tensor) !== length) return;
    const padding = (ALIGNMENT - (offset % ALIGNMENT)) % ALIGNMENT;
    if (padding) chunks.push(new Uint8Array(padding));
    offset += padding;
    chunks.push(tensor.rawData);
    moved.push({ tensor, rawData: tensor.rawData });
    tensor.externalData = [
      create(StringStringEntryProtoSchema, { key: 'location', value: location }),
      create(StringStringEntryProtoSchema, { key: 'offset', value: String(offset) }),
      create(StringStringEntryProtoSchema, { key: 'length', value: String(length) }),
    ];
    tensor.dataLocation = DataLocation.EXTERNAL;
    tensor.rawData = new Uint8Array(0);
    offset += length;
  });
  let modelBytes: Uint8Array;
  try {
    modelBytes = serializeModel(model);
  } finally {
    for (const { tensor, rawData } of moved) {
      tensor.rawData = rawData;
      tensor.externalData = [];
      tensor.dataLocation = DataLocation.DEFAULT;
    }
  }
  const dataTarget = resolve(dirname(target), location);
  // The data first: a model is never in place before the tensors it points at.
  await writeFilesAtomic(
    [
      { path: dataTarget, content: chunks },
      { path: target, content: modelBytes },
    ],
    { errorClass: OnnxError },
  );
}
