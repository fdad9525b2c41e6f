/**
 * ExecutionContext: runs an engine. `await engine.createContext(options)` creates one on a CUDA
 * stream of its own, with a native submit thread that enqueues every run and a completion thread
 * that waits for the GPU; nothing waits on the event loop or on libuv's pool.
 *
 *   await using context = await engine.createContext({ cudaGraph: 'auto' });
 *   const { outputs, timing } = await context.run({ images: { data, shape: [1, 3, 640, 640] } }, { timing: true });
 *
 * - Runs are validated in TypeScript against the engine's metadata before anything is enqueued.
 * - Runs on one context are queued in call order and never interleaved; for concurrency, create
 *   several contexts (each has its own stream).
 * - Memory: TypedArrays are copied once into pinned staging (read when the run starts on the submit
 *   thread: leave them unchanged until run() settles); pinned Tensors are copied to the GPU
 *   directly; device Tensors are bound as they are. Outputs come back as fresh arrays, or are
 *   written into the Tensors given in `options.outputTensors` (zero copy for pinned and device tensors).
 * - CUDA graphs ('auto', the default): a plain warm-up enqueue for a new binding key (input shapes
 *   and tensor addresses), a capture on the next run with the same key, then replays; a failed capture turns graphs off for the
 *   context, says why in `cudaGraphs.disabledReason` and logs it (logger / NODE_DEBUG=tensorrt-node).
 * - dispose() lets runs already on the GPU finish, rejects queued ones with ERR_DISPOSED and
 *   resolves once the stream is empty. The context keeps its engine alive: disposing the Engine
 *   handle first is fine.
 */
import { disposedError } from '../core/dispose.js';
import { setEntry } from '../core/tensors.js';
import { dtypes, viewTypedArray, type DType, type HostTensor } from '../core/dtypes.js';
import type { EngineMetadata } from '../addon/types.js';
import { unbindableTensors } from './validation.js';
import { abortError, asAbortOf } from '../core/abort.js';
import { ErrorCode, TensorRTError, withCallerStack } from '../core/errors.js';
import { loadAddon } from '../addon/loader.js';
import type { NativeContextWrap, NativeEngineWrap, NativeGraphStatus, NativeLayerTime, NativeRunResult } from '../addon/types.js';
import { prepareBindings, type ContextFeeds } from './bindings.js';
import { toRunTiming, type RunTiming } from './timing.js';
import type { Tensor } from '../cuda/tensor.js';
import {
  logSeverities,
  registerContextLogger,
  syncTensorRTLogSink,
  unregisterContextLogger,
  type LogSeverity,
  type TensorRTLogger,
} from './log.js';
import {
  expectAutoOrBoolean,
  expectBoolean,
  expectFunction,
  expectInteger,
  expectOneOf,
  expectOptions,
  invalidType,
  invalidValue,
  rejectUnknownOptions,
} from '../core/validate.js';

/** Options of `engine.createContext()`. */
export interface ContextOptions {
  /** Optimization profile the context runs with (default 0). Contexts may share a profile. */
  profile?: number;
  /**
   * 'auto' (default): capture a CUDA graph per binding key after one warm-up run, replay it, and
   * fall back to plain enqueues (saying why) when capture fails. true: graphs or an error.
   * false: always plain enqueueV3.
   */
  cudaGraph?: 'auto' | boolean;
  /** Receives the TensorRT messages logged while this context works (default: the process-wide logger). */
  logger?: TensorRTLogger;
  /** The most verbose severity `logger` receives (default 'warning'). */
  logSeverity?: LogSeverity;
}

/** Options of {@link ExecutionContext.run}. */
export interface ContextRunOptions {
  /**
   * Tensors to write outputs into, by output name (zero copy for pinned and device tensors); the
   * result lists them under `bound`. (A session's `outputs` option, by contrast, names the outputs
   * to compute.)
   */
  outputTensors?: Readonly<Record<string, Tensor>>;
  /** Rejects with ERR_ABORTED: at once when the run has not started, else once it completed. */
  signal?: AbortSignal;
  /** Measure the run's phases with CUDA events (trtexec's Enqueue Time, H2D, GPU Compute, D2H). */
  timing?: boolean;
}

