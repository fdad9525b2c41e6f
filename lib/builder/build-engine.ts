/**
 * buildEngine(onnx, options): ONNX to a serialized TensorRT engine in one call, on TensorRT 10 and
 * 11 alike. The steps, each in its own module:
 *
 *   1. validate options and profiles against the model's inputs (./profiles.ts), before any native call;
 *   2. find the TensorRT library and the GPU, which the engine (and the cache key) depend on;
 *   3. look the engine up in the cache (lib/cache.ts) by model bytes, transforms, options, TensorRT
 *      version and GPU, so the same engine is never built twice, even by concurrent processes;
 *   4. otherwise write the precision into the graph (./prepare-model.ts), build on a native thread
 *      with progress and cancellation, reuse and refresh the timing cache, then confirm the engine
 *      really uses the requested precision (./precision-check.ts).
 */
import { cudaFacts, diagnoseCudaError } from '../addon/cuda-diagnosis.js';
import { precisions } from '../core/precision.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import { cacheKey, hashFile, type ExternalDataFile } from '../cache/key.js';
import { EngineCache, type TimingCacheFile } from '../cache/index.js';
import { Engine } from '../tensorrt/engine.js';
import type { EngineMetadata } from '../addon/types.js';
import { abortError, asAbortOf } from '../core/abort.js';
import { ErrorCode, TensorRTError, TensorRTNodeError, withCallerStack } from '../core/errors.js';
import { loadAddon } from '../addon/loader.js';
import { type NativeBuildOptions } from '../addon/types.js';
import { externalDataReference, externalTensors, loadExternalData, resolveExternalDataPath } from '../onnx/external-data.js';
import { inspect } from '../onnx/inspect.js';
import { readModel, writeModel, type OnnxModel } from '../onnx/model.js';
import { pythonTensorRTDirsOnce } from '../addon/system/python-tensorrt-dirs.js';
import { parseByteSize } from '../core/units.js';
import {
  expectBoolean,
  expectFunction,
  expectInteger,
  expectOneOf,
  expectOptions,
  expectString,
  invalidType,
  rejectUnknownOptions,
} from '../core/validate.js';
import { checkPrecisionApplied, type LayerPrecisionCounts, type Precision } from './precision-check.js';
import { applyTransforms, checkPrecisionInputs, planTransforms, type PrecisionOptions } from './prepare-model.js';
import type { BuildProgressEvent } from '../addon/types.js';
import { resolveProfiles } from './profiles.js';
import { type ProfileSpec } from '../tensorrt/profiles.js';

/** Options of {@link buildEngine}. Every option that changes the engine is part of its cache key. */
export interface BuildEngineOptions extends PrecisionOptions {
  /** Default 'fp32'. fp16/int8 are written into the ONNX graph first (TensorRT 11 has no precision flags). */
  precision?: Precision;
  /** Bounds of every dynamic input: one profile, or several. */
  profiles?: ProfileSpec | ProfileSpec[];
  /** Workspace memory pool limit: bytes, or a size such as "2GiB". */
  workspace?: number | string;
  /** Builder optimization level 0-5 (TensorRT's default is 3). */
  optimizationLevel?: number;
  /** Build an engine that runs on other GPU architectures too (TensorRT's hardware compatibility level). */
  hardwareCompatibility?: 'none' | 'ampere+' | 'same-compute-capability';
  /** Build a version-compatible engine (runs on later TensorRT versions with the lean runtime). */
  versionCompatible?: boolean;
  /** With `versionCompatible`: leave the lean runtime out of the plan. */
  excludeLeanRuntime?: boolean;
  /** Auxiliary streams TensorRT may use inside one run (parallel branches). */
  maxAuxStreams?: number;
  /** CUDA device to build on (default 0). */
  device?: number;
  /** Engine cache folder (default: the user's cache folder, see lib/cache); false: no cache. */
  cacheDir?: string | false;
  /** A timing cache file to read and update; default: the cache's own per TensorRT version and GPU; false: none. */
  timingCache?: string | false;
  /** Folder or file to load libnvinfer from, instead of searching. */
  libraryPath?: string;
  /** Load TensorRT's standard plugins (libnvinfer_plugin) for models that use them (default true). */
  plugins?: boolean;
  /** Stops the build with ERR_ABORTED (TensorRT stops at its next progress step). */
  signal?: AbortSignal;
  /** TensorRT's build progress: phase starts, steps and finishes. */
  onProgress?: (event: BuildProgressEvent) => void;
}

