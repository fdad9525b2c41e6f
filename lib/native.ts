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
import { createError, NativeLoadError, type NativeLoadAttempt } from './errors.js';

/** What the binary was compiled with, and what was left out and why. */
export interface BuildInfo {
  packageVersion: string;
  napiVersion: number;
  compiler: string;
  buildType: string;
  sanitizers: boolean;
  cuda: { compiled: boolean; toolkitVersion: string | null; architectures: string | null; missingReason: string | null };
  tensorrt: { compiled: boolean; headersVersion: string | null; headersMajor: number | null; missingReason: string | null };
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

export interface LoadedAddon {
  addon: NativeAddon;
  path: string;
}

/** Every file the loader will try, in order. */
export function addonCandidates(root: string = packageRoot, env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.TENSORRT_NODE_ADDON) return [env.TENSORRT_NODE_ADDON];
  const candidates = [join(root, 'build', 'Release', 'tensorrt_node.node'), join(root, 'build', 'Debug', 'tensorrt_node.node')];
  const prebuildDir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  if (existsSync(prebuildDir)) {
    for (const name of readdirSync(prebuildDir).sort()) {
      if (name.endsWith('.node')) candidates.push(join(prebuildDir, name));
    }
  }
  return candidates;
}

const fixes = [
  'Rebuild the addon from source: `npm rebuild tensorrt-node` (needs cmake >= 3.24 and a C++20 compiler; CUDA toolkit for GPU support).',
  'With npm >= 11.19, dependency install scripts are blocked unless approved: `npm install-scripts approve tensorrt-node`, then `npm rebuild tensorrt-node`.',
  'Run `npx tensorrt-node doctor` for a full report of what this machine has.',
  'The cpu backend works without the addon: InferenceSession.create(model, { backend: "cpu" }).',
];

function explainLoadError(message: string): string {
  if (/GLIBC_|GLIBCXX_/.test(message)) return `${message} (this binary needs a newer glibc/libstdc++ than the system has; build from source)`;
  return message;
}

/** Loads the addon, trying each candidate; throws NativeLoadError listing every attempt. */
export function loadAddonFrom(candidates: readonly string[]): LoadedAddon {
  const require = createRequire(import.meta.url);
  const attempts: NativeLoadAttempt[] = [];
  for (const path of candidates) {
    if (!existsSync(path)) {
      attempts.push({ path, error: 'not found' });
      continue;
    }
    let addon: NativeAddon;
    try {
      addon = require(path) as NativeAddon;
    } catch (error) {
      attempts.push({ path, error: explainLoadError(error instanceof Error ? error.message : String(error)) });
      continue;
    }
    if (addon.addonVersion !== packageVersion) {
      attempts.push({ path, error: `built for tensorrt-node ${addon.addonVersion}, but the package is ${packageVersion}` });
      continue;
    }
    addon.setErrorFactory((code, message, kind, extras) => createError(code, message, kind, extras));
    return { addon, path };
  }
  const tried = attempts.map((attempt) => `  - ${attempt.path}: ${attempt.error}`).join('\n');
  throw new NativeLoadError(
    `The tensorrt-node native addon could not be loaded. Tried:\n${tried}\nPossible fixes:\n${fixes.map((fix) => `  - ${fix}`).join('\n')}`,
    attempts,
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
