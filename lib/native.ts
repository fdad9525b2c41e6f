/**
 * The binding facade: the one typed description of everything the native addon exports, and the
 * loader that finds it. Nothing outside lib/ sees these types; public classes wrap them.
 *
 * The addon is loaded lazily, on first use, so that importing the package never fails: the cpu
 * backend, the ONNX toolkit and `doctor` work on machines where no binary fits.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildProgressEvent } from './build/progress.js';
import type { PhaseTimings } from './run-timing.js';
import type { EngineMetadata } from './engine-metadata.js';
import { parseVariantFile, rankVariants, type AddonVariant, type HostFacts } from './addon-variants.js';
import { createError, NativeLoadError, type NativeLoadAttempt } from './errors.js';
import { readNvidiaDriver } from './system/nvidia-driver.js';
import { findTensorRTLibraries } from './system/tensorrt-libraries.js';

/** What the binary was compiled with, and what was left out and why. */
export interface BuildInfo {
  packageVersion: string;
  napiVersion: number;
  compiler: string;
  buildType: string;
  sanitizers: boolean;
  /** `emulated`: a test build on the emulated CUDA device (native/emulated/), which runs no GPU work. */
  cuda: { compiled: boolean; toolkitVersion: string | null; architectures: string | null; missingReason: string | null; emulated?: boolean };
  /** `emulated`: built against the fake TensorRT of the emulated tier (tests only), never a real TensorRT. */
  tensorrt: { compiled: boolean; headersVersion: string | null; headersMajor: number | null; missingReason: string | null; emulated?: boolean };
}

export interface NativeDeviceSummary {
  index: number;
  name: string;
  uuid: string;
  computeCapability: string;
  totalMemoryBytes: number;
  multiProcessorCount: number;
  pciBusId: string;
}

export interface CudaProbeResult {
  runtimeVersion: number;
  driverVersion: number;
  deviceCount: number;
  error: { code: number; name: string; message: string } | null;
  devices: NativeDeviceSummary[];
}

export interface LibraryAttempt {
  path: string;
  source: string;
  status: 'missing' | 'open-failed' | 'wrong-major' | 'missing-symbol' | 'loaded';
  outcome: string;
}

export interface TensorRTProbeResult {
  attempts: LibraryAttempt[];
  dynamicLinkerFolders: string[];
  expectedMajor: number | null;
  loaded: { path: string; source: string; version: string; major: number } | null;
}

export interface TensorRTProbeOptions {
  libraryPath?: string;
  extraDirs?: string[];
  library?: string;
}

/** One input of a run, in engine order: the tensor's index among the engine's I/O tensors, its shape, and its memory. */
export interface NativeRunInput {
  tensor: number;
  shape: readonly number[];
  /** A TypedArray (copied into pinned staging on the submit thread), pinned memory (no staging copy) or device memory (bound as is). */
  memory: ArrayBufferView | NativePinnedBuffer | NativeDeviceBuffer;
}

/** An output the caller bound to memory of their own; other outputs come back as fresh buffers. */
export interface NativeRunOutput {
  tensor: number;
  memory: ArrayBufferView | NativePinnedBuffer | NativeDeviceBuffer;
}

/** Host times of a run's phases, in ms on CLOCK_MONOTONIC (the clock under performance.now()). */
export type NativePhaseTimes = PhaseTimings;

export interface NativeRunResult {
  /** Every output in engine order; `buffer` holds the bytes of outputs that were not bound. */
  outputs: { tensor: number; shape: number[]; buffer?: ArrayBuffer }[];
  graph: 'plain' | 'captured' | 'replayed';
  timing?: NativePhaseTimes;
}

/** One layer as trtexec --dumpProfile shows it. */
export interface NativeLayerTime {
  name: string;
  totalMs: number;
  averageMs: number;
  medianMs: number;
  /** Share of the sum over all layers, in percent. */
  percentage: number;
  calls: number;
}

export interface NativeGraphStatus {
  mode: 'auto' | 'required' | 'off';
  active: boolean;
  disabledReason: string | null;
  cachedGraphs: number;
  captures: number;
  replays: number;
  plainRuns: number;
}