/** What a build produced besides the plan: the engine's metadata, its layers by precision, and the versions it is bound to. */
export interface EngineBuildReport {
  metadata: EngineMetadata;
  precision: Precision;
  layers: LayerPrecisionCounts;
  tensorrtVersion: string;
  gpu: { uuid: string; computeCapability: string; name: string };
  /** Reports of the ONNX transforms that ran (none when the model carried the precision already). */
  transforms: { fp16?: unknown; int8?: unknown };
  warnings: string[];
  buildTimeMs: number;
}

/** The result of {@link buildEngine}: the serialized engine and its build report. */
export interface BuildEngineResult extends EngineBuildReport {
  /** The serialized engine: save it as a .plan file, or pass it to `Engine.load`. */
  plan: Buffer;
  /** Whether the plan came from the engine cache. */
  fromCache: boolean;
  /** The cache key id, or null without a cache. */
  cacheKey: string | null;
}

const optionNames = [
  'precision',
  'calibration',
  'calibrationTable',
  'fp16',
  'int8',
  'onCalibrationProgress',
  'profiles',
  'workspace',
  'optimizationLevel',
  'hardwareCompatibility',
  'versionCompatible',
  'excludeLeanRuntime',
  'maxAuxStreams',
  'device',
  'cacheDir',
  'timingCache',
  'libraryPath',
  'plugins',
  'signal',
  'onProgress',
] as const;

interface TensorRTHost {
  tensorrtVersion: string;
  gpu: { uuid: string; computeCapability: string; name: string };
  build: NonNullable<ReturnType<typeof loadAddon>['addon']['buildEngine']>;
}

/** The TensorRT library and the GPU the engine will be built for; throws when either is missing. */
async function resolveHost(device: number, libraryPath: string | undefined): Promise<TensorRTHost> {
  const { addon } = loadAddon();
  if (!addon.buildEngine) {
    const reason = addon.buildInfo().tensorrt.missingReason ?? 'TensorRT headers were not found';
    throw new TensorRTError(
      ErrorCode.NOT_SUPPORTED,
      `This build of tensorrt-node has no TensorRT builder (${reason}). Rebuild it against TensorRT headers: TENSORRT_INCLUDE_DIR=<TensorRT>/include npm rebuild tensorrt-node`,
    );
  }
  const probe = await addon.tensorrtProbe({ libraryPath, extraDirs: libraryPath ? [] : await pythonTensorRTDirsOnce() });
  if (!probe.loaded) {
    const tried = probe.attempts.map((attempt) => `\n  - ${attempt.path} [${attempt.source}]: ${attempt.outcome}`).join('');
    const wrongMajor = probe.attempts.some((attempt) => attempt.status === 'wrong-major');
    throw new TensorRTError(
      wrongMajor ? ErrorCode.TENSORRT_VERSION : ErrorCode.TENSORRT_NOT_FOUND,
      `Cannot build an engine: libnvinfer (TensorRT ${probe.expectedMajor ?? ''}.x) was not found. Tried:${tried}\nRun \`npx tensorrt-node doctor\` for the fix.`,
    );
  }
  const cuda = addon.cudaProbe!();
  if (cuda.error) {
    const diagnosis = diagnoseCudaError(cuda.error, cudaFacts(cuda));
    throw new TensorRTNodeError(
      cuda.error.name === 'cudaErrorNoDevice' ? ErrorCode.NO_CUDA_DEVICE : ErrorCode.CUDA_DRIVER,
      `Cannot build an engine: ${diagnosis.message} (CUDA error ${cuda.error.code}). Run \`npx tensorrt-node doctor\` for the fix.`,
      {
        cudaError: { code: cuda.error.code, name: cuda.error.name },
        details: { cudaProblem: diagnosis.kind },
      },
    );
  }
  const gpu = cuda.devices[device];
  if (!gpu)
    throw new TensorRTNodeError(
      ErrorCode.INVALID_ARGUMENT,
      `Expected a CUDA device index below ${cuda.deviceCount} for options.device but received ${device}`,
    );
  return {
    tensorrtVersion: probe.loaded.version,
    gpu: { uuid: gpu.uuid, computeCapability: gpu.computeCapability, name: gpu.name },
    build: addon.buildEngine.bind(addon),
  };
}

