/**
 * Which backend runs a session: a registry of backend factories and the `backend: 'auto'` choice.
 *
 * InferenceSession never imports a backend module directly. It asks this registry for the factory of
 * the backend it picked, so a backend plugs in with one call and nothing above it changes:
 *
 *   registerBackendFactory('tensorrt', { create: (request) => createTensorRTBackend(request) });
 *
 * The cpu factory is registered by ./cpu-factory.ts. A factory receives the model and the session's
 * validated options (BackendRequest) and resolves to one Backend whose `concurrency` says how many
 * runs it executes at once (`request.contexts` of them: execution contexts for tensorrt, worker
 * threads for cpu). `auto` picks tensorrt when capabilities() says TensorRT is usable here *and* a
 * tensorrt factory is registered, else cpu, and the session reports the choice and the reason.
 */
import type { CalibrationSource } from '../precision/calibration-data.js';
import type { OnnxModel } from '../onnx/model.js';
import type { Precision } from '../core/precision.js';
import type { ProfileSpec } from '../tensorrt/profiles.js';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import type { Backend, BackendKind } from '../backends/backend.js';

/** What `options.backend` accepts: a backend by name, or 'auto' (tensorrt where usable, else cpu). */
export type BackendChoice = BackendKind | 'auto';

export const backendChoices: readonly BackendChoice[] = ['auto', 'tensorrt', 'cpu'];

/** The model a session was created with, classified. */
export type SessionModel =
  | { kind: 'onnx'; source: string | Uint8Array | OnnxModel; label: string }
  /** A serialized TensorRT engine (a .engine/.plan/.trt file, or bytes that are not ONNX). */
  | { kind: 'engine'; source: string | Uint8Array; label: string };

/** What a factory receives: the model and the session's options, validated. */
export interface BackendRequest {
  model: SessionModel;
  precision: Precision;
  /** Calibration data for precision 'int8' (see quantizeInt8). */
  calibration: CalibrationSource | undefined;
  profiles: readonly ProfileSpec[] | undefined;
  cacheDir: string | undefined;
  device: number | undefined;
  /** Runs to execute at once: execution contexts (tensorrt) or worker threads (cpu). */
  contexts: number;
  /** CUDA graphs of the contexts: 'auto' captures and falls back, true requires them, false never. */
  cudaGraph: 'auto' | boolean;
  /** The session's options for this backend (`options.cpu`, `options.tensorrt`), unvalidated: the factory owns them. */
  backendOptions: Readonly<Record<string, unknown>> | undefined;
  /** True when the user asked for this backend by name; false when 'auto' fell back to it. */
  explicit: boolean;
}

/** Turns a session's request into a {@link Backend}; plug one in with {@link registerBackendFactory}. */
export interface BackendFactory {
  /** Loads the model for the session; the backend's `concurrency` says how many runs it executes at once. */
  create(request: BackendRequest): Promise<Backend>;
}

const factories = new Map<BackendKind, BackendFactory>();

/** Registers (or replaces) the factory of `kind`; returns a function that puts back the one it replaced. */
export function registerBackendFactory(kind: BackendKind, factory: BackendFactory): () => void {
  const previous = factories.get(kind);
  factories.set(kind, factory);
  return () => {
    if (factories.get(kind) !== factory) return;
    if (previous) factories.set(kind, previous);
    else factories.delete(kind);
  };
}

export function backendFactory(kind: BackendKind): BackendFactory | undefined {
  return factories.get(kind);
}

/** What the choice depends on; pure data so the decision is testable on any machine. */
export interface BackendAvailability {
  /** capabilities().backends.tensorrt */
  tensorrt: { available: boolean; reason: string | null };
  tensorrtFactory: boolean;
  /** capabilities().backends.cpu */
  cpu: { available: boolean; reason: string | null };
  cpuFactory: boolean;
}

export type BackendDecision = { kind: BackendKind; reason: string } | { kind: null; error: TensorRTNodeError };

const noTensorRTFactory = 'no factory is registered for the tensorrt backend';

function tensorrtProblems(availability: BackendAvailability): string[] {
  const problems: string[] = [];
  if (!availability.tensorrt.available)
    problems.push(`TensorRT is not usable on this machine: ${availability.tensorrt.reason ?? 'unknown reason'}`);
  if (!availability.tensorrtFactory) problems.push(noTensorRTFactory);
  return problems;
}

