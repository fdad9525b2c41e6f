/**
 * The `cpu` backend: onnxruntime-node's CPU execution provider, run in a worker thread of its own.
 *
 * onnxruntime-node alone runs a session synchronously on the calling thread, so a 15 ms model stalls
 * the event loop for 15 ms per run. Here each backend owns one worker thread holding one session;
 * the main thread only validates feeds, hands them over and receives results:
 *
 * - feeds on a SharedArrayBuffer are passed by reference (the worker makes the one copy that
 *   onnxruntime needs, off the main thread); other feeds are copied once into a fresh buffer that is
 *   transferred (structured cloning would copy twice), so the caller's arrays are never touched;
 * - results are transferred back (no copy): onnxruntime's output buffers become the caller's arrays.
 *
 * One run executes at a time per backend; more are queued in call order. Create several backends
 * (each with a few intra-op threads) for concurrency. See ./backend.ts for the contract.
 */
import type { Worker } from 'node:worker_threads';
import { constants as bufferConstants } from 'node:buffer';
import { resolve } from 'node:path';
import { viewTypedArray, type AnyTypedArray } from '../../core/dtypes.js';
import {
  ArgumentRangeError,
  ArgumentTypeError,
  ErrorCode,
  OnnxError,
  createError,
  withCallerStack,
  type TensorRTNodeError,
} from '../../core/errors.js';
import { externalTensors } from '../../onnx/external-data.js';
import { serializeModel, type OnnxModel } from '../../onnx/model.js';
import {
  describeValue,
  expectBoolean,
  expectInteger,
  expectOneOf,
  expectOptions,
  rejectUnknownOptions,
} from '../../core/validate.js';
import { abortError } from '../../core/abort.js';
import { acquireCpuWorker, releaseCpuWorker } from './worker-pool.js';
import type { Backend, BoundTensors, BackendRunOptions } from '../backend.js';
import { setEntry, type TensorInfo, type TensorMap } from '../../core/tensors.js';
import { Tensor } from '../../cuda/tensor.js';
import { requireOnnxRuntime } from '../../addon/system/onnxruntime-package.js';
import type { CpuSessionSettings, ModelSource, WireError, WireTensor, WorkerReply, WorkerRequest } from './protocol.js';
import { checkDType, validateFeeds } from '../../core/feeds.js';
import { checkRunCall } from '../run-call.js';

/** Options of {@link createCpuBackend}: onnxruntime-node's session settings and the worker thread's priority. */
export interface CpuBackendOptions extends CpuSessionSettings {
  /**
   * Threads onnxruntime uses inside one operator (default: onnxruntime's choice, one per physical
   * core). With several backends running at once, divide the cores between them.
   */
  intraOpNumThreads?: number;
  /** Threads across operators when executionMode is "parallel" (default: onnxruntime's choice). */
  interOpNumThreads?: number;
  /** onnxruntime graph optimizations (default "all"). */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Run independent branches of the graph in parallel (default "sequential"). */
  executionMode?: 'sequential' | 'parallel';
  /** onnxruntime's CPU memory arena (default true). */
  enableCpuMemArena?: boolean;
  /**
   * Let onnxruntime's pool threads spin between operators (default true, onnxruntime's default):
   * lowest latency, but the spinning threads compete with the event loop for cores. false makes
   * them sleep, which keeps the loop responsive on machines with few cores.
   */
  spinWait?: boolean;
  /**
   * Nice value (0-19, default 0) for the inference threads only (Linux keeps priorities per thread):
   * when cores are scarce the event loop then wins the CPU over inference. Costs inference speed on a
   * machine that is busy with other work.
   */
  niceness?: number;
}

/** The option names createCpuBackend knows (InferenceSession checks `options.cpu` against them). */
export const cpuBackendOptionNames = [
  'intraOpNumThreads',
  'interOpNumThreads',
  'graphOptimizationLevel',
  'executionMode',
  'enableCpuMemArena',
  'spinWait',
  'niceness',
] as const;