/** The native side of ExecutionContext: its own stream, submit and completion threads. */
export interface NativeContextWrap {
  readonly device: number;
  readonly profile: number;
  /** Tags TensorRT messages logged while this context works (see setTensorRTLogSink). */
  readonly logTarget: number;
  readonly inFlight: number;
  readonly disposed: boolean;
  run(inputs: NativeRunInput[], outputs: NativeRunOutput[], timing: boolean, cancellable: false): Promise<NativeRunResult>;
  run(inputs: NativeRunInput[], outputs: NativeRunOutput[], timing: boolean, cancellable: true): { promise: Promise<NativeRunResult>; cancel(): void };
  profileLayers(inputs: NativeRunInput[], iterations: number): Promise<NativeLayerTime[]>;
  cudaGraphStatus(): NativeGraphStatus;
  /** Queued runs reject with ERR_DISPOSED, started ones finish; resolves once the stream is empty. Idempotent. */
  dispose(): Promise<void>;
}

export type NativeLogSeverity = 'internal-error' | 'error' | 'warning' | 'info' | 'verbose';

/** The native side of Engine: created by loadEngine(). */
export interface NativeEngineWrap {
  metadata(): EngineMetadata;
  layerInformation(): string;
  dispose(): void;
  readonly disposed: boolean;
}

export interface NativeEngineLoadOptions {
  device?: number;
  allowHostCode?: boolean;
  libraryPath?: string;
  extraDirs?: string[];
  /** Load TensorRT's standard plugin library (default true). */
  plugins?: boolean;
}

/** Options of the native builder; lib/build validates them first. */
export interface NativeBuildOptions {
  device?: number;
  profiles?: { input: string; min: number[]; opt: number[]; max: number[]; values?: { min: number[]; opt: number[]; max: number[] } }[][];
  workspaceBytes?: number;
  optimizationLevel?: number;
  timingCache?: Uint8Array;
  hardwareCompatibility?: 'none' | 'ampere+' | 'same-compute-capability';
  versionCompatible?: boolean;
  excludeLeanRuntime?: boolean;
  maxAuxStreams?: number;
  libraryPath?: string;
  extraDirs?: string[];
  /** Load TensorRT's standard plugin library (default true). */
  plugins?: boolean;
}

export interface NativeBuildResult {
  plan: Buffer;
  timingCache: Buffer;
  warnings: string[];
}

export interface NativeBuildJob {
  promise: Promise<NativeBuildResult>;
  /** Asks TensorRT to stop at its next progress step; the promise then rejects with ERR_ABORTED. */
  cancel(): void;
}

type ErrorFactory = (code: string, message: string, kind: 'generic' | 'type' | 'range', extras: object) => Error;

/** cudaDevice(index): what CUDA reports about one device (clocks via cudaDeviceGetAttribute). */
export interface NativeCudaDevice {
  index: number;
  name: string;
  uuid: string;
  pciBusId: string;
  computeCapability: string;
  multiProcessorCount: number;
  totalMemoryBytes: number;
  clockRateKHz: number;
  memoryClockRateKHz: number;
  memoryBusWidthBits: number;
  /** 2 x memory clock x bus width in bytes: the peak DRAM bandwidth. */
  theoreticalBandwidthBytesPerSecond: number;
  l2CacheBytes: number;
  asyncEngineCount: number;
  integrated: boolean;
  canMapHostMemory: boolean;
  unifiedAddressing: boolean;
  memoryPoolsSupported: boolean;
}

/** Page-locked host memory (cudaHostAlloc); `arrayBuffer()` is that memory itself unless `zeroCopy` is false. */
export interface NativePinnedBuffer {
  readonly byteLength: number;
  /** False where the runtime refuses external ArrayBuffers: JS then works on a mirror copied in and out around each job. */
  readonly zeroCopy: boolean;
  readonly disposed: boolean;
  arrayBuffer(): ArrayBuffer;
  address(): bigint;
  /** Detaches the ArrayBuffer, then frees the memory once no in-flight job uses it. Idempotent. */
  dispose(): void;
}

/** Device memory; never enters JS memory. */
export interface NativeDeviceBuffer {
  readonly byteLength: number;
  readonly device: number;
  readonly disposed: boolean;
  address(): bigint;
  dispose(): void;
}

export interface NativeEvent {
  readonly device: number;
  readonly disposed: boolean;
  query(): boolean;
  elapsedTime(end: NativeEvent): number;
  dispose(): void;
}

/** Pinned, device, or pageable JS memory (a TypedArray). */
export type NativeMemory = NativePinnedBuffer | NativeDeviceBuffer | ArrayBufferView;
export type NativeGpuMemory = NativePinnedBuffer | NativeDeviceBuffer;

