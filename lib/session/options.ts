/** InferenceSession.create's options: the type, the defaults and the checks. */
import { basename, extname } from 'node:path';
import { precisions, type Precision } from '../core/precision.js';
import type { ProfileSpec } from '../tensorrt/profiles.js';
import type { BackendChoice, SessionModel } from './registry.js';
import type { CpuBackendOptions } from '../backends/cpu/backend.js';
import type { TensorRTBackendOptions } from './factories/tensorrt.js';
import type { CalibrationSource } from '../precision/calibration-data.js';
import type { OnnxModel } from '../onnx/model.js';
import { ArgumentTypeError } from '../core/errors.js';
import { validateSignature } from './signature.js';
import type { ModelSignature } from './types.js';
import {
  describeValue,
  expectAutoOrBoolean,
  expectInteger,
  expectOneOf,
  expectOptions,
  expectString,
  rejectUnknownOptions,
} from '../core/validate.js';
import { expectDurationMs } from '../core/units.js';

/** Options of {@link InferenceSession.create}. Unknown options are refused with a "did you mean". */
export interface SessionOptions {
  /** 'auto' (default): tensorrt when usable here, else cpu; session.backend and backendReason say which and why. */
  backend?: BackendChoice;
  /** Precision of the computation (default 'fp32'); on cpu the graph is transformed as for TensorRT (not faster, but the same numerics). */
  precision?: Precision;
  /** Calibration samples for precision 'int8' (feeds, a folder of samples, or { random: N }). */
  calibration?: CalibrationSource;
  /** Optimization profiles: per dynamic input { min, opt, max } shapes; requests outside all of them are ERR_SHAPE on every backend. */
  profiles?: ProfileSpec[];
  /** tensorrt: engine cache folder (engines are built once and reused). */
  cacheDir?: string;
  /** tensorrt: CUDA device index (default 0). */
  device?: number;
  /** Runs executed at once: execution contexts (tensorrt) or worker threads (cpu). Default 1. */
  contexts?: number;
  /**
   * tensorrt: CUDA graphs per input shape. 'auto' (default) captures after one warm-up run and falls
   * back to plain enqueues (saying why) where capture fails; true requires them; false never.
   */
  cudaGraph?: 'auto' | boolean;
  /** Most requests waiting for a context before ERR_QUEUE_FULL (default 1024; 0 refuses whenever all contexts are busy). */
  maxQueue?: number;
  /** Default deadline of every request in ms, queue time included (ERR_TIMEOUT), up to 2^31-1 (about 24.8 days); Infinity or none: no deadline. */
  timeoutMs?: number;
  /** Name of the model in metrics and services (default: the file name without extension, else "model"). */
  name?: string;
  /** How to read `model` when it is bytes: 'onnx' (default) or 'engine'; for paths the extension decides. */
  modelFormat?: 'onnx' | 'engine';
  /** Options of the cpu backend (createCpuBackend's): threads, graph optimization, niceness... */
  cpu?: CpuBackendOptions;
  /** Options of the tensorrt backend: builder settings, libnvinfer location, host code, logging. */
  tensorrt?: TensorRTBackendOptions;
  /**
   * The model's input and output dtypes by name, `{ inputs: { x: 'float32' }, outputs: { y: 'float32' } }`:
   * types feeds and results (create() infers the session's type from it) and is checked against
   * the model at create, listing the model's real inputs and outputs when it does not match. It
   * names every input; outputs it leaves out are still computed, just not typed.
   */
  signature?: ModelSignature;
}

export const sessionOptionNames = [
  'backend',
  'precision',
  'calibration',
  'profiles',
  'cacheDir',
  'device',
  'contexts',
  'cudaGraph',
  'maxQueue',
  'timeoutMs',
  'name',
  'modelFormat',
  'cpu',
  'tensorrt',
  'signature',
] as const;

export const DEFAULT_MAX_QUEUE = 1024;

/** Model inputs InferenceSession.create accepts. */
export type ModelInput = string | Uint8Array | OnnxModel;

export interface CheckedSessionOptions {
  backend: BackendChoice;
  precision: Precision;
  calibration: CalibrationSource | undefined;
  profiles: unknown;
  cacheDir: string | undefined;
  device: number | undefined;
  contexts: number;
  cudaGraph: 'auto' | boolean;
  maxQueue: number;
  timeoutMs: number | undefined;
  name: string | undefined;
  modelFormat: 'onnx' | 'engine' | undefined;
  cpu: Record<string, unknown> | undefined;
  tensorrt: Record<string, unknown> | undefined;
  signature: ModelSignature | undefined;
}