interface CheckedOptions {
  precision: Precision;
  native: Omit<NativeBuildOptions, 'profiles' | 'timingCache' | 'libraryPath' | 'extraDirs' | 'device' | 'plugins'>;
  device: number;
  cacheDir: string | false | undefined;
  timingCache: string | false | undefined;
  libraryPath: string | undefined;
  /** Not part of the cache key: a build either has the plugins its model needs, or fails. */
  plugins: boolean;
  signal: AbortSignal | undefined;
  onProgress: ((event: BuildProgressEvent) => void) | undefined;
}

function checkOptions(options: BuildEngineOptions | undefined): CheckedOptions {
  const opts = expectOptions<BuildEngineOptions>(options);
  rejectUnknownOptions(opts, optionNames);
  const native: CheckedOptions['native'] = {};
  if (opts.workspace !== undefined)
    native.workspaceBytes =
      typeof opts.workspace === 'number'
        ? expectInteger(opts.workspace, 'options.workspace', { min: 1 })
        : parseByteSize(opts.workspace, 'options.workspace');
  if (opts.optimizationLevel !== undefined)
    native.optimizationLevel = expectInteger(opts.optimizationLevel, 'options.optimizationLevel', { min: 0, max: 5 });
  if (opts.maxAuxStreams !== undefined)
    native.maxAuxStreams = expectInteger(opts.maxAuxStreams, 'options.maxAuxStreams', { min: 0, max: 64 });
  if (opts.hardwareCompatibility !== undefined)
    native.hardwareCompatibility = expectOneOf(opts.hardwareCompatibility, 'options.hardwareCompatibility', [
      'none',
      'ampere+',
      'same-compute-capability',
    ] as const);
  if (opts.versionCompatible !== undefined)
    native.versionCompatible = expectBoolean(opts.versionCompatible, 'options.versionCompatible');
  if (opts.excludeLeanRuntime !== undefined)
    native.excludeLeanRuntime = expectBoolean(opts.excludeLeanRuntime, 'options.excludeLeanRuntime');
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal))
    throw invalidType('an AbortSignal', 'options.signal', opts.signal);
  return {
    precision: opts.precision === undefined ? 'fp32' : expectOneOf(opts.precision, 'options.precision', precisions),
    native,
    device: opts.device === undefined ? 0 : expectInteger(opts.device, 'options.device', { min: 0 }),
    cacheDir:
      opts.cacheDir === undefined || opts.cacheDir === false ? opts.cacheDir : expectString(opts.cacheDir, 'options.cacheDir'),
    timingCache:
      opts.timingCache === undefined || opts.timingCache === false
        ? opts.timingCache
        : expectString(opts.timingCache, 'options.timingCache'),
    libraryPath: opts.libraryPath === undefined ? undefined : expectString(opts.libraryPath, 'options.libraryPath'),
    plugins: opts.plugins === undefined ? true : expectBoolean(opts.plugins, 'options.plugins'),
    signal: opts.signal,
    onProgress:
      opts.onProgress === undefined
        ? undefined
        : expectFunction<(event: BuildProgressEvent) => void>(opts.onProgress, 'options.onProgress'),
  };
}

/** An external-data file as the model names it, and where it resolved (inside the model's folder). */
export interface ExternalDataSource {
  location: string;
  path: string;
}

/**
 * Reads the model with its external data, naming the external files first: loading clears the
 * references, and without them in the cache key a change to the weights alone would hit the stale
 * engine. Each file is resolved inside the model's folder, as loading does.
 */