export interface NativeImagePreprocessParams {
  batch: number;
  height: number;
  width: number;
  srcChannels: 3 | 4;
  /** Output plane c reads source channel channelMap[c]. */
  channelMap: [number, number, number];
  /** out = fmaf(in, alpha[c], beta[c]) */
  alpha: [number, number, number];
  beta: [number, number, number];
  outputType: 'float32' | 'float16';
}

/** A CUDA stream with its own submit and completion threads; every GPU method settles a promise off the event loop. */
export interface NativeStream {
  readonly device: number;
  readonly priority: number;
  /** Jobs submitted whose completion has not been delivered yet. */
  readonly inFlight: number;
  readonly disposed: boolean;
  /** Resolves once everything submitted before has completed; rejects with the first error of promise-less jobs. */
  synchronize(): Promise<void>;
  copy(dst: NativeMemory, dstOffset: number, src: NativeMemory, srcOffset: number, byteLength: number): Promise<void>;
  memset(dst: NativeGpuMemory, offset: number, value: number, byteLength: number): Promise<void>;
  recordEvent(event: NativeEvent): void;
  waitEvent(event: NativeEvent): void;
  preprocessImage(dst: NativeGpuMemory, src: NativeGpuMemory, params: NativeImagePreprocessParams): Promise<void>;
  convertFloat(dst: NativeGpuMemory, src: NativeGpuMemory, count: number, direction: 'float32-to-float16' | 'float16-to-float32'): Promise<void>;
  /** Benchmark reference: seconds taken by `iterations` plain synchronous cudaMemcpy calls, run on this stream's submit thread. */
  benchmarkMemcpy(dst: NativeMemory, src: NativeMemory, byteLength: number, iterations: number): Promise<number>;
  /** Stops intake; accepted work still completes (off the JS thread). Idempotent. */
  dispose(): void;
}

export interface NativeAllocationStats {
  pinnedBuffers: number;
  pinnedBytes: number;
  deviceBuffers: number;
  deviceBytes: number;
}

/** Test hook: the real submit queue and completion delivery with a host-side fence (no GPU). */
export interface NativeCompletionQueueForTest {
  readonly inFlight: number;
  readonly pendingPromises: number;
  submit(delayMs: number, failAt?: 'enqueue' | 'done', message?: string): Promise<{ order: number; submitThread: string; completionThread: string }>;
  close(): void;
}

/** Everything the addon exports. Optional members exist only in builds that compiled them. */
export interface NativeAddon {
  addonVersion: string;
  buildInfo(): BuildInfo;
  setErrorFactory(factory: ErrorFactory): void;
  tensorrtProbe(options?: TensorRTProbeOptions): Promise<TensorRTProbeResult>;
  /** Test hook: throws a NativeError from C++ through the real error bridge. */
  throwForTest(code: string, message: string, cudaErrorCode?: number, cudaErrorName?: string): never;
  CompletionQueueForTest: new () => NativeCompletionQueueForTest;
  /** Present when the addon was built with CUDA. */
  cudaProbe?(): CudaProbeResult;
  /** Present when the addon was built with TensorRT headers. Deserializes on a thread of its own. */
  loadEngine?(planOrPath: Uint8Array | string, options?: NativeEngineLoadOptions): Promise<NativeEngineWrap>;
  /** Present when the addon was built with TensorRT headers. Creates the context on its own new stream. */
  createExecutionContext?(engine: NativeEngineWrap, options: { profile: number; cudaGraph: 'auto' | 'on' | 'off' }): Promise<NativeContextWrap>;
  /** Present when the addon was built with TensorRT headers: TensorRT's log messages for this environment, or null to stop. */
  setTensorRTLogSink?(sink: ((severity: NativeLogSeverity, message: string, target: number, droppedBefore: number) => void) | null, severity?: NativeLogSeverity): void;
  setTensorRTLogSeverity?(severity: NativeLogSeverity): void;
  /** Test hook: logs through the real TensorRT logger from another thread, tagged with `target`. */
  tensorrtLogForTest?(severity: NativeLogSeverity, message: string, target: number): void;
  /** Present when the addon was built with TensorRT headers. Builds on a thread of its own. */
  buildEngine?(onnxPath: string, options?: NativeBuildOptions, onProgress?: (event: BuildProgressEvent) => void): NativeBuildJob;
  // The CUDA layer (lib/cuda.ts, lib/tensor.ts); present only in builds with CUDA.
  cudaDeviceCount?(): number;
  cudaDevice?(index: number): NativeCudaDevice;
  cudaMemoryInfo?(index: number): { freeBytes: number; totalBytes: number };
  cudaStreamPriorityRange?(index: number): { least: number; greatest: number };
  /** What CUDA says the memory behind a view is ("pinned" proves a zero-copy `.data`). */
  cudaPointerKind?(memory: ArrayBuffer | ArrayBufferView): 'pageable' | 'pinned' | 'device' | 'managed';
  cudaAddressOf?(memory: ArrayBuffer | ArrayBufferView): bigint;
  cudaAllocationStats?(): NativeAllocationStats;
  StreamWrap?: new (device: number, priority: number) => NativeStream;
  EventWrap?: new (device: number, timing: boolean) => NativeEvent;
  PinnedBufferWrap?: new (byteLength: number, forceCopying?: boolean) => NativePinnedBuffer;
  DeviceBufferWrap?: new (byteLength: number, device: number, stream?: NativeStream) => NativeDeviceBuffer;
}

