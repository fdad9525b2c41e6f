/**
 * The worker thread behind one cpu backend: it owns one onnxruntime-node InferenceSession and runs
 * it, so that the minutes of a load and the milliseconds of every run block this thread instead of
 * the application's event loop. Requests arrive one at a time (the main thread queues them). After
 * `close` it holds no session and may serve the next backend (./cpu-worker-pool.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { asFloat16Bits, isDType, type AnyTypedArray, type DType } from '../../core/dtypes.js';
import { ErrorCode, OnnxError, isTensorRTNodeError } from '../../core/errors.js';
import type { OnnxModel } from '../../onnx/model.js';
import type { TensorInfo } from '../../core/tensors.js';
import { scanModelBytes } from './model-scan.js';
import type { CpuSessionSettings, ModelSource, WireError, WireTensor, WorkerReply, WorkerRequest } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('cpu-worker must run in a worker thread');

let session: ort.InferenceSession | null = null;
let label = '<model>';

/**
 * onnxruntime-node's JavaScript keeps feeds, fetches and results in plain objects, where the name
 * "__proto__" changes the prototype instead of adding an entry: an input or output so named could
 * never be fed or returned. Such tensors are renamed in the model onnxruntime loads, and their names
 * translated here, in the only place that talks to onnxruntime; the rest of tensorrt-node sees the
 * model's own names.
 */
const namesOnnxRuntimeCannotCarry = new Set(['__proto__']);
/** The model's name -> the name onnxruntime knows it by, for the renamed tensors only. */
let toOnnxRuntime = new Map<string, string>();
/** The reverse of toOnnxRuntime. */
let fromOnnxRuntime = new Map<string, string>();
const ortName = (name: string) => toOnnxRuntime.get(name) ?? name;
const modelName = (name: string) => fromOnnxRuntime.get(name) ?? name;

/**
 * The toolkit's modules a full check needs (protobuf-es, the generated onnx.proto code): imported
 * only when one runs, since they cost a cold worker ~0.3-0.5 s and most models never need them
 * (see quickCheck).
 */
async function toolkit() {
  const [externalData, modelModule, graphModule] = await Promise.all([
    import('../../onnx/external-data.js'),
    import('../../onnx/model.js'),
    import('../../onnx/graph.js'),
  ]);
  return { ...externalData, ...modelModule, ...graphModule };
}

/** Renames the graph inputs and outputs onnxruntime cannot carry (see above); the model bytes to load instead, or null. */
async function renameForOnnxRuntime(model: OnnxModel): Promise<Uint8Array | null> {
  const { NameAllocator, renameUses, serializeModel } = await toolkit();
  const graph = model.proto.graph!;
  const hazards = [
    ...new Set(
      [...graph.input, ...graph.output].map((info) => info.name).filter((name) => namesOnnxRuntimeCannotCarry.has(name)),
    ),
  ];
  if (hazards.length === 0) return null;
  const allocator = new NameAllocator(model.proto);
  for (const name of hazards) {
    const renamed = allocator.next(`${name}tensorrt_node`);
    toOnnxRuntime.set(name, renamed);
    fromOnnxRuntime.set(renamed, name);
    for (const info of [...graph.input, ...graph.output, ...graph.valueInfo]) if (info.name === name) info.name = renamed;
    for (const tensor of graph.initializer) if (tensor.name === name) tensor.name = renamed;
    for (const node of graph.node) node.output = node.output.map((output) => (output === name ? renamed : output));
    renameUses(graph, name, renamed);
  }
  return serializeModel(model);
}

function post(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  try {
    port!.postMessage(message, transfer);
  } catch {
    port!.postMessage(message); // a buffer onnxruntime does not let go of: send a copy instead
  }
}