function validateOptions(options: unknown): CpuSessionSettings {
  const opts = expectOptions<CpuBackendOptions>(options);
  rejectUnknownOptions(opts, cpuBackendOptionNames);
  const settings: CpuSessionSettings = {};
  if (opts.intraOpNumThreads !== undefined)
    settings.intraOpNumThreads = expectInteger(opts.intraOpNumThreads, 'options.intraOpNumThreads', { min: 0, max: 1024 });
  if (opts.interOpNumThreads !== undefined)
    settings.interOpNumThreads = expectInteger(opts.interOpNumThreads, 'options.interOpNumThreads', { min: 0, max: 1024 });
  if (opts.graphOptimizationLevel !== undefined)
    settings.graphOptimizationLevel = expectOneOf(opts.graphOptimizationLevel, 'options.graphOptimizationLevel', [
      'disabled',
      'basic',
      'extended',
      'all',
    ] as const);
  if (opts.executionMode !== undefined)
    settings.executionMode = expectOneOf(opts.executionMode, 'options.executionMode', ['sequential', 'parallel'] as const);
  if (opts.enableCpuMemArena !== undefined)
    settings.enableCpuMemArena = expectBoolean(opts.enableCpuMemArena, 'options.enableCpuMemArena');
  if (opts.spinWait !== undefined) settings.spinWait = expectBoolean(opts.spinWait, 'options.spinWait');
  if (opts.niceness !== undefined) settings.niceness = expectInteger(opts.niceness, 'options.niceness', { min: 0, max: 19 });
  return settings;
}

/** The model as the worker receives it; bytes are copied into a buffer that is then transferred. */
function modelSource(model: unknown): { source: ModelSource; transfer: ArrayBuffer[] } {
  if (typeof model === 'string') {
    if (model.length === 0)
      throw new ArgumentTypeError(`Expected a model path, bytes or an OnnxModel for model but received ${describeValue(model)}`);
    return { source: { kind: 'path', path: resolve(model), label: model }, transfer: [] };
  }
  if (model instanceof Uint8Array) {
    const bytes = model.slice();
    return { source: { kind: 'bytes', bytes, label: '<bytes>' }, transfer: [bytes.buffer] };
  }
  if (typeof model === 'object' && model !== null && 'proto' in model) {
    const onnx = model as OnnxModel;
    const pending = externalTensors(onnx.proto);
    if (pending.length > 0) {
      throw createError(
        ErrorCode.ONNX,
        `Expected an OnnxModel with its external data loaded for model but received tensor "${pending[0]!.name}" still in external data`,
      );
    }
    const bytes = serializeModel(onnx);
    const owned =
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
        ? bytes
        : bytes.slice();
    return { source: { kind: 'bytes', bytes: owned, label: onnx.source }, transfer: [owned.buffer as ArrayBuffer] };
  }
  throw new ArgumentTypeError(`Expected a model path, bytes or an OnnxModel for model but received ${describeValue(model)}`);
}

function fromWire(error: WireError): TensorRTNodeError {
  if (error.onnx && error.kind === 'generic') return new OnnxError(error.code as ErrorCode, error.message);
  return createError(error.code, error.message, error.kind) as TensorRTNodeError;
}

function disposedError(): TensorRTNodeError {
  return createError(
    ErrorCode.DISPOSED,
    'Expected a cpu backend that is not disposed for run() but received a disposed one',
  ) as TensorRTNodeError;
}

interface PendingRun {
  id: number;
  feeds: WireTensor[];
  transfer: ArrayBuffer[];
  outputs: readonly string[];
  /** Outputs written in place into a binding's shared memory. */
  into: WireTensor[] | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  resolve: (outputs: TensorMap) => void;
  reject: (error: unknown) => void;
  settled: boolean;
}

/** Staging buffers per byte length, kept at most this many deep: enough for a run in flight and the next. */
const STAGING_DEPTH = 2;

/**
 * Prepares feeds for the worker: shared memory goes by reference (the worker makes the copy
 * onnxruntime needs, since it cannot read shared memory); anything else is copied once into a
 * staging buffer that is transferred and comes back with the result, so that the copy lands in
 * memory that is already mapped (a fresh 1 MB buffer costs ~2 ms of page faults, a warm one ~0.1 ms).
 * Measured against one long-lived SharedArrayBuffer per input, this is the faster design: that one
 * needs a second copy in the worker, and onnxruntime then ran ~3% slower (cache pollution), while
 * garbage collection came out the same (it is driven by the result buffers, which the caller owns).
 */
function wireFeeds(
  inputs: readonly TensorInfo[],
  feeds: TensorMap,
  staging: Map<number, ArrayBuffer[]>,
): { wire: WireTensor[]; transfer: ArrayBuffer[] } {
  const wire: WireTensor[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const info of inputs) {
    const tensor = feeds[info.name]!;
    let data = tensor.data as AnyTypedArray;
    if (!(data.buffer instanceof SharedArrayBuffer)) {
      // The copy is made through byte views, which this Node.js caps at its Buffer limit (4 GiB on Node 20).
      if (data.byteLength > bufferConstants.MAX_LENGTH) {
        throw new ArgumentRangeError(
          `Expected at most ${bufferConstants.MAX_LENGTH} bytes (the largest Buffer of this Node.js) for input ${JSON.stringify(info.name)} on the cpu backend but received ${data.byteLength} bytes`,
          ErrorCode.SHAPE,
        );
      }
      const buffer = staging.get(data.byteLength)?.pop() ?? allocateStaging(data.byteLength, info.name);
      new Uint8Array(buffer).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      data = viewTypedArray(info.dtype, buffer, 0, data.length);
      transfer.push(buffer);
    }
    wire.push({ name: info.name, dtype: info.dtype, shape: [...tensor.shape], data });
  }
  return { wire, transfer };
}