export const packageRoot: string = join(dirname(fileURLToPath(import.meta.url)), '..');

const packageJson = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string; name: string };
export const packageVersion: string = packageJson.version;

/** Where a candidate binary comes from. */
export type AddonSource = 'TENSORRT_NODE_ADDON' | 'source build' | 'prebuild';

/** One binary the loader knows of, with where it ranks and why. */
export interface AddonCandidate {
  path: string;
  source: AddonSource;
  /** The prebuild's variant ("cuda13-trt11"), null for source builds and explicit files. */
  variant: string | null;
  /** False when the binary cannot work on this host; it is then never loaded. */
  eligible: boolean;
  reason: string;
}

/** What became of each candidate: doctor prints these ("which binary was loaded and why not the others"). */
export interface CandidateOutcome extends AddonCandidate {
  status: 'loaded' | 'failed' | 'missing' | 'skipped' | 'not-tried';
  /** The load error for `failed`, the reason it was not loaded otherwise. */
  outcome: string;
}

export interface LoadedAddon {
  addon: NativeAddon;
  path: string;
  candidates: CandidateOutcome[];
}

/** Facts about this host that decide between prebuilt variants, gathered without loading a binary. */
export function hostFacts(env: NodeJS.ProcessEnv = process.env): HostFacts {
  return {
    libc: existsSync('/etc/alpine-release') ? 'musl' : 'glibc',
    driver: readNvidiaDriver(),
    tensorrt: findTensorRTLibraries(env),
  };
}

/** The prebuilt binaries shipped for this platform and architecture. */
export function prebuiltVariants(root: string = packageRoot): AddonVariant[] {
  const folder = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .sort()
    .map((name) => parseVariantFile(join(folder, name)))
    .filter((variant): variant is AddonVariant => variant !== null);
}

/**
 * Every binary the loader may try, best first:
 *   1. TENSORRT_NODE_ADDON, alone, when set (debugging, or a binary built elsewhere);
 *   2. a source build of this install (build/Release, build/Debug): it was made for this machine;
 *   3. the prebuilt variants, ranked on host facts (see rankVariants); ineligible ones are listed
 *      with the reason and never loaded. TENSORRT_NODE_VARIANT=<id> picks one variant (and skips
 *      source builds).
 */
export function addonCandidates(root: string = packageRoot, env: NodeJS.ProcessEnv = process.env, host: () => HostFacts = () => hostFacts(env)): AddonCandidate[] {
  if (env.TENSORRT_NODE_ADDON) return [{ path: env.TENSORRT_NODE_ADDON, source: 'TENSORRT_NODE_ADDON', variant: null, eligible: true, reason: 'named by TENSORRT_NODE_ADDON' }];
  const requested = env.TENSORRT_NODE_VARIANT || undefined;
  const candidates: AddonCandidate[] = [];
  for (const config of ['Release', 'Debug']) {
    const path = join(root, 'build', config, 'tensorrt_node.node');
    if (config === 'Debug' && !existsSync(path)) continue; // only developers make Debug builds: no noise otherwise
    if (requested) candidates.push({ path, source: 'source build', variant: null, eligible: false, reason: `TENSORRT_NODE_VARIANT=${requested} asks for a prebuilt variant` });
    else candidates.push({ path, source: 'source build', variant: null, eligible: true, reason: 'a source build of this install comes before prebuilt binaries' });
  }
  const variants = prebuiltVariants(root);
  if (variants.length > 0) {
    for (const choice of rankVariants(variants, host(), requested)) {
      candidates.push({ path: choice.variant.file, source: 'prebuild', variant: choice.variant.id, eligible: choice.eligible, reason: choice.reason });
    }
  }
  return candidates;
}