function toWireError(error: unknown, context: string): WireError {
  if (isTensorRTNodeError(error)) {
    const kind = error instanceof TypeError ? 'type' : error instanceof RangeError ? 'range' : 'generic';
    return { code: error.code, message: error.message, kind, ...(error instanceof OnnxError ? { onnx: true } : {}) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: ErrorCode.ONNX, message: `${context}: ${message}`, kind: 'generic' };
}

function describe(metadata: readonly ort.InferenceSession.ValueMetadata[], role: string): TensorInfo[] {
  return metadata.map((value) => {
    if (!value.isTensor)
      throw new OnnxError(
        ErrorCode.ONNX,
        `Expected tensor ${role}s in ${label} but received ${role} "${value.name}", which is not a tensor (sequences and maps are not supported)`,
      );
    const dtype = value.type as string;
    if (!isDType(dtype))
      throw new OnnxError(
        ErrorCode.DTYPE,
        `Expected ${role} dtypes tensorrt-node supports in ${label} but received ${role} "${value.name}" of type ${dtype}`,
      );
    const shape = value.shape.map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : -1));
    const named = value.shape.some((dim) => typeof dim === 'string');
    return named
      ? {
          name: modelName(value.name),
          dtype,
          shape,
          dimNames: value.shape.map((dim) => (typeof dim === 'string' && dim !== '' ? dim : null)),
        }
      : { name: modelName(value.name), dtype, shape };
  });
}

/**
 * The toolkit's full check of a model: clear errors for what is not a model, and external data
 * confined to the model's folder. Returns the bytes onnxruntime must load instead of `model` when
 * names had to be renamed, or null.
 */
async function fullCheck(model: ModelSource): Promise<Uint8Array | null> {
  const { checkExternalData, externalDataReference, externalTensors, parseModel, readModel } = await toolkit();
  if (model.kind === 'path') {
    const parsed = await readModel(model.path, { loadExternalData: false });
    await checkExternalData(parsed.proto, parsed.baseDir, parsed.source);
    const graph = parsed.proto.graph!;
    if (![...graph.input, ...graph.output].some((info) => namesOnnxRuntimeCannotCarry.has(info.name))) return null;
    // Renaming means loading from bytes: the external data (confined, checked above) goes into them.
    return renameForOnnxRuntime(await readModel(model.path));
  } else {
    // onnxruntime resolves the external data of a model given as bytes against the process's working
    // directory, outside any folder we could confine it to: such a model must be given by path.
    const parsed = parseModel(model.bytes, { source: model.label });
    const external = externalTensors(parsed.proto)[0];
    if (external) {
      throw new OnnxError(
        ErrorCode.ONNX,
        `Expected a model with all its weights in its bytes for ${model.label} but received tensor "${external.name}" in external data (${JSON.stringify(externalDataReference(external).location)}); give the model's path instead, so that its external data is read from inside its folder`,
      );
    }
    return renameForOnnxRuntime(parsed);
  }
}

/** Models over this size are left to the full check, which refuses them with the reason. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;
/** Any name onnxruntime cannot carry appears in the bytes as is: a model without one needs no renaming. */
const hazardousNameBytes = [...namesOnnxRuntimeCannotCarry].map((name) => Buffer.from(name));

/**
 * What must be true before onnxruntime opens a model: no external data outside its folder, and no
 * input or output name it cannot carry. A scan of the wire format (model-scan.ts) settles that for
 * models without external data or such names; anything else, or a file that cannot be read as
 * expected, gets the full check. onnxruntime checks the rest of the model itself as it loads; when it
 * refuses one, the full check runs then, so that the error is the toolkit's clear one wherever it has one.
 */
