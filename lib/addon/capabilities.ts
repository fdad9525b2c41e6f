/**
 * capabilities(): what this machine and this install can do, and why not, with a fix for every
 * problem found. `tensorrt-node doctor` prints it; InferenceSession's `backend: 'auto'` reads it.
 */
import { dirname } from 'node:path';
import { tryLoadAddon, packageVersion, type CandidateOutcome } from './loader.js';
import { type BuildInfo, type LibraryAttempt, type NativeDeviceSummary } from './types.js';
import { onnxRuntimeInstallHint, onnxRuntimeVersion } from './system/onnxruntime-package.js';
import { NativeLoadError } from '../core/errors.js';
import { findPythonTensorRTDirs } from './system/python-tensorrt-dirs.js';
import { glibcVersion } from './system/glibc.js';
import { expectOptions, expectString, rejectUnknownOptions } from '../core/validate.js';
import { CUDA_ERROR_NO_DEVICE, cudaFacts, diagnoseCudaError, formatCudaVersion, type CudaDiagnosis } from './cuda-diagnosis.js';

/** Something this machine or install cannot do, and how to fix it. */
export interface Problem {
  /** The part of the stack the problem is in. */
  area: 'addon' | 'cuda' | 'tensorrt' | 'cpu';
  /** What is wrong, in a sentence. */
  message: string;
  /** What to do about it: a command, a package, an environment variable. */
  fix: string;
}

/**
 * One CUDA device as the runtime reports it.
 * @interface
 */
export type DeviceInfo = NativeDeviceSummary;

/**
 * What this machine and install can do: the loaded addon and why that binary, CUDA and its devices,
 * TensorRT and where it was looked for, which backends are available, and every problem with its fix.
 * `tensorrt-node doctor --json` prints exactly this.
 */
export interface Capabilities {
  package: { name: 'tensorrt-node'; version: string };
  host: { node: string; napiVersion: number; platform: string; arch: string; glibc: string | null };
  addon: {
    loaded: boolean;
    path: string | null;
    /** The prebuilt variant loaded ("cuda13-trt11"), null for a source build or no addon. */
    variant: string | null;
    version: string | null;
    napiVersion: number | null;
    build: BuildInfo | null;
    /** Every binary the loader considered, best first, with what became of it and why. */
    candidates: CandidateOutcome[];
    error: { message: string; attempts: { path: string; error: string }[] } | null;
  };
  cuda: {
    compiled: boolean;
    /** A test build on the emulated CUDA device: never usable, its devices never listed as GPUs. */
    emulated: boolean;
    usable: boolean;
    runtimeVersion: string | null;
    driverVersion: string | null;
    deviceCount: number;
    /** CUDA's own report of what failed (its message can mislead: error 35 also means "no driver at all"). */
    error: { code: number; name: string; message: string } | null;
    /** Why CUDA is unusable, in words true to the driver facts; null when it is usable. */
    diagnosis: CudaDiagnosis | null;
  };
  tensorrt: {
    compiled: boolean;
    headersVersion: string | null;
    found: boolean;
    usable: boolean;
    path: string | null;
    version: string | null;
    majorMatches: boolean | null;
    searched: LibraryAttempt[];
    dynamicLinkerFolders: string[];
    /**
     * TensorRT's standard plugins (libnvinfer_plugin.so.<major>, e.g. EfficientNMS_TRT), which
     * Engine.load and buildEngine initialize unless `plugins: false`. Null until libnvinfer is found.
     */
    plugins?: { found: boolean; path: string | null; reason: string | null } | null;
  };
  devices: DeviceInfo[];
  backends: {
    tensorrt: { available: boolean; reason: string | null };
    cpu: { available: boolean; reason: string | null; version: string | null };
  };
  problems: Problem[];
}

/** Options of {@link capabilities}. */
export interface CapabilitiesOptions {
  /** Folder or file to load libnvinfer from, instead of searching. */
  tensorrtLibraryPath?: string;
}

