/**
 * The tensorrt backend as InferenceSession builds it: an ONNX model becomes an engine through
 * buildEngine (precision written into the graph, the session's profiles, the engine cache, so a
 * model is built once per GPU and TensorRT version and later sessions start in milliseconds); an
 * engine file or bytes is deserialized as it is. Then `contexts` execution contexts run it
 * (./tensorrt.ts).
 *
 * `options.tensorrt` carries what only TensorRT understands: builder settings (workspace,
 * optimizationLevel, ...), where libnvinfer is, whether engines may embed host code, and the logger
 * of the contexts. Unknown names are refused with the closest known one.
 */
import type { BuildProgressEvent } from '../../addon/types.js';
import { buildEngine, type BuildEngineOptions } from '../../builder/build-engine.js';
import { Engine, type EngineLoadOptions } from '../../tensorrt/engine.js';
import { ErrorCode, TensorRTNodeError } from '../../core/errors.js';
import type { ContextOptions } from '../../tensorrt/execution-context.js';
import { serializeModel } from '../../onnx/model.js';
import { expectOptions, rejectUnknownOptions } from '../../core/validate.js';
import type { Backend } from '../../backends/backend.js';
import type { BackendFactory, BackendRequest } from '../registry.js';
import { createTensorRTBackend } from '../../backends/tensorrt/backend.js';

/** `options.tensorrt` of InferenceSession.create. */
export interface TensorRTBackendOptions {
  /** Builder workspace limit: bytes or a size such as "2GiB". */
  workspace?: BuildEngineOptions['workspace'];
  /** Builder optimization level 0-5 (TensorRT's default is 3). */
  optimizationLevel?: BuildEngineOptions['optimizationLevel'];
  /** See {@link BuildEngineOptions.hardwareCompatibility}. */
  hardwareCompatibility?: BuildEngineOptions['hardwareCompatibility'];
  /** See {@link BuildEngineOptions.versionCompatible}. */
  versionCompatible?: BuildEngineOptions['versionCompatible'];
  /** See {@link BuildEngineOptions.excludeLeanRuntime}. */
  excludeLeanRuntime?: BuildEngineOptions['excludeLeanRuntime'];
  /** Auxiliary streams TensorRT may use inside one run. */
  maxAuxStreams?: BuildEngineOptions['maxAuxStreams'];
  /** A timing cache file to read and update (default: the engine cache's own); false: none. */
  timingCache?: BuildEngineOptions['timingCache'];
  /** Build progress, when the engine is not in the cache yet. */
  onProgress?: (event: BuildProgressEvent) => void;
  /** Folder or file to load libnvinfer from, instead of searching. */
  libraryPath?: string;
  /** Allow engine files that embed host code (lean runtime, plugins): only for engines you trust (see SECURITY.md). */
  allowHostCode?: EngineLoadOptions['allowHostCode'];
  /** Receives what TensorRT logs while the contexts run. */
  logger?: ContextOptions['logger'];
  /** The least severe message the contexts' logger receives. */
  logSeverity?: ContextOptions['logSeverity'];
}

const buildOptionNames = [
  'workspace',
  'optimizationLevel',
  'hardwareCompatibility',
  'versionCompatible',
  'excludeLeanRuntime',
  'maxAuxStreams',
  'timingCache',
  'onProgress',
] as const;
export const tensorrtBackendOptionNames = [...buildOptionNames, 'libraryPath', 'allowHostCode', 'logger', 'logSeverity'] as const;

/** Picks the named keys that are set. */
function pick<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Pick<T, K> {
  const picked = {} as Pick<T, K>;
  for (const key of keys) if (object[key] !== undefined) picked[key] = object[key];
  return picked;
}

/** The engine of a session: built (or taken from the cache) from ONNX, or deserialized. Also the bench's engine target's. */
export async function engineForRequest(request: BackendRequest, options: TensorRTBackendOptions = {}): Promise<Engine> {
  const { model } = request;
  const load: EngineLoadOptions = {
    ...(request.device === undefined ? {} : { device: request.device }),
    ...pick(options, ['libraryPath', 'allowHostCode']),
  };
  if (model.kind === 'engine') {
    if (request.precision !== 'fp32') {
      throw new TensorRTNodeError(
        ErrorCode.NOT_SUPPORTED,
        `options.precision "${request.precision}" cannot apply to ${model.label}: an engine's precision is fixed when it is built. Omit options.precision, or give the ONNX model.`,
      );
    }
    return Engine.load(model.source, load);
  }
  const source =
    typeof model.source === 'string' || model.source instanceof Uint8Array ? model.source : serializeModel(model.source);
  const built = await buildEngine(source, {
    precision: request.precision,
    ...(request.calibration === undefined ? {} : { calibration: request.calibration }),
    ...(request.profiles === undefined ? {} : { profiles: [...request.profiles] }),
    ...(request.cacheDir === undefined ? {} : { cacheDir: request.cacheDir }),
    ...(request.device === undefined ? {} : { device: request.device }),
    ...pick(options, [...buildOptionNames, 'libraryPath']),
  });
  // A version-compatible plan embeds TensorRT's lean runtime (host code) unless told not to: the
  // session asked for exactly that, so it may load; anything else keeps the caller's setting.
  const embedsLeanRuntime = options.versionCompatible === true && options.excludeLeanRuntime !== true;
  return Engine.load(built.plan, embedsLeanRuntime ? { ...load, allowHostCode: true } : load);
}

export const tensorrtBackendFactory: BackendFactory = {
  async create(request: BackendRequest): Promise<Backend> {
    const options = expectOptions<TensorRTBackendOptions>(request.backendOptions, 'options.tensorrt') as TensorRTBackendOptions;
    rejectUnknownOptions(options, tensorrtBackendOptionNames, 'options.tensorrt');
    const engine = await engineForRequest(request, options);
    return createTensorRTBackend(engine, request.contexts, {
      cudaGraph: request.cudaGraph,
      ...pick(options, ['logger', 'logSeverity']),
    });
  },
};