async function quickCheck(model: ModelSource): Promise<Uint8Array | null> {
  let bytes: Uint8Array;
  if (model.kind === 'path') {
    // Synchronous: this thread has nothing else to do meanwhile, and the thread pool's two hops cost more.
    try {
      const info = statSync(model.path);
      if (!info.isFile() || info.size > PROTOBUF_LIMIT) return fullCheck(model);
      bytes = readFileSync(model.path);
    } catch {
      return fullCheck(model); // says what is wrong with the path
    }
  } else {
    bytes = model.bytes;
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (scanModelBytes(bytes) === 'check' || hazardousNameBytes.some((name) => view.includes(name))) return fullCheck(model);
  return null;
}

async function load(model: ModelSource, settings: CpuSessionSettings): Promise<void> {
  label = model.label;
  try {
    toOnnxRuntime = new Map();
    fromOnnxRuntime = new Map();
    const renamed = await quickCheck(model);
    // Linux keeps nice values per thread: this lowers the priority of this thread and of the
    // onnxruntime pool threads it creates next, never the event loop's.
    if (settings.niceness) setPriority(0, settings.niceness);
    // Warnings (unused initializers, ...) would go to the process's stderr from this thread: errors only.
    const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], logSeverityLevel: 3 };
    if (settings.intraOpNumThreads !== undefined) options.intraOpNumThreads = settings.intraOpNumThreads;
    if (settings.interOpNumThreads !== undefined) options.interOpNumThreads = settings.interOpNumThreads;
    if (settings.graphOptimizationLevel !== undefined) options.graphOptimizationLevel = settings.graphOptimizationLevel;
    if (settings.executionMode !== undefined) options.executionMode = settings.executionMode;
    if (settings.enableCpuMemArena !== undefined) options.enableCpuMemArena = settings.enableCpuMemArena;
    if (settings.spinWait !== undefined)
      options.extra = {
        session: {
          intra_op: { allow_spinning: settings.spinWait ? '1' : '0' },
          inter_op: { allow_spinning: settings.spinWait ? '1' : '0' },
        },
      };
    try {
      session = renamed
        ? await ort.InferenceSession.create(renamed, options)
        : model.kind === 'path'
          ? await ort.InferenceSession.create(model.path, options)
          : await ort.InferenceSession.create(model.bytes, options);
    } catch (error) {
      await fullCheck(model); // throws the toolkit's error when it finds the fault
      throw error;
    }
    post({
      type: 'loaded',
      inputs: describe(session.inputMetadata, 'input'),
      outputs: describe(session.outputMetadata, 'output'),
    });
  } catch (error) {
    post({ type: 'load-failed', error: toWireError(error, `onnxruntime could not load ${label}`) });
  }
}

/** Worker-owned copies of shared-memory feeds, reused run after run (onnxruntime-node cannot read SharedArrayBuffer memory). */
const sharedCopies = new Map<string, ArrayBuffer>();

function ownedData(name: string, data: AnyTypedArray): AnyTypedArray {
  if (!(data.buffer instanceof SharedArrayBuffer)) return data;
  let copy = sharedCopies.get(name);
  if (copy?.byteLength !== data.byteLength) {
    copy = new ArrayBuffer(data.byteLength);
    sharedCopies.set(name, copy);
  }
  new Uint8Array(copy).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return new (data.constructor as new (buffer: ArrayBuffer) => AnyTypedArray)(copy);
}

/**
 * Worker-owned output buffers for runs into a binding, reused run after run: onnxruntime writes
 * into them (pre-allocated fetches) and they are copied into the binding's shared memory, which
 * onnxruntime-node cannot write itself. So a binding's run allocates nothing on either thread.
 */
const boundOutputs = new Map<string, ArrayBuffer>();

/**
 * An onnxruntime Tensor over `data`. Where the runtime has Float16Array (Node.js 24 on),
 * onnxruntime-common turns float16 data into one, and onnxruntime-node 1.30's binding reads a
 * Float16Array's byte length as 0 ("not enough space: expected 64, got 0"; microsoft/onnxruntime
 * PR #32323, open): such a tensor keeps the Uint16Array of bits it was given, which the binding reads.
 */
