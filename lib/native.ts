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
import type { EngineMetadata } from './engine-metadata.js';
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
}

/** Options of the native builder; lib/build validates them first. */
export interface NativeBuildOptions {
  device?: number;
  profiles?: { input: string; min: number[]; opt: number[]; max: number[] }[][];
  workspaceBytes?: number;
  optimizationLevel?: number;
  timingCache?: Uint8Array;
  hardwareCompatibility?: 'none' | 'ampere+' | 'same-compute-capability';
  versionCompatible?: boolean;
  excludeLeanRuntime?: boolean;
  maxAuxStreams?: number;
  libraryPath?: string;
  extraDirs?: string[];
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

/** Everything the addon exports. Optional members exist only in builds that compiled them. */
export interface NativeAddon {
  addonVersion: string;
  buildInfo(): BuildInfo;
  setErrorFactory(factory: ErrorFactory): void;
  tensorrtProbe(options?: TensorRTProbeOptions): Promise<TensorRTProbeResult>;
  /** Test hook: throws a NativeError from C++ through the real error bridge. */
  throwForTest(code: string, message: string, cudaErrorCode?: number, cudaErrorName?: string): never;
  /** Present when the addon was built with CUDA. */
  cudaProbe?(): CudaProbeResult;
  /** Present when the addon was built with TensorRT headers. Deserializes on a thread of its own. */
  loadEngine?(planOrPath: Uint8Array | string, options?: NativeEngineLoadOptions): Promise<NativeEngineWrap>;
  /** Present when the addon was built with TensorRT headers. Builds on a thread of its own. */
  buildEngine?(onnxPath: string, options?: NativeBuildOptions, onProgress?: (event: BuildProgressEvent) => void): NativeBuildJob;
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