export async function readModelAndExternalFiles(
  source: string | Uint8Array,
): Promise<{ model: OnnxModel; externalFiles: ExternalDataSource[] }> {
  const model = await readModel(source, { loadExternalData: false });
  const externalFiles: ExternalDataSource[] = [];
  for (const tensor of externalTensors(model.proto)) {
    const location = externalDataReference(tensor).location;
    if (model.baseDir !== null && !externalFiles.some((file) => file.location === location)) {
      externalFiles.push({ location, path: await resolveExternalDataPath(model.baseDir, location, tensor.name) });
    }
  }
  await loadExternalData(model.proto, model.baseDir, model.source);
  return { model, externalFiles };
}

/** The bytes and external-data files that identify the model for the cache key. */
export async function modelFingerprint(
  source: string | Uint8Array,
  externalFiles: readonly ExternalDataSource[],
): Promise<{ bytes?: Uint8Array; sha256?: string; externalData: ExternalDataFile[] }> {
  const externalData: ExternalDataFile[] = [];
  for (const file of externalFiles) externalData.push({ path: file.location, sha256: await hashFile(file.path) });
  return typeof source === 'string' ? { sha256: await hashFile(source), externalData } : { bytes: source, externalData };
}

/** Reads, reuses and refreshes the timing cache; a corrupt one is reported and replaced. */
/** Where a timing cache lives: the engine cache's own file, or a file the user named. */
type TimingCacheStore = Pick<TimingCacheFile, 'read' | 'write' | 'discard'>;

function timingCacheFor(checked: CheckedOptions, cache: EngineCache | null, host: TensorRTHost): TimingCacheStore | null {
  if (checked.timingCache === false) return null;
  if (typeof checked.timingCache === 'string') {
    const path = checked.timingCache;
    return {
      read: async () => readFile(path).catch(() => undefined),
      write: async (data) => {
        // The engine is built: a timing cache that cannot be updated (read-only, disk full) costs a
        // slower next build, not this one. The caller reports the false as a warning.
        try {
          await writeFileAtomic(path, data, { description: 'timing cache' });
          return true;
        } catch {
          return false;
        }
      },
      discard: async () => undefined,
    };
  }
  return cache ? cache.timingCache(host.tensorrtVersion, host.gpu) : null;
}

