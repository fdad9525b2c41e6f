/**
 * Engine: a deserialized TensorRT engine. `await Engine.load(pathOrBytes, options)` deserializes on
 * a native thread (never on the event loop), and failures TensorRT words cryptically (another
 * TensorRT version, another GPU architecture, refused host code) come back as
 * ERR_ENGINE_INCOMPATIBLE with what the engine needs, what this host has, and the fix.
 */
import { stat } from 'node:fs/promises';
import { disposedError } from '../core/dispose.js';
import { diagnoseEngineLoadFailure } from './diagnosis.js';
import type { EngineMetadata, EngineTensorInfo } from '../addon/types.js';
import { engineInputs, engineOutputs } from './validation.js';
import { ExecutionContext, type ContextOptions } from './execution-context.js';
import { abortError } from '../core/abort.js';
import { ErrorCode, TensorRTError, TensorRTNodeError, withCallerStack } from '../core/errors.js';
import { loadAddon } from '../addon/loader.js';
import { type NativeEngineWrap } from '../addon/types.js';
import { pythonTensorRTDirsOnce } from '../addon/system/python-tensorrt-dirs.js';
import { syncTensorRTLogSink } from './log.js';
import {
  expectBoolean,
  expectInteger,
  expectOptions,
  expectString,
  invalidType,
  invalidValue,
  rejectUnknownOptions,
} from '../core/validate.js';

/** Options of {@link Engine.load}. */
export interface EngineLoadOptions {
  /** CUDA device to deserialize on (default 0). */
  device?: number;
  /** Allow engines that embed host code (lean runtime, plugins). Off: such code runs from the file. */
  allowHostCode?: boolean;
  /** Folder or file to load libnvinfer from, instead of searching. */
  libraryPath?: string;
  /** Rejects with ERR_ABORTED; a deserialization already running finishes and is released. */
  signal?: AbortSignal;
  /**
   * Load TensorRT's standard plugins (libnvinfer_plugin, e.g. EfficientNMS_TRT) when the library is
   * present (default true); false opts out. Plugins are process-wide once loaded.
   */
  plugins?: boolean;
}

const loadOptionNames = ['device', 'allowHostCode', 'libraryPath', 'signal', 'plugins'] as const;

async function checkSource(source: unknown): Promise<string | Uint8Array> {
  if (typeof source === 'string') {
    expectString(source, 'the engine path');
    let info;
    try {
      info = await stat(source);
    } catch {
      throw new TensorRTNodeError(ErrorCode.IO, `Cannot read the engine file ${source}: it does not exist`);
    }
    if (info.isDirectory()) throw new TensorRTNodeError(ErrorCode.IO, `Cannot read the engine file ${source}: it is a directory`);
    if (!info.isFile())
      throw new TensorRTNodeError(ErrorCode.IO, `Cannot read the engine file ${source}: it is not a regular file`);
    if (info.size === 0) throw invalidValue('a non-empty engine file', 'the engine', source);
    return source;
  }
  if (source instanceof Uint8Array) {
    if (source.byteLength === 0) throw invalidValue('a non-empty engine', 'the engine', source);
    return source;
  }
  throw invalidType('a path or a Uint8Array', 'the engine', source);
}

function nativeLoader(): NonNullable<ReturnType<typeof loadAddon>['addon']['loadEngine']> {
  const { addon } = loadAddon();
  if (!addon.loadEngine) {
    const reason = addon.buildInfo().tensorrt.missingReason ?? 'TensorRT headers were not found';
    throw new TensorRTError(
      ErrorCode.NOT_SUPPORTED,
      `This build of tensorrt-node has no TensorRT runtime (${reason}). Rebuild it against TensorRT headers: TENSORRT_INCLUDE_DIR=<TensorRT>/include npm rebuild tensorrt-node`,
    );
  }
  return addon.loadEngine.bind(addon);
}

function hostComputeCapability(device: number): string | null {
  try {
    return loadAddon().addon.cudaProbe?.().devices[device]?.computeCapability ?? null;
  } catch {
    return null;
  }
}