function ortTensor(dtype: DType, data: AnyTypedArray, shape: readonly number[]): ort.Tensor {
  const tensor = new ort.Tensor(dtype as ort.Tensor.Type, data as ort.Tensor.DataType, shape);
  if (dtype === 'float16' && !(tensor.data instanceof Uint16Array))
    (tensor as unknown as { cpuData: Uint16Array }).cpuData = data as Uint16Array;
  return tensor;
}

function boundOutput(target: WireTensor): ort.Tensor {
  let buffer = boundOutputs.get(target.name);
  if (buffer?.byteLength !== target.data.byteLength) {
    buffer = new ArrayBuffer(target.data.byteLength);
    boundOutputs.set(target.name, buffer);
  }
  const data = new (target.data.constructor as new (buffer: ArrayBuffer) => AnyTypedArray)(buffer);
  return ortTensor(target.dtype, data, target.shape);
}

async function runInto(ortFeeds: Record<string, ort.Tensor>, into: WireTensor[]): Promise<void> {
  const fetches: Record<string, ort.Tensor> = {};
  for (const target of into) fetches[ortName(target.name)] = boundOutput(target);
  try {
    await session!.run(ortFeeds, fetches);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new OnnxError(
      ErrorCode.SHAPE,
      `onnxruntime could not run ${label} into the binding's outputs (${into.map((target) => `${target.name} [${target.shape.join(', ')}]`).join(', ')}): ${message}`,
    );
  }
  for (const target of into) {
    const source = boundOutputs.get(target.name)!;
    new Uint8Array(target.data.buffer, target.data.byteOffset, target.data.byteLength).set(
      new Uint8Array(source, 0, target.data.byteLength),
    );
  }
}

async function run(id: number, feeds: WireTensor[], outputs: readonly string[], into: WireTensor[] | undefined): Promise<void> {
  // The main thread's staging buffers go back with the reply, whatever happens.
  const recycled = feeds.map((feed) => feed.data.buffer).filter((buffer): buffer is ArrayBuffer => buffer instanceof ArrayBuffer);
  try {
    if (!session) throw new OnnxError(ErrorCode.INTERNAL, 'The cpu backend worker has no session');
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const feed of feeds)
      ortFeeds[ortName(feed.name)] = ortTensor(feed.dtype, ownedData(feed.name, feed.data) as AnyTypedArray, feed.shape);
    if (into) {
      await runInto(ortFeeds, into);
      post({ type: 'result', id, outputs: [], recycled }, recycled);
      return;
    }
    const results = await session.run(ortFeeds, outputs.map(ortName));
    const wire: WireTensor[] = [];
    const transfer = new Set<ArrayBuffer>(recycled);
    for (const name of outputs) {
      const tensor = results[ortName(name)]!;
      const data = asFloat16Bits(tensor.data) as AnyTypedArray;
      wire.push({ name, dtype: tensor.type as DType, shape: [...tensor.dims], data });
      if (data.buffer instanceof ArrayBuffer) transfer.add(data.buffer);
    }
    post({ type: 'result', id, outputs: wire, recycled }, [...transfer]);
  } catch (error) {
    post({ type: 'run-failed', id, error: toWireError(error, `onnxruntime failed to run ${label}`), recycled }, recycled);
  }
}

// Requests are handled strictly one after the other, in arrival order.
let chain: Promise<void> = Promise.resolve();
port.on('message', (request: WorkerRequest) => {
  chain = chain.then(async () => {
    switch (request.type) {
      case 'load':
        return load(request.model, request.settings);
      case 'run':
        return run(request.id, request.feeds, request.outputs, request.into);
      case 'close': {
        // Back to the state of a fresh worker: it may serve another backend (./cpu-worker-pool.ts).
        const released = await (session?.release() ?? Promise.resolve()).then(
          () => true,
          () => false,
        );
        session = null;
        label = '<model>';
        toOnnxRuntime = new Map();
        fromOnnxRuntime = new Map();
        sharedCopies.clear();
        boundOutputs.clear();
        post({ type: 'closed', released });
        return;
      }
    }
  });
});