/** A staging buffer; a failed allocation (memory short) is ERR_OUT_OF_MEMORY, not a bare RangeError. */
function allocateStaging(byteLength: number, name: string): ArrayBuffer {
  try {
    return new ArrayBuffer(byteLength);
  } catch (error) {
    throw createError(
      ErrorCode.OUT_OF_MEMORY,
      `Cannot allocate ${byteLength} bytes to pass input ${JSON.stringify(name)} to the cpu backend's worker: ${(error as Error).message}`,
      'range',
      { cause: error },
    );
  }
}

/** A binding's tensor as plain host data, checked: host memory of the right dtype. */
function boundHostTensor(
  tensors: Readonly<Record<string, Tensor>>,
  info: TensorInfo,
  role: string,
): { dtype: TensorInfo['dtype']; shape: number[]; data: AnyTypedArray } {
  const tensor = tensors[info.name];
  const label = `binding ${role} ${JSON.stringify(info.name)}`;
  if (!(tensor instanceof Tensor))
    throw new ArgumentTypeError(`Expected a Tensor for ${label} but received ${describeValue(tensor)}`);
  if (tensor.location !== 'host')
    throw createError(
      ErrorCode.NOT_SUPPORTED,
      `Expected a host tensor for ${label} (the cpu backend binds host memory only) but received a ${tensor.location} tensor`,
      'type',
    );
  return { dtype: tensor.dtype, shape: [...tensor.shape], data: tensor.data as AnyTypedArray };
}

/**
 * The cpu backend: onnxruntime-node in a worker thread of its own (onnxruntime-node runs a session
 * synchronously on its calling thread, which would block the event loop). Feeds are copied once into
 * a staging buffer transferred to the worker; results are transferred back, not copied. Needs the
 * optional peer dependency onnxruntime-node (ERR_NOT_SUPPORTED without it). Create it with
 * {@link createCpuBackend}.
 */
