/**
 * The loading policy: which binary (an explicit TENSORRT_NODE_ADDON, a source build, a prebuilt
 * variant ranked on host facts) is loaded, and why the others were not. ./types.ts describes what
 * the binary exports.
 *
 * The addon is loaded lazily, on first use, so that importing the package never fails: the cpu
 * backend, the ONNX toolkit and `doctor` work on machines where no binary fits.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createError, NativeLoadError, type CudaErrorInfo, type ErrorFields, type NativeLoadAttempt } from '../core/errors.js';
import { cudaFacts, diagnoseCudaError, isDriverError, translateCudaMessage, type CudaFacts } from './cuda-diagnosis.js';
import { readNvidiaDriver } from './system/nvidia-driver.js';
import { findTensorRTLibraries } from './system/tensorrt-libraries.js';
import type { NativeAddon } from './types.js';
import { parseVariantFile, rankVariants, type AddonVariant, type HostLibraries } from './variants.js';

export const packageRoot: string = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const packageJson = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string; name: string };
/** This package's version, from its package.json (the addon must report the same). */
export const packageVersion: string = packageJson.version;

/**
 * Where a candidate binary comes from.
 * @inline
 */
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

/**
 * What became of each candidate: doctor prints these ("which binary was loaded and why not the others").
 * @inline
 */
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
export function hostLibraries(env: NodeJS.ProcessEnv = process.env): HostLibraries {
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
export function addonCandidates(
  root: string = packageRoot,
  env: NodeJS.ProcessEnv = process.env,
  host: () => HostLibraries = () => hostLibraries(env),
): AddonCandidate[] {
  if (env.TENSORRT_NODE_ADDON)
    return [
      {
        path: env.TENSORRT_NODE_ADDON,
        source: 'TENSORRT_NODE_ADDON',
        variant: null,
        eligible: true,
        reason: 'named by TENSORRT_NODE_ADDON',
      },
    ];
  const requested = env.TENSORRT_NODE_VARIANT || undefined;
  const candidates: AddonCandidate[] = [];
  for (const config of ['Release', 'Debug']) {
    const path = join(root, 'build', config, 'tensorrt_node.node');
    if (config === 'Debug' && !existsSync(path)) continue; // only developers make Debug builds: no noise otherwise
    if (requested)
      candidates.push({
        path,
        source: 'source build',
        variant: null,
        eligible: false,
        reason: `TENSORRT_NODE_VARIANT=${requested} asks for a prebuilt variant`,
      });
    else
      candidates.push({
        path,
        source: 'source build',
        variant: null,
        eligible: true,
        reason: 'a source build of this install comes before prebuilt binaries',
      });
  }
  const variants = prebuiltVariants(root);
  if (variants.length > 0) {
    for (const choice of rankVariants(variants, host(), requested)) {
      candidates.push({
        path: choice.variant.file,
        source: 'prebuild',
        variant: choice.variant.id,
        eligible: choice.eligible,
        reason: choice.reason,
      });
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
  if (/GLIBC_|GLIBCXX_/.test(message))
    return `${message} (this binary needs a newer glibc/libstdc++ than the system has; build from source)`;
  return message;
}

function asCandidate(entry: string | AddonCandidate): AddonCandidate {
  return typeof entry === 'string'
    ? { path: entry, source: 'TENSORRT_NODE_ADDON', variant: null, eligible: true, reason: 'given explicitly' }
    : entry;
}

/**
 * How native errors become family errors. A driver error (CUDA's 35 "driver version is
 * insufficient", which is also what CUDA says with no driver at all, or 100 "no device") is worded
 * from the driver facts, as doctor words it (./cuda-diagnosis.ts); the facts are read once, on the
 * first such error.
 */
export function nativeErrorFactory(
  addon: Pick<NativeAddon, 'cudaProbe'>,
  readFacts?: () => CudaFacts,
): (code: string, message: string, kind: 'generic' | 'type' | 'range', extras: object) => Error {
  let facts: CudaFacts | undefined;
  const factsOnce = () => (facts ??= readFacts ? readFacts() : cudaFacts(addon.cudaProbe?.()));
  return (code, message, kind, extras) => {
    const fields = extras as ErrorFields & { cudaError?: CudaErrorInfo };
    const cuda = fields.cudaError;
    if (cuda && isDriverError(cuda.code)) {
      const diagnosis = diagnoseCudaError(cuda, factsOnce());
      return createError(code, translateCudaMessage(message, cuda, diagnosis), kind, {
        ...fields,
        details: { ...fields.details, cudaProblem: diagnosis.kind },
      });
    }
    return createError(code, message, kind, fields);
  };
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
      outcomes.push({
        ...candidate,
        status: 'failed',
        outcome: explainLoadError(error instanceof Error ? error.message : String(error)),
      });
      continue;
    }
    if (addon.addonVersion !== packageVersion) {
      outcomes.push({
        ...candidate,
        status: 'failed',
        outcome: `built for tensorrt-node ${addon.addonVersion}, but the package is ${packageVersion}`,
      });
      continue;
    }
    addon.setErrorFactory(nativeErrorFactory(addon));
    loaded = { addon, path: candidate.path };
    outcomes.push({ ...candidate, status: 'loaded', outcome: candidate.reason });
  }
  if (loaded) return { ...loaded, candidates: outcomes };

  const attempts: NativeLoadAttempt[] = outcomes.map((entry) => ({
    path: entry.path,
    error: entry.status === 'skipped' ? `skipped: ${entry.outcome}` : entry.outcome,
  }));
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