/** An output the run wrote into the caller's tensor. */
export interface BoundOutput {
  /** The tensor given in `outputTensors`. */
  tensor: Tensor;
  /** The shape this run wrote (at most the tensor's capacity). */
  shape: number[];
}

/** What {@link ExecutionContext.run} resolves to. */
export interface ContextRunResult {
  /** Outputs the caller did not bind: fresh host arrays the caller owns. */
  outputs: Record<string, HostTensor>;
  /** Outputs written into the caller's tensors. Their contents are valid until the next run that writes them. */
  bound: Record<string, BoundOutput>;
  /** How the inference was launched: a plain enqueueV3, a CUDA graph capture, or a replay. */
  cudaGraph: NativeRunResult['graph'];
  /** With `timing: true`: the phases on the performance.now() clock; else null. */
  timing: RunTiming | null;
}

/** Options of {@link ExecutionContext.profileLayers}. */
export interface LayerProfileOptions {
  /** Profiled runs (default 10); each waits for the GPU before the next starts. */
  iterations?: number;
}

/**
 * One layer as trtexec --dumpProfile shows it.
 * @interface
 */
export type LayerTime = NativeLayerTime;

/** Per-layer GPU times over several runs, as trtexec --dumpProfile reports them. */
export interface LayerProfile {
  iterations: number;
  layers: LayerTime[];
  /** Sum of the layers' average times per iteration. */
  totalAverageMs: number;
}

/** Whether and how a context uses CUDA graphs, with counters. */
export interface CudaGraphStatus {
  /** The `cudaGraph` option the context was created with. */
  mode: 'auto' | boolean;
  /** Whether runs use graphs now (false once a capture failed in 'auto' mode, and with mode false). */
  active: boolean;
  /** Why graphs are off for this context, or null. */
  disabledReason: string | null;
  cachedGraphs: number;
  captures: number;
  replays: number;
  plainRuns: number;
}

interface CheckedContextOptions {
  profile: number;
  cudaGraph: 'auto' | boolean;
  logger: TensorRTLogger | null;
  logSeverity: LogSeverity;
}

const contextOptionNames = ['profile', 'cudaGraph', 'logger', 'logSeverity'] as const;
const runOptionNames = ['outputTensors', 'signal', 'timing'] as const;

/** Validates createContext() options against the engine (exported for unit tests). */
export function checkContextOptions(options: unknown, metadata: EngineMetadata): CheckedContextOptions {
  const opts = expectOptions<ContextOptions>(options);
  rejectUnknownOptions(opts, contextOptionNames);
  const profiles = Math.max(1, metadata.profiles.length);
  const profile = opts.profile === undefined ? 0 : expectInteger(opts.profile, 'options.profile', { min: 0 });
  if (profile >= profiles)
    throw invalidValue(`an optimization profile between 0 and ${profiles - 1}`, 'options.profile', profile);
  const cudaGraph = opts.cudaGraph === undefined ? 'auto' : expectAutoOrBoolean(opts.cudaGraph, 'options.cudaGraph');
  const logger = opts.logger === undefined ? null : expectFunction<TensorRTLogger>(opts.logger, 'options.logger');
  const logSeverity =
    opts.logSeverity === undefined ? 'warning' : expectOneOf(opts.logSeverity, 'options.logSeverity', logSeverities);
  const unbindable = unbindableTensors(metadata, dtypes);
  if (unbindable.length > 0) {
    throw new TensorRTError(ErrorCode.NOT_SUPPORTED, `Cannot create an execution context: ${unbindable[0]!.reason}`, {
      details: { tensors: unbindable },
    });
  }
  return { profile, cudaGraph, logger, logSeverity };
}