export class CpuBackend implements Backend {
  readonly kind = 'cpu' as const;
  readonly concurrency = 1;
  readonly bindingLocations = Object.freeze(['host'] as const);
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly #worker: Worker;
  readonly #queue: PendingRun[] = [];
  readonly #staging = new Map<number, ArrayBuffer[]>();
  #running: PendingRun | null = null;
  #nextId = 1;
  #disposed = false;
  #disposing: Promise<void> | null = null;
  #fatal: TensorRTNodeError | null = null;
  #idle: (() => void) | null = null;
  /** Whether the worker can serve another backend once this one is done (see ./cpu-worker-pool.ts). */
  readonly #reusable: boolean;
  readonly #onMessage = (reply: WorkerReply) => this.#onReply(reply);
  readonly #onError = (error: Error) =>
    this.#onWorkerGone(
      createError(ErrorCode.INTERNAL, `The cpu backend's worker thread failed: ${error.message}`, 'generic', {
        cause: error,
      }) as TensorRTNodeError,
    );
  readonly #onExit = (code: number) => {
    if (!this.#disposed)
      this.#onWorkerGone(
        createError(
          ErrorCode.INTERNAL,
          `The cpu backend's worker thread exited unexpectedly (exit code ${code})`,
        ) as TensorRTNodeError,
      );
  };

  private constructor(worker: Worker, inputs: TensorInfo[], outputs: TensorInfo[], reusable: boolean) {
    this.#worker = worker;
    this.#reusable = reusable;
    this.inputs = Object.freeze(inputs.map((info) => Object.freeze({ ...info })));
    this.outputs = Object.freeze(outputs.map((info) => Object.freeze({ ...info })));
    worker.on('message', this.#onMessage);
    worker.on('error', this.#onError);
    worker.on('exit', this.#onExit);
    worker.unref();
  }

  /** Loads `model` (a path, bytes or an OnnxModel) into a worker thread of its own (a new one, or an idle one reused). */
  static async create(model: string | Uint8Array | OnnxModel, options?: CpuBackendOptions): Promise<CpuBackend> {
    const settings = validateOptions(options);
    const { source, transfer } = modelSource(model);
    // A thread whose priority was lowered cannot be raised back without privileges: it is not reused.
    const reusable = !settings.niceness;
    return withCallerStack(async () => {
      requireOnnxRuntime();
      const worker = acquireCpuWorker();
      // Whether the worker answered the load (loaded or not): then it is in a clean state, reusable.
      let answered = false;
      try {
        const loaded = await new Promise<Extract<WorkerReply, { type: 'loaded' }>>((resolveLoad, rejectLoad) => {
          const onMessage = (reply: WorkerReply) => {
            cleanup();
            answered = reply.type === 'loaded' || reply.type === 'load-failed';
            if (reply.type === 'loaded') resolveLoad(reply);
            else if (reply.type === 'load-failed') rejectLoad(fromWire(reply.error));
            else
              rejectLoad(
                createError(ErrorCode.INTERNAL, `Unexpected reply ${reply.type} from the cpu backend worker while loading`),
              );
          };
          const onError = (error: Error) => {
            cleanup();
            rejectLoad(
              createError(
                ErrorCode.INTERNAL,
                `The cpu backend's worker thread failed while loading: ${error.message}`,
                'generic',
                { cause: error },
              ),
            );
          };
          const onExit = (code: number) => {
            cleanup();
            rejectLoad(
              createError(ErrorCode.INTERNAL, `The cpu backend's worker thread exited while loading (exit code ${code})`),
            );
          };
          const cleanup = () => {
            worker.off('message', onMessage);
            worker.off('error', onError);
            worker.off('exit', onExit);
          };
          worker.on('message', onMessage);
          worker.on('error', onError);
          worker.on('exit', onExit);
          const request: WorkerRequest = { type: 'load', model: source, settings };
          worker.postMessage(request, transfer);
        });
        return new CpuBackend(worker, loaded.inputs, loaded.outputs, reusable);
      } catch (error) {
        await releaseCpuWorker(worker, reusable && answered);
        throw error;
      }
    });
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  run(feeds: Readonly<TensorMap>, options?: BackendRunOptions): Promise<TensorMap> {
    return withCallerStack(async () => {
      if (this.#disposed) throw disposedError();
      if (this.#fatal) throw this.#fatal;
      const { signal, outputs, feeds: checked } = checkRunCall(this, feeds, options);
      const { wire, transfer } = wireFeeds(this.inputs, checked as TensorMap, this.#staging);
      return new Promise<TensorMap>((resolveRun, rejectRun) => {
        const pending: PendingRun = {
          id: this.#nextId++,
          feeds: wire,
          transfer,
          outputs,
          into: undefined,
          signal,
          onAbort: undefined,
          resolve: resolveRun,
          reject: rejectRun,
          settled: false,
        };
        if (signal) {
          pending.onAbort = () => {
            const index = this.#queue.indexOf(pending);
            if (index >= 0) this.#queue.splice(index, 1);
            this.#settle(pending, abortError('The run', signal));
          };
          signal.addEventListener('abort', pending.onAbort, { once: true });
        }
        this.#queue.push(pending);
        this.#pump();
      });
    });
  }

  /**
   * Runs with a binding's memory: inputs on a SharedArrayBuffer are read by the worker in place,
   * outputs on one are written by the worker in place (no allocation and no copy on this thread);
   * outputs elsewhere are copied in from an ordinary run. Settles once the worker is done with them.
   */
  runBinding(bound: BoundTensors): Promise<void> {
    return withCallerStack(async () => {
      if (this.#disposed) throw disposedError();
      if (this.#fatal) throw this.#fatal;
      const feeds: TensorMap = {};
      for (const info of this.inputs)
        setEntry(feeds, info.name, boundHostTensor(bound.inputs, info, 'input') as TensorMap[string]);
      const checked = validateFeeds(this.inputs, feeds, 'binding ');
      const targets = this.outputs.map((info) => {
        const target = boundHostTensor(bound.outputs, info, 'output');
        checkDType(info, target.dtype, `binding output ${JSON.stringify(info.name)}`);
        return { name: info.name, ...target };
      });
      if (!targets.every((target) => target.data.buffer instanceof SharedArrayBuffer)) {
        const results = await this.run(checked);
        for (const target of targets) {
          const result = results[target.name]!;
          if (result.shape.join(',') !== target.shape.join(',')) {
            throw createError(
              ErrorCode.SHAPE,
              `Expected output ${JSON.stringify(target.name)} of shape [${target.shape.join(', ')}] (the binding's) but the model produced [${result.shape.join(', ')}]`,
            );
          }
          (target.data as Float32Array).set(result.data as Float32Array);
        }
        return;
      }
      const { wire, transfer } = wireFeeds(this.inputs, checked, this.#staging);
      await new Promise<TensorMap>((resolveRun, rejectRun) => {
        const into: WireTensor[] = targets.map((target) => ({
          name: target.name,
          dtype: target.dtype,
          shape: target.shape,
          data: target.data,
        }));
        const pending: PendingRun = {
          id: this.#nextId++,
          feeds: wire,
          transfer,
          outputs: [],
          into,
          signal: undefined,
          onAbort: undefined,
          resolve: resolveRun,
          reject: rejectRun,
          settled: false,
        };
        this.#queue.push(pending);
        this.#pump();
      });
    });
  }

  #settle(pending: PendingRun, outcome: TensorMap | Error): void {
    if (pending.settled) return;
    pending.settled = true;
    if (pending.signal && pending.onAbort) pending.signal.removeEventListener('abort', pending.onAbort);
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome);
  }

  /** Sends the next queued run when the worker is free; keeps the thread referenced only while there is work. */
  #pump(): void {
    if (this.#running) return;
    const next = this.#queue.shift();
    if (!next) {
      this.#worker.unref();
      this.#idle?.();
      return;
    }
    this.#running = next;
    this.#worker.ref();
    const request: WorkerRequest = next.into
      ? { type: 'run', id: next.id, feeds: next.feeds, outputs: next.outputs, into: next.into }
      : { type: 'run', id: next.id, feeds: next.feeds, outputs: next.outputs };
    this.#worker.postMessage(request, next.transfer);
    next.feeds = [];
    next.transfer = [];
  }

  #onReply(reply: WorkerReply): void {
    if (reply.type !== 'result' && reply.type !== 'run-failed') return;
    for (const buffer of reply.recycled) {
      const free = this.#staging.get(buffer.byteLength) ?? [];
      if (free.length < STAGING_DEPTH) free.push(buffer);
      this.#staging.set(buffer.byteLength, free);
    }
    const pending = this.#running;
    if (!pending || pending.id !== reply.id) return;
    this.#running = null;
    if (reply.type === 'result') {
      const outputs: TensorMap = {};
      for (const tensor of reply.outputs)
        setEntry(outputs, tensor.name, { dtype: tensor.dtype, shape: tensor.shape, data: tensor.data } as TensorMap[string]);
      this.#settle(pending, outputs);
    } else {
      this.#settle(pending, fromWire(reply.error));
    }
    this.#pump();
  }

  #onWorkerGone(error: TensorRTNodeError): void {
    if (this.#fatal) return;
    this.#fatal = error;
    const running = this.#running;
    this.#running = null;
    if (running) this.#settle(running, error);
    for (const pending of this.#queue.splice(0)) this.#settle(pending, error);
    this.#idle?.();
  }

  dispose(): Promise<void> {
    if (!this.#disposing) {
      this.#disposed = true;
      this.#disposing = this.#release();
    }
    return this.#disposing;
  }

  async #release(): Promise<void> {
    for (const pending of this.#queue.splice(0)) this.#settle(pending, disposedError());
    if (this.#running && !this.#fatal) await new Promise<void>((resolveIdle) => (this.#idle = resolveIdle));
    // Closed in order: the worker released the session and answered, so it can serve another backend.
    let closedInOrder = false;
    if (!this.#fatal) {
      this.#worker.ref();
      closedInOrder = await new Promise<boolean>((resolveClosed) => {
        const onMessage = (reply: WorkerReply) => {
          if (reply.type === 'closed') done(reply.released);
        };
        const onExit = () => done(false);
        const done = (inOrder: boolean) => {
          this.#worker.off('message', onMessage);
          this.#worker.off('exit', onExit);
          resolveClosed(inOrder);
        };
        this.#worker.on('message', onMessage);
        this.#worker.on('exit', onExit);
        this.#worker.postMessage({ type: 'close' } satisfies WorkerRequest);
      });
    }
    this.#worker.off('message', this.#onMessage);
    this.#worker.off('error', this.#onError);
    this.#worker.off('exit', this.#onExit);
    await releaseCpuWorker(this.#worker, this.#reusable && closedInOrder);
  }

  /** `await using` support: the same as {@link dispose}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

/** Loads `model` (a path, bytes or an OnnxModel) on the cpu backend. */
export function createCpuBackend(model: string | Uint8Array | OnnxModel, options?: CpuBackendOptions): Promise<CpuBackend> {
  return CpuBackend.create(model, options);
}
