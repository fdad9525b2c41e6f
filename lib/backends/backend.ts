/**
 * The backend interface: the seam between the layers that run models (the `cpu` backend on
 * onnxruntime-node, the `tensorrt` backend on the native addon) and everything above them
 * (InferenceSession, the batcher, the bench harness, compare(), calibration, the CLI).
 *
 * A backend is one loaded model, ready to run. It is created by an async factory of its own module
 * (`createCpuBackend(model, options)`, later `createTensorRTBackend(...)`), never with `new`, so that
 * loading (which can take long: parsing, deserializing, building) never blocks the event loop.
 *
 * The contract every backend keeps:
 *
 * - **I/O description.** `inputs` and `outputs` are fixed at creation and list every tensor in model
 *   order. A dim of -1 is dynamic (its symbolic name, when the model gives one, is in `dimNames`).
 *   Output shapes may depend on input shapes; the shapes of returned tensors are always concrete.
 *
 * - **run(feeds, options).** `feeds` maps every input name to a HostTensor (lib/dtypes.ts) whose
 *   `data` is the TypedArray of its dtype (Float32Array for float32, Uint16Array of raw bits for
 *   float16, BigInt64Array for int64, Uint8Array for bool, ...) with exactly shape-product elements.
 *   Feeds are validated before any work starts (see validateFeeds in ./feeds.ts): an unknown or
 *   missing name is ERR_INVALID_ARGUMENT, a wrong TypedArray ERR_DTYPE, a wrong rank, fixed dim or
 *   element count ERR_SHAPE, each with the "Expected X for NAME but received Y" message.
 *   The backend never modifies a feed and keeps no reference to it once the promise settles, so the
 *   caller may reuse its arrays as soon as `run` resolves or rejects. Data may be read until then.
 *
 * - **Results.** The promise resolves with a fresh object holding one HostTensor per requested output
 *   (`options.outputs`, default all, in model order). The caller owns the returned arrays; the backend
 *   keeps no reference to them and never writes them again.
 *
 * - **Concurrency.** `run` may be called again before earlier calls settle. Calls are queued and
 *   started in call order; how many execute at once is the backend's business (the cpu backend runs
 *   one at a time per backend; the tensorrt backend one per execution context). Results always go to
 *   the call that asked for them.
 *
 * - **Cancellation.** `options.signal` aborts a run: already aborted means an immediate ERR_ABORTED
 *   rejection and no work; aborted while queued means it is removed from the queue; aborted while
 *   executing means the promise rejects with ERR_ABORTED promptly, the backend stops the computation
 *   if it can (TensorRT cannot stop an enqueued kernel; onnxruntime cannot stop mid-run from another
 *   thread), and a result that arrives afterwards is dropped. Either way the backend stays usable.
 *
 * - **Disposal.** `dispose()` is idempotent and resolves once every resource (threads, sessions,
 *   device memory) is released. It rejects queued runs with ERR_DISPOSED, waits for the run that is
 *   executing to finish (its caller still gets the result), and from then on `run` rejects with
 *   ERR_DISPOSED. `await using backend = await createCpuBackend(...)` works through
 *   Symbol.asyncDispose.
 *
 * - **Errors.** Everything rejects with the tensorrt-node error family (lib/errors.ts), with the
 *   caller's stack appended: ERR_ONNX for a model the backend cannot load, ERR_TENSORRT or ERR_CUDA
 *   for failures in the engine, ERR_INTERNAL if a worker dies.
 */
import type { TensorInfo, TensorMap } from '../core/tensors.js';
import type { Tensor, TensorLocation } from '../cuda/tensor.js';

/** The backends: `tensorrt` (the native addon) and `cpu` (onnxruntime-node, the FP32 reference). */
export type BackendKind = 'cpu' | 'tensorrt';

/** Options of {@link Backend.run}. */
export interface BackendRunOptions {
  /** Aborts the run (ERR_ABORTED); see the cancellation rules above. */
  signal?: AbortSignal;
  /** The outputs to compute and return (default: all, in model order). Unknown names are ERR_INVALID_ARGUMENT. */
  outputs?: readonly string[];
}

/** Caller-owned memory a backend runs with (InferenceSession's bindings): tensor name to Tensor. */
export interface BoundTensors {
  inputs: Readonly<Record<string, Tensor>>;
  outputs: Readonly<Record<string, Tensor>>;
}

/**
 * One loaded model, ready to run: what `createCpuBackend` and `createTensorRTBackend` return and what
 * InferenceSession, the batcher, the bench harness and compare() run. Feeds are validated before any
 * work (ERR_INVALID_ARGUMENT, ERR_DTYPE, ERR_SHAPE), never modified nor kept; results belong to the
 * caller; calls start in call order; an aborted run rejects with ERR_ABORTED and the backend stays
 * usable; `dispose()` rejects queued runs with ERR_DISPOSED and lets the executing one finish.
 */
export interface Backend extends AsyncDisposable {
  /** Which backend this is. */
  readonly kind: BackendKind;
  /** Every input in model order; -1 marks a dynamic dim. */
  readonly inputs: readonly TensorInfo[];
  /** Every output in model order; -1 marks a dim known only once the model ran. */
  readonly outputs: readonly TensorInfo[];
  /**
   * How many runs it executes at once (execution contexts, worker threads); absent means 1.
   * InferenceSession keeps at most this many runs in flight in it and queues the rest itself.
   */
  readonly concurrency?: number;
  /**
   * Where runBinding() wants bound memory, best first (cpu: 'host'; tensorrt: 'pinned', 'device').
   * Absent when the backend has no runBinding().
   */
  readonly bindingLocations?: readonly TensorLocation[];
  /** True once dispose() has been called (even while it is still releasing resources). */
  readonly disposed: boolean;
  /** Runs the model once on host feeds and resolves with fresh host tensors the caller owns. */
  run(feeds: Readonly<TensorMap>, options?: BackendRunOptions): Promise<TensorMap>;
  /**
   * Optional zero-copy path: reads every input from `bound.inputs` and writes every output into
   * `bound.outputs` (shapes fixed by the caller; a model that produces another shape rejects with
   * ERR_SHAPE). It takes no signal and settles only once the backend no longer touches that memory,
   * so the caller knows when the memory is free again (InferenceSession handles aborts above it).
   */
  runBinding?(bound: BoundTensors): Promise<void>;
  /** Releases threads, sessions and device memory; idempotent. Queued runs reject with ERR_DISPOSED. */
  dispose(): Promise<void>;
}

/** Anything that maps feeds to outputs: a Backend, or a plain async function (for compare() and tests). */
export type Runner = Pick<Backend, 'run'> | ((feeds: Readonly<TensorMap>) => Promise<TensorMap>);

/** Runs `runner` whichever form it has. */
export function runWith(runner: Runner, feeds: Readonly<TensorMap>, options?: BackendRunOptions): Promise<TensorMap> {
  return typeof runner === 'function' ? runner(feeds) : runner.run(feeds, options);
}