function translateLoadFailure(error: unknown, source: string | Uint8Array, device: number): unknown {
  if (!(error instanceof TensorRTError) || error.code !== ErrorCode.TENSORRT) return error;
  const messages = error.tensorrtMessages ?? [];
  const diagnosis = diagnoseEngineLoadFailure(messages, {
    tensorrtVersion: null,
    computeCapability: hostComputeCapability(device),
  });
  if (!diagnosis) return error;
  const what = typeof source === 'string' ? `the engine ${source}` : 'the engine';
  return new TensorRTError(ErrorCode.ENGINE_INCOMPATIBLE, `Cannot load ${what}: ${diagnosis.fix}`, {
    cause: error,
    tensorrtErrorCode: error.tensorrtErrorCode,
    tensorrtMessages: messages,
    details: { ...diagnosis },
  });
}

/**
 * A deserialized TensorRT engine, valid for one TensorRT version and one GPU architecture. Load it
 * with {@link Engine.load} (deserialized on a native thread); run it through execution contexts
 * ({@link createContext}). An engine built elsewhere fails with ERR_ENGINE_INCOMPATIBLE, saying what
 * it needs, what this host has, and the fix.
 *
 * @example
 * ```ts
 * const engine = await Engine.load('model.plan');
 * await using context = await engine.createContext();
 * const { outputs } = await context.run({ images: { data: pixels, shape: [1, 3, 640, 640] } });
 * ```
 */
export class Engine {
  /** What the engine says about itself: I/O tensors, optimization profiles, memory needs. */
  readonly metadata: EngineMetadata;
  /** The CUDA device it was deserialized on. */
  readonly device: number;
  #native: NativeEngineWrap | null;

  private constructor(native: NativeEngineWrap, device: number) {
    this.#native = native;
    this.device = device;
    this.metadata = native.metadata();
  }

  /** Deserializes an engine from a file path or its bytes. */
  static async load(source: string | Uint8Array, options?: EngineLoadOptions): Promise<Engine> {
    const checked = expectOptions<EngineLoadOptions>(options);
    rejectUnknownOptions(checked, loadOptionNames);
    const device = checked.device === undefined ? 0 : expectInteger(checked.device, 'options.device', { min: 0 });
    const allowHostCode =
      checked.allowHostCode === undefined ? false : expectBoolean(checked.allowHostCode, 'options.allowHostCode');
    const libraryPath = checked.libraryPath === undefined ? undefined : expectString(checked.libraryPath, 'options.libraryPath');
    const plugins = checked.plugins === undefined ? true : expectBoolean(checked.plugins, 'options.plugins');
    const signal = checked.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidType('an AbortSignal', 'options.signal', signal);

    return withCallerStack(async () => {
      const plan = await checkSource(source);
      if (signal?.aborted) throw abortError('Engine.load', signal);
      const load = nativeLoader();
      syncTensorRTLogSink(); // NODE_DEBUG=tensorrt-node shows what TensorRT says while loading
      const extraDirs = libraryPath ? [] : await pythonTensorRTDirsOnce();
      let native: NativeEngineWrap;
      try {
        native = await load(plan, { device, allowHostCode, libraryPath, extraDirs, plugins });
      } catch (error) {
        throw translateLoadFailure(error, plan, device);
      }
      if (signal?.aborted) {
        native.dispose();
        throw abortError('Engine.load', signal);
      }
      return new Engine(native, device);
    });
  }

  /** The input tensors, in engine order. */
  get inputs(): EngineTensorInfo[] {
    return engineInputs(this.metadata);
  }

  /** The output tensors, in engine order. */
  get outputs(): EngineTensorInfo[] {
    return engineOutputs(this.metadata);
  }

  /** True once this handle was disposed. */
  get disposed(): boolean {
    return this.#native === null;
  }

  /** The engine inspector's per-layer information (precision, tactics, ...), parsed from its JSON. */
  layerInformation(): unknown {
    return JSON.parse(this.#nativeOrThrow().layerInformation()) as unknown;
  }

  /**
   * A new execution context on a CUDA stream of its own, with the optimization profile selected.
   * The context keeps the engine alive: disposing this handle while contexts live is fine.
   */
  async createContext(options?: ContextOptions): Promise<ExecutionContext> {
    return ExecutionContext.create({ native: this.#nativeOrThrow(), metadata: this.metadata }, options);
  }

  /** Releases this handle; contexts created from the engine keep it alive until they are disposed. */
  dispose(): void {
    this.#native?.dispose();
    this.#native = null;
  }

  /** `using` support: the same as dispose(). */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** `await using`: the same as dispose() (contexts created from the engine keep it alive until they finish). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

  #nativeOrThrow(): NativeEngineWrap {
    if (!this.#native) throw disposedError('The engine');
    return this.#native;
  }
}