/** Validates run() options (exported for unit tests). */
export function checkRunOptions(options: unknown): { outputTensors: unknown; signal: AbortSignal | null; timing: boolean } {
  const opts = expectOptions<ContextRunOptions>(options);
  rejectUnknownOptions(opts, runOptionNames);
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal))
    throw invalidType('an AbortSignal', 'options.signal', opts.signal);
  const timing = opts.timing === undefined ? false : expectBoolean(opts.timing, 'options.timing');
  return { outputTensors: opts.outputTensors, signal: opts.signal ?? null, timing };
}

// A context dropped without dispose() is released by its native finalizer; its logger goes with it.
const forgottenLoggers = new FinalizationRegistry<number>((target) => unregisterContextLogger(target));

/**
 * A TensorRT execution context: one optimization profile, a CUDA stream of its own, and native submit
 * and completion threads, so nothing waits for the GPU on the event loop. Runs on one context are
 * queued in call order and never interleaved; for concurrency create several contexts. Inputs are
 * validated in TypeScript before anything is enqueued. Create it with `engine.createContext()`.
 */
export class ExecutionContext {
  /** The engine's metadata (the context keeps working after the Engine handle is disposed). */
  readonly metadata: EngineMetadata;
  /** The optimization profile this context runs with. */
  readonly profile: number;
  /** The CUDA device it runs on. */
  readonly device: number;
  /** The `cudaGraph` option it was created with. */
  readonly cudaGraphMode: 'auto' | boolean;
  /** Tags this context's TensorRT log messages (TensorRTLogMessage.context). */
  readonly logTarget: number;
  #native: NativeContextWrap | null;
  #disposing: Promise<void> | null = null;
  #hasLogger: boolean;

  private constructor(native: NativeContextWrap, metadata: EngineMetadata, options: CheckedContextOptions) {
    this.#native = native;
    this.metadata = metadata;
    this.profile = options.profile;
    this.device = native.device;
    this.cudaGraphMode = options.cudaGraph;
    this.logTarget = native.logTarget;
    this.#hasLogger = options.logger !== null;
  }

  /**
   * @internal Use `engine.createContext()`. Takes the engine's native handle and metadata rather
   * than the Engine itself, so that this module never imports engine.ts (which imports this one).
   */
  static async create(
    engine: { native: NativeEngineWrap; metadata: EngineMetadata },
    options?: ContextOptions,
  ): Promise<ExecutionContext> {
    const checked = checkContextOptions(options, engine.metadata);
    const native = engine.native;
    const { addon } = loadAddon();
    if (!addon.createExecutionContext) {
      throw new TensorRTError(
        ErrorCode.NOT_SUPPORTED,
        'This build of tensorrt-node has no TensorRT runtime. Rebuild it against TensorRT headers: TENSORRT_INCLUDE_DIR=<TensorRT>/include npm rebuild tensorrt-node',
      );
    }
    const create = addon.createExecutionContext.bind(addon);
    syncTensorRTLogSink();
    return withCallerStack(async () => {
      const cudaGraph = checked.cudaGraph === 'auto' ? 'auto' : checked.cudaGraph ? 'on' : 'off';
      const context = await create(native, { profile: checked.profile, cudaGraph });
      // Messages TensorRT logged while creating the context went to the process-wide logger.
      if (checked.logger) registerContextLogger(context.logTarget, checked.logger, checked.logSeverity);
      const created = new ExecutionContext(context, engine.metadata, checked);
      if (checked.logger) forgottenLoggers.register(created, context.logTarget, created);
      return created;
    });
  }

  /** True once dispose() has been called. */
  get disposed(): boolean {
    return this.#native === null;
  }

  /** Runs submitted and not yet settled (queued or on the GPU). */
  get pending(): number {
    return this.#native?.inFlight ?? 0;
  }

  /** Whether and how CUDA graphs are used, and why not when they are off. */
  get cudaGraphs(): CudaGraphStatus {
    const status: NativeGraphStatus = this.#live().cudaGraphStatus();
    return { ...status, mode: this.cudaGraphMode };
  }