async function probeCpuBackend(): Promise<Capabilities['backends']['cpu']> {
  const version = onnxRuntimeVersion();
  if (version === null)
    return { available: false, reason: 'onnxruntime-node (an optional peer dependency) is not installed', version: null };
  try {
    await import('onnxruntime-node');
    return { available: true, reason: null, version };
  } catch (error) {
    return {
      available: false,
      reason: `onnxruntime-node cannot be loaded: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      version: null,
    };
  }
}

/**
 * Probes the addon, CUDA, TensorRT and onnxruntime-node and reports what works, what does not, and
 * the fix for each problem. Never throws for a missing piece: that is what it reports.
 * `InferenceSession`'s `backend: 'auto'` decides with it.
 *
 * @example
 * ```ts
 * const caps = await capabilities();
 * if (!caps.backends.tensorrt.available) console.log(caps.backends.tensorrt.reason);
 * for (const problem of caps.problems) console.log(`${problem.message}\n  fix: ${problem.fix}`);
 * ```
 */
export async function capabilities(options?: CapabilitiesOptions): Promise<Capabilities> {
  const checked = expectOptions<CapabilitiesOptions>(options);
  rejectUnknownOptions(checked, ['tensorrtLibraryPath']);
  if (checked.tensorrtLibraryPath !== undefined) expectString(checked.tensorrtLibraryPath, 'options.tensorrtLibraryPath');
  const problems: Problem[] = [];
  const loaded = tryLoadAddon();
  const addon = loaded instanceof NativeLoadError ? null : loaded.addon;
  const build = addon?.buildInfo() ?? null;

  const result: Capabilities = {
    package: { name: 'tensorrt-node', version: packageVersion },
    host: {
      node: process.version,
      napiVersion: Number(process.versions.napi),
      platform: process.platform,
      arch: process.arch,
      glibc: glibcVersion(),
    },
    addon: {
      loaded: addon !== null,
      path: loaded instanceof NativeLoadError ? null : loaded.path,
      variant:
        loaded instanceof NativeLoadError
          ? null
          : (loaded.candidates.find((candidate) => candidate.status === 'loaded')?.variant ?? null),
      version: addon?.addonVersion ?? null,
      napiVersion: build?.napiVersion ?? null,
      build,
      candidates:
        loaded instanceof NativeLoadError
          ? ((loaded.details?.candidates as CandidateOutcome[] | undefined) ?? [])
          : loaded.candidates,
      error: loaded instanceof NativeLoadError ? { message: loaded.message, attempts: loaded.attempts } : null,
    },
    cuda: {
      compiled: build?.cuda.compiled ?? false,
      emulated: build?.cuda.emulated === true,
      usable: false,
      runtimeVersion: null,
      driverVersion: null,
      deviceCount: 0,
      error: null,
      diagnosis: null,
    },
    tensorrt: {
      compiled: build?.tensorrt.compiled ?? false,
      headersVersion: build?.tensorrt.headersVersion ?? null,
      found: false,
      usable: false,
      path: null,
      version: null,
      majorMatches: null,
      searched: [],
      dynamicLinkerFolders: [],
    },
    devices: [],
    backends: { tensorrt: { available: false, reason: null }, cpu: await probeCpuBackend() },
    problems,
  };

  if (!addon) {
    problems.push({
      area: 'addon',
      message: 'The native addon is not loaded, so neither CUDA nor TensorRT can be used.',
      fix: 'Build it from source: npm >= 11.19 skips dependency install scripts unless approved, so run `npm install-scripts approve tensorrt-node` (or add "allowScripts": {"tensorrt-node": true} to package.json), then `npm rebuild tensorrt-node` (needs cmake >= 3.24, a C++20 compiler and the CUDA toolkit). Every binary tried is listed under addon.candidates.',
    });
  } else if (!build?.cuda.compiled) {
    problems.push({
      area: 'cuda',
      message: `The addon was built without CUDA: ${build?.cuda.missingReason ?? 'unknown reason'}.`,
      fix: 'Install the CUDA toolkit 12.x or 13.x (nvcc on PATH), unset TENSORRT_NODE_DISABLE_CUDA, then run `npm rebuild tensorrt-node`.',
    });
  }

  if (result.cuda.emulated) {
    // Honesty first: the emulated device proves plumbing in tests; it is no GPU and never reported as one.
    problems.push({
      area: 'cuda',
      message:
        'This addon is a test build on the emulated CUDA device (no GPU): it runs no GPU work, and its device is not listed.',
      fix: 'Use a build for a GPU: unset TENSORRT_NODE_ADDON, or rebuild without TRT_NODE_EMULATED_DEVICE (`npm rebuild tensorrt-node`).',
    });
  } else if (addon?.cudaProbe) {
    const probe = addon.cudaProbe();
    result.cuda.runtimeVersion = formatCudaVersion(probe.runtimeVersion);
    result.cuda.driverVersion = formatCudaVersion(probe.driverVersion);
    result.cuda.deviceCount = probe.deviceCount;
    result.cuda.error = probe.error;
    result.cuda.usable = probe.error === null && probe.deviceCount > 0;
    result.devices = probe.devices;
    // No visible device is diagnosed as CUDA's own "no device" error would be.
    const error = probe.error ?? (probe.deviceCount === 0 ? { code: CUDA_ERROR_NO_DEVICE, name: 'cudaErrorNoDevice' } : null);
    if (error) {
      const diagnosis = diagnoseCudaError(error, cudaFacts(probe));
      result.cuda.diagnosis = diagnosis;
      problems.push({ area: 'cuda', message: `${diagnosis.message}.`, fix: diagnosis.fix });
    }
  }

  if (addon) {
    const extraDirs = checked.tensorrtLibraryPath ? [] : await findPythonTensorRTDirs();
    const probe = await addon.tensorrtProbe({ libraryPath: checked.tensorrtLibraryPath, extraDirs });
    result.tensorrt.searched = probe.attempts;
    result.tensorrt.dynamicLinkerFolders = probe.dynamicLinkerFolders;
    const wrongMajor = probe.attempts.find((attempt) => attempt.status === 'wrong-major');
    if (probe.loaded) {
      result.tensorrt.found = true;
      result.tensorrt.path = probe.loaded.path;
      result.tensorrt.version = probe.loaded.version;
      result.tensorrt.majorMatches = probe.expectedMajor === null ? null : probe.loaded.major === probe.expectedMajor;
      // Next to libnvinfer first, as the runtime looks for it.
      const folder = dirname(probe.loaded.path);
      const plugins = await addon.tensorrtProbe({
        library: 'libnvinfer_plugin',
        libraryPath: checked.tensorrtLibraryPath ? folder : undefined,
        extraDirs: checked.tensorrtLibraryPath ? [] : [folder, ...extraDirs],
      });
      result.tensorrt.plugins = plugins.loaded
        ? { found: true, path: plugins.loaded.path, reason: null }
        : {
            found: false,
            path: null,
            reason: `libnvinfer_plugin.so.${probe.loaded.major} was not found next to libnvinfer or on the search path: engines and models using TensorRT's standard plugins (EfficientNMS_TRT, ...) will not load or build`,
          };
    } else if (wrongMajor) {
      result.tensorrt.found = true;
      result.tensorrt.path = wrongMajor.path;
      result.tensorrt.majorMatches = false;
    }
    if (!result.tensorrt.found) {
      problems.push({
        area: 'tensorrt',
        message: `libnvinfer (TensorRT) was not found; searched ${probe.attempts.length} places (listed under tensorrt.searched).`,
        fix: "Install TensorRT 10.x or 11.x (Debian/Ubuntu: the libnvinfer packages from NVIDIA's CUDA repository; or `pip install tensorrt`), or set TENSORRT_LIB_DIR to the folder holding libnvinfer.so.<major>.",
      });
    } else if (wrongMajor && !probe.loaded) {
      problems.push({
        area: 'tensorrt',
        message: `Found ${wrongMajor.path}: ${wrongMajor.outcome}.`,
        fix: `Install TensorRT ${probe.expectedMajor}.x, or rebuild the addon against the headers of the installed TensorRT (TENSORRT_INCLUDE_DIR=... npm rebuild tensorrt-node).`,
      });
    }
    if (!build?.tensorrt.compiled) {
      problems.push({
        area: 'tensorrt',
        message: `The addon was built without TensorRT headers: ${build?.tensorrt.missingReason ?? 'unknown reason'}.`,
        fix: 'Point TENSORRT_INCLUDE_DIR (or TENSORRT_ROOT) at the TensorRT include folder and run `npm rebuild tensorrt-node`.',
      });
    }
  }

  result.tensorrt.usable =
    result.tensorrt.compiled && result.tensorrt.found && result.tensorrt.majorMatches !== false && result.cuda.usable;
  result.backends.tensorrt = {
    available: result.tensorrt.usable,
    // A clause, not a sentence: callers quote it inside their own ("auto: TensorRT is not usable on this machine: <reason>; ...").
    reason: result.tensorrt.usable
      ? null
      : (problems.find((problem) => problem.area !== 'cpu')?.message.replace(/\.$/, '') ?? 'TensorRT is not usable'),
  };
  if (!result.backends.cpu.available) {
    problems.push({
      area: 'cpu',
      message: result.backends.cpu.reason ?? 'The cpu backend is unavailable.',
      fix: `Install onnxruntime-node without its CUDA download: \`${onnxRuntimeInstallHint}\` (its CPU build ships inside the npm package).`,
    });
  }
  return result;
}