async function buildOnce(
  source: string | Uint8Array,
  model: OnnxModel,
  plan: Awaited<ReturnType<typeof planTransforms>>,
  options: BuildEngineOptions,
  checked: CheckedOptions,
  profiles: ReturnType<typeof resolveProfiles>,
  host: TensorRTHost,
  timing: ReturnType<typeof timingCacheFor>,
  signal: AbortSignal | undefined,
): Promise<{ plan: Uint8Array; metadata: EngineBuildReport }> {
  const started = performance.now();
  const prepared = await applyTransforms(model, checked.precision, plan, { ...options, signal });
  const workDir = await mkdtemp(join(tmpdir(), 'tensorrt-node-build-'));
  try {
    const onnxPath = join(workDir, typeof source === 'string' ? basename(source) : 'model.onnx');
    await writeModel(prepared.model, onnxPath, { externalData: { threshold: 1 << 20 } });
    const timingBlob = timing ? await timing.read() : undefined;
    const job = host.build(
      onnxPath,
      {
        ...checked.native,
        device: checked.device,
        profiles,
        timingCache: timingBlob,
        libraryPath: checked.libraryPath,
        plugins: checked.plugins,
        extraDirs: checked.libraryPath ? [] : await pythonTensorRTDirsOnce(),
      },
      checked.onProgress,
    );
    const cancel = () => job.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    let result;
    try {
      result = await job.promise;
    } catch (error) {
      throw asAbortOf(error, 'buildEngine', signal);
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
    const warnings = [...result.warnings];
    if (timing && result.timingCache.byteLength > 0 && !(await timing.write(result.timingCache))) {
      warnings.push(
        `The timing cache${typeof checked.timingCache === 'string' ? ` ${checked.timingCache}` : ''} could not be updated; the next build will not reuse this one's timings`,
      );
    }
    if (timing && timingBlob && warnings.some((warning) => warning.startsWith('The timing cache could not be read')))
      await timing.discard('TensorRT could not read it');

    // The built engine must really use the requested precision: never a silent FP32 engine.
    const engine = await Engine.load(result.plan, {
      device: checked.device,
      libraryPath: checked.libraryPath,
      plugins: checked.plugins,
    });
    try {
      const layers = checkPrecisionApplied(checked.precision, engine.layerInformation());
      return {
        plan: result.plan,
        metadata: {
          metadata: engine.metadata,
          precision: checked.precision,
          layers,
          tensorrtVersion: host.tensorrtVersion,
          gpu: host.gpu,
          transforms: { fp16: prepared.fp16, int8: prepared.int8 },
          warnings,
          buildTimeMs: performance.now() - started,
        },
      };
    } finally {
      engine.dispose();
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * Builds (or takes from the cache) a TensorRT engine from an ONNX model file or its bytes, on
 * TensorRT 10 and 11 alike: validates the profiles against the model, writes FP16/INT8 into the graph,
 * builds on a native thread, then checks that the engine really uses the precision asked for
 * (ERR_PRECISION_NOT_APPLIED otherwise). Needs TensorRT and a GPU (ERR_TENSORRT_NOT_FOUND,
 * ERR_NO_CUDA_DEVICE, ...).
 *
 * @example
 * ```ts
 * const { plan, layers, fromCache } = await buildEngine('det.onnx', {
 *   precision: 'fp16',
 *   profiles: { x: { min: [1, 3, 320, 320], opt: [4, 3, 640, 640], max: [8, 3, 960, 960] } },
 *   workspace: '2GiB',
 * });
 * const engine = await Engine.load(plan);
 * ```
 */
export async function buildEngine(source: string | Uint8Array, options?: BuildEngineOptions): Promise<BuildEngineResult> {
  const checked = checkOptions(options);
  if (typeof source !== 'string' && !(source instanceof Uint8Array))
    throw invalidType('a path or a Uint8Array', 'the ONNX model', source);
  return withCallerStack(async () => {
    if (checked.signal?.aborted) throw abortError('buildEngine', checked.signal);
    const { model, externalFiles } = await readModelAndExternalFiles(source);
    const report = await inspect(model);
    const label = typeof source === 'string' ? basename(source) : '<bytes>';
    const profiles = resolveProfiles(options?.profiles, report.inputs, typeof source === 'string' ? source : 'The model');
    checkPrecisionInputs(report, checked.precision, options ?? {});
    const host = await resolveHost(checked.device, checked.libraryPath);
    const plan = await planTransforms(model, report, checked.precision, { ...options, signal: checked.signal });
    const key = cacheKey({
      model: await modelFingerprint(source, externalFiles),
      transforms: plan.steps,
      build: { precision: checked.precision, profiles, ...renameForKey(checked.native) },
      tensorrtVersion: host.tensorrtVersion,
      gpu: host.gpu,
      label,
    });
    const cache = checked.cacheDir === false ? null : await EngineCache.open(checked.cacheDir);
    const timing = timingCacheFor(checked, cache, host);
    const build = (signal: AbortSignal | undefined) =>
      buildOnce(source, model, plan, options ?? {}, checked, profiles, host, timing, signal);
    if (!cache) {
      const built = await build(checked.signal);
      return { ...built.metadata, plan: Buffer.from(built.plan), fromCache: false, cacheKey: null };
    }
    const entry = await cache.getOrBuild<EngineBuildReport>(key, build, { signal: checked.signal });
    return { ...entry.metadata, plan: entry.plan, fromCache: entry.hit, cacheKey: key.id };
  });
}

/** The cache key names build options as buildEngine's users write them (workspace, not workspaceBytes). */
function renameForKey(native: CheckedOptions['native']): Record<string, unknown> {
  const { workspaceBytes, ...rest } = native;
  return { ...rest, workspace: workspaceBytes };
}