  /**
   * Runs the engine once. Resolves when the outputs are available to JavaScript (fresh arrays) or
   * written into the bound tensors, after the GPU finished. Runs on one context are queued.
   */
  async run(inputs: ContextFeeds, options?: ContextRunOptions): Promise<ContextRunResult> {
    const native = this.#live();
    const { outputTensors, signal, timing } = checkRunOptions(options);
    const bindings = prepareBindings(this.metadata, this.profile, this.device, inputs, outputTensors);
    if (signal?.aborted) throw abortError('ExecutionContext.run', signal, 'before it started');
    return withCallerStack(async () => {
      let result: NativeRunResult;
      if (signal) {
        const job = native.run(bindings.inputs, bindings.outputs, timing, true);
        const cancel = () => job.cancel();
        signal.addEventListener('abort', cancel, { once: true });
        try {
          result = await job.promise;
        } catch (error) {
          throw asAbortOf(error, 'ExecutionContext.run', signal, 'before it started');
        } finally {
          signal.removeEventListener('abort', cancel);
        }
        if (signal.aborted) {
          throw abortError(
            'ExecutionContext.run',
            signal,
            'after it had started: it completed on the GPU, and bound outputs were written',
          );
        }
      } else {
        result = await native.run(bindings.inputs, bindings.outputs, timing, false);
      }
      return this.#toResult(result, bindings.bound);
    });
  }

  /** Per-layer GPU times through TensorRT's IProfiler, as trtexec --dumpProfile reports them. */
  async profileLayers(inputs: ContextFeeds, options?: LayerProfileOptions): Promise<LayerProfile> {
    const native = this.#live();
    const opts = expectOptions<LayerProfileOptions>(options);
    rejectUnknownOptions(opts, ['iterations']);
    const iterations =
      opts.iterations === undefined ? 10 : expectInteger(opts.iterations, 'options.iterations', { min: 1, max: 100_000 });
    const bindings = prepareBindings(this.metadata, this.profile, this.device, inputs, undefined);
    return withCallerStack(async () => {
      const layers = await native.profileLayers(bindings.inputs, iterations);
      return { iterations, layers, totalAverageMs: layers.reduce((sum, layer) => sum + layer.averageMs, 0) };
    });
  }

  /**
   * Lets runs already on the GPU finish, rejects queued ones with ERR_DISPOSED, and resolves once
   * the context's stream is empty. Idempotent; later runs reject with ERR_DISPOSED.
   */
  dispose(): Promise<void> {
    if (this.#disposing) return this.#disposing;
    const native = this.#native!;
    this.#native = null;
    this.#disposing = native.dispose().finally(() => {
      if (!this.#hasLogger) return;
      forgottenLoggers.unregister(this);
      unregisterContextLogger(this.logTarget);
    });
    return this.#disposing;
  }

  /** `await using` support: the same as {@link dispose}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #live(): NativeContextWrap {
    if (!this.#native) throw disposedError('The execution context');
    return this.#native;
  }

  #toResult(result: NativeRunResult, bound: Map<number, { name: string; tensor: Tensor }>): ContextRunResult {
    const outputs: Record<string, HostTensor> = {};
    const boundOutputs: Record<string, BoundOutput> = {};
    for (const output of result.outputs) {
      const info = this.metadata.tensors[output.tensor]!;
      const binding = bound.get(output.tensor);
      if (binding) {
        setEntry(boundOutputs, info.name, { tensor: binding.tensor, shape: output.shape });
        continue;
      }
      const dtype = info.dtype as DType;
      const count = output.shape.reduce((product, dim) => product * dim, 1);
      setEntry(outputs, info.name, { dtype, shape: output.shape, data: viewTypedArray(dtype, output.buffer!, 0, count) });
    }
    return { outputs, bound: boundOutputs, cudaGraph: result.graph, timing: result.timing ? toRunTiming(result.timing) : null };
  }
}