/** The backend for `choice`, or the ERR_NOT_SUPPORTED error saying why none can run. */
export function decideBackend(choice: BackendChoice, availability: BackendAvailability): BackendDecision {
  const tensorrt = tensorrtProblems(availability);
  const cpuProblem = !availability.cpu.available
    ? (availability.cpu.reason ?? 'the cpu backend is unavailable')
    : !availability.cpuFactory
      ? 'no factory is registered for the cpu backend'
      : null;
  if (choice === 'tensorrt') {
    if (tensorrt.length === 0) return { kind: 'tensorrt', reason: 'asked for by name' };
    return {
      kind: null,
      error: new TensorRTNodeError(
        ErrorCode.NOT_SUPPORTED,
        `The tensorrt backend cannot run here: ${tensorrt.join('; ')}. Use backend "cpu" or "auto".`,
        { details: { problems: tensorrt } },
      ),
    };
  }
  if (choice === 'cpu') {
    if (cpuProblem === null) return { kind: 'cpu', reason: 'asked for by name' };
    return {
      kind: null,
      error: new TensorRTNodeError(ErrorCode.NOT_SUPPORTED, `The cpu backend cannot run here: ${cpuProblem}.`),
    };
  }
  if (tensorrt.length === 0) return { kind: 'tensorrt', reason: 'auto: TensorRT is usable on this machine' };
  if (cpuProblem === null) return { kind: 'cpu', reason: `auto: ${tensorrt.join('; ')}` };
  return {
    kind: null,
    error: new TensorRTNodeError(
      ErrorCode.NOT_SUPPORTED,
      `No backend can run here: ${[...tensorrt, `cpu: ${cpuProblem}`].join('; ')}.`,
    ),
  };
}

let tensorrtProbe: Promise<BackendAvailability['tensorrt']> | null = null;

/**
 * Whether TensorRT is usable, from capabilities() (addon, CUDA device, libnvinfer), asked once per
 * process: it loads the addon and searches for libnvinfer, which need not be repeated per session.
 */
function probeTensorRT(): Promise<BackendAvailability['tensorrt']> {
  tensorrtProbe ??= import('../addon/capabilities.js').then(
    async ({ capabilities }) => {
      const caps = await capabilities();
      const build = caps.addon.build;
      // A test build on the emulated device with the fake TensorRT (npm run test:emulated) runs the
      // tensorrt backend for real, on the emulated device; capabilities() and doctor still report
      // neither a GPU nor a usable TensorRT for it.
      if (build?.cuda.emulated === true && build.tensorrt.emulated === true) {
        return { available: true, reason: 'the emulated device tier: a test build over the fake TensorRT (no GPU)' };
      }
      return caps.backends.tensorrt;
    },
    (error: unknown) => ({
      available: false,
      reason: `capabilities could not be read: ${error instanceof Error ? error.message : String(error)}`,
    }),
  );
  return tensorrtProbe;
}

/** The availability of every backend for `choice`: TensorRT is probed only when it could be chosen. */
export async function backendAvailability(choice: BackendChoice): Promise<BackendAvailability> {
  const { onnxRuntimeVersion, onnxRuntimeInstallHint } = await import('../addon/system/onnxruntime-package.js');
  const cpuInstalled = onnxRuntimeVersion() !== null;
  // The first TensorRT probe takes a while (the addon, the driver, a library search): a cpu worker
  // thread boots meanwhile, ready if 'auto' falls back to cpu, as it does on every host without a GPU.
  if (choice === 'auto' && cpuInstalled && tensorrtProbe === null && factories.has('cpu'))
    (await import('../backends/cpu/worker-pool.js')).prestartCpuWorker();
  return {
    tensorrt: choice === 'cpu' ? { available: false, reason: 'not probed (backend "cpu" was asked for)' } : await probeTensorRT(),
    tensorrtFactory: factories.has('tensorrt'),
    cpu: cpuInstalled
      ? { available: true, reason: null }
      : {
          available: false,
          reason: `onnxruntime-node (an optional peer dependency) is not installed; install it with \`${onnxRuntimeInstallHint}\``,
        },
    cpuFactory: factories.has('cpu'),
  };
}