/** A deadline option: milliseconds within the timer range (core/units.ts), Infinity or undefined for none. */
export function expectTimeout(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const milliseconds = expectDurationMs(value, name, { allowInfinity: true });
  return milliseconds === Infinity ? undefined : milliseconds;
}

export function validateSessionOptions(options: unknown): CheckedSessionOptions {
  const opts = expectOptions<SessionOptions>(options);
  rejectUnknownOptions(opts, sessionOptionNames);
  return {
    backend:
      opts.backend === undefined ? 'auto' : expectOneOf(opts.backend, 'options.backend', ['auto', 'tensorrt', 'cpu'] as const),
    precision: opts.precision === undefined ? 'fp32' : expectOneOf(opts.precision, 'options.precision', precisions),
    calibration: opts.calibration,
    profiles: opts.profiles,
    cacheDir: opts.cacheDir === undefined ? undefined : expectString(opts.cacheDir, 'options.cacheDir'),
    device: opts.device === undefined ? undefined : expectInteger(opts.device, 'options.device', { min: 0 }),
    contexts: opts.contexts === undefined ? 1 : expectInteger(opts.contexts, 'options.contexts', { min: 1, max: 64 }),
    cudaGraph: opts.cudaGraph === undefined ? 'auto' : expectAutoOrBoolean(opts.cudaGraph, 'options.cudaGraph'),
    maxQueue: opts.maxQueue === undefined ? DEFAULT_MAX_QUEUE : expectInteger(opts.maxQueue, 'options.maxQueue', { min: 0 }),
    timeoutMs: expectTimeout(opts.timeoutMs, 'options.timeoutMs'),
    name: opts.name === undefined ? undefined : expectString(opts.name, 'options.name'),
    modelFormat:
      opts.modelFormat === undefined
        ? undefined
        : expectOneOf(opts.modelFormat, 'options.modelFormat', ['onnx', 'engine'] as const),
    cpu: opts.cpu === undefined ? undefined : (expectOptions(opts.cpu, 'options.cpu') as Record<string, unknown>),
    tensorrt:
      opts.tensorrt === undefined ? undefined : (expectOptions(opts.tensorrt, 'options.tensorrt') as Record<string, unknown>),
    signature: validateSignature(opts.signature),
  };
}

const engineExtensions = ['.engine', '.plan', '.trt'];

/** Classifies `model` (ONNX or a TensorRT engine) and names it. */
export function classifyModel(model: unknown, format: 'onnx' | 'engine' | undefined): SessionModel {
  if (typeof model === 'string') {
    expectString(model, 'model');
    const isEngine = format === undefined ? engineExtensions.includes(extname(model).toLowerCase()) : format === 'engine';
    return isEngine ? { kind: 'engine', source: model, label: model } : { kind: 'onnx', source: model, label: model };
  }
  if (model instanceof Uint8Array) {
    if (model.byteLength === 0)
      throw new ArgumentTypeError(`Expected a non-empty model for model but received ${describeValue(model)}`);
    return format === 'engine'
      ? { kind: 'engine', source: model, label: '<engine bytes>' }
      : { kind: 'onnx', source: model, label: '<onnx bytes>' };
  }
  if (typeof model === 'object' && model !== null && 'proto' in model) {
    if (format === 'engine')
      throw new ArgumentTypeError(
        'Expected engine bytes or an engine path for model (options.modelFormat is "engine") but received an OnnxModel',
      );
    return { kind: 'onnx', source: model as OnnxModel, label: (model as OnnxModel).source };
  }
  throw new ArgumentTypeError(`Expected a model path, bytes or an OnnxModel for model but received ${describeValue(model)}`);
}

/** The default session name: the model file's name without extension. */
export function defaultSessionName(model: SessionModel): string {
  if (typeof model.source === 'string') return basename(model.source, extname(model.source)) || 'model';
  if (model.kind === 'onnx' && typeof model.source === 'object' && !(model.source instanceof Uint8Array)) {
    const graphName = model.source.proto.graph?.name;
    if (graphName) return graphName;
  }
  return 'model';
}