const fixes = [
  'Build the addon from source: `npm rebuild tensorrt-node` (needs cmake >= 3.24 and a C++20 compiler; the CUDA toolkit for GPU support).',
  'npm >= 11.19 does not run install scripts of dependencies unless approved, so a package installed where no prebuilt binary fits has no addon yet: run `npm install-scripts approve tensorrt-node` (or add "allowScripts": {"tensorrt-node": true} to your package.json), then `npm rebuild tensorrt-node`.',
  'Run `npx tensorrt-node doctor` for a full report of what this machine has.',
  'The cpu backend works without the addon: InferenceSession.create(model, { backend: "cpu" }).',
];

function explainLoadError(message: string): string {
  if (/GLIBC_|GLIBCXX_/.test(message)) return `${message} (this binary needs a newer glibc/libstdc++ than the system has; build from source)`;
  return message;
}

function asCandidate(entry: string | AddonCandidate): AddonCandidate {
  return typeof entry === 'string' ? { path: entry, source: 'TENSORRT_NODE_ADDON', variant: null, eligible: true, reason: 'given explicitly' } : entry;
}

/**
 * Loads the first eligible candidate that loads and matches the package version. Throws
 * NativeLoadError listing every attempt (details.candidates has the full outcomes).
 */
export function loadAddonFrom(entries: readonly (string | AddonCandidate)[]): LoadedAddon {
  const require = createRequire(import.meta.url);
  const outcomes: CandidateOutcome[] = [];
  let loaded: { addon: NativeAddon; path: string } | null = null;
  for (const candidate of entries.map(asCandidate)) {
    if (loaded) {
      if (!candidate.eligible) outcomes.push({ ...candidate, status: 'skipped', outcome: candidate.reason });
      else if (!existsSync(candidate.path)) outcomes.push({ ...candidate, status: 'missing', outcome: 'not found' });
      else outcomes.push({ ...candidate, status: 'not-tried', outcome: 'ranks below the loaded binary' });
      continue;
    }
    if (!candidate.eligible) {
      outcomes.push({ ...candidate, status: 'skipped', outcome: candidate.reason });
      continue;
    }
    if (!existsSync(candidate.path)) {
      outcomes.push({ ...candidate, status: 'missing', outcome: 'not found' });
      continue;
    }
    let addon: NativeAddon;
    try {
      addon = require(candidate.path) as NativeAddon;
    } catch (error) {
      outcomes.push({ ...candidate, status: 'failed', outcome: explainLoadError(error instanceof Error ? error.message : String(error)) });
      continue;
    }
    if (addon.addonVersion !== packageVersion) {
      outcomes.push({ ...candidate, status: 'failed', outcome: `built for tensorrt-node ${addon.addonVersion}, but the package is ${packageVersion}` });
      continue;
    }
    addon.setErrorFactory((code, message, kind, extras) => createError(code, message, kind, extras));
    loaded = { addon, path: candidate.path };
    outcomes.push({ ...candidate, status: 'loaded', outcome: candidate.reason });
  }
  if (loaded) return { ...loaded, candidates: outcomes };

  const attempts: NativeLoadAttempt[] = outcomes.map((entry) => ({ path: entry.path, error: entry.status === 'skipped' ? `skipped: ${entry.outcome}` : entry.outcome }));
  const tried = attempts.map((attempt) => `  - ${attempt.path}: ${attempt.error}`).join('\n');
  const none = attempts.length === 0 ? '  (no source build and no prebuilt binary for this platform)\n' : '';
  throw new NativeLoadError(
    `The tensorrt-node native addon could not be loaded. Tried:\n${none}${tried}\nPossible fixes:\n${fixes.map((fix) => `  - ${fix}`).join('\n')}`,
    attempts,
    { details: { candidates: outcomes } },
  );
}

let cached: LoadedAddon | NativeLoadError | undefined;

/** The addon, loaded once per process (and per worker thread). Throws NativeLoadError. */
export function loadAddon(): LoadedAddon {
  cached ??= (() => {
    try {
      return loadAddonFrom(addonCandidates());
    } catch (error) {
      if (error instanceof NativeLoadError) return error;
      throw error;
    }
  })();
  if (cached instanceof NativeLoadError) throw cached;
  return cached;
}

/** The addon, or the reason it could not be loaded, without throwing. */
export function tryLoadAddon(): LoadedAddon | NativeLoadError {
  try {
    return loadAddon();
  } catch (error) {
    if (error instanceof NativeLoadError) return error;
    throw error;
  }
}
