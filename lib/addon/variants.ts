/**
 * Prebuilt binary variants: how their file names describe them, and which one suits this host.
 *
 * Names follow prebuildify's dot-separated tags, so node-gyp-build reads them too (it skips tags it
 * does not know):
 *
 *   prebuilds/linux-<arch>/tensorrt-node.napi.cuda<C>[.trt<T>][.tegra].glibc.node
 *
 *   cuda<C>  the CUDA major whose runtime is linked in statically (the driver must support it)
 *   trt<T>   the TensorRT major whose headers it was compiled against (it dlopens libnvinfer.so.<T>)
 *   tegra    built with the Jetson (L4T) toolkit: only for Jetson hosts, and only it is for them
 *
 * Every variant loads on any glibc host of its architecture (TensorRT and the driver are opened at
 * run time), so choosing is a ranking on host facts gathered without loading anything:
 * ./system/nvidia-driver.ts and ./system/tensorrt-libraries.ts.
 */
import { basename } from 'node:path';
import type { DriverInfo } from './system/nvidia-driver.js';
import type { FoundTensorRT } from './system/tensorrt-libraries.js';

export interface AddonVariant {
  file: string;
  /** "cuda13-trt11", "cuda12-trt10-tegra", "cuda13", "cpu": what TENSORRT_NODE_VARIANT names. */
  id: string;
  cudaMajor: number | null;
  tensorrtMajor: number | null;
  tegra: boolean;
  libc: 'glibc' | 'musl' | null;
}

/** The libraries found on this host that decide between prebuilt variants (libc, NVIDIA driver, libnvinfer). */
export interface HostLibraries {
  libc: 'glibc' | 'musl';
  driver: DriverInfo;
  /** libnvinfer.so.<major> files found, in search order. */
  tensorrt: FoundTensorRT[];
}

export interface VariantChoice {
  variant: AddonVariant;
  /** False when the variant cannot work here at all; it is then never loaded. */
  eligible: boolean;
  /** Why it ranks where it does, or why it is ineligible: shown by doctor. */
  reason: string;
}

export function variantId(cudaMajor: number | null, tensorrtMajor: number | null, tegra: boolean): string {
  if (cudaMajor === null) return 'cpu';
  return [`cuda${cudaMajor}`, tensorrtMajor === null ? '' : `trt${tensorrtMajor}`, tegra ? 'tegra' : '']
    .filter(Boolean)
    .join('-');
}

/** The file name prebuildify writes for a variant (`--name` carries the variant tags). */
export function variantFileName(cudaMajor: number | null, tensorrtMajor: number | null, tegra: boolean): string {
  const tags = ['tensorrt-node', 'napi'];
  if (cudaMajor !== null) tags.push(`cuda${cudaMajor}`);
  if (tensorrtMajor !== null) tags.push(`trt${tensorrtMajor}`);
  if (tegra) tags.push('tegra');
  return `${tags.join('.')}.glibc.node`;
}

/** Reads the tags from a prebuild's file name; null for files that are not tensorrt-node prebuilds. */
export function parseVariantFile(file: string): AddonVariant | null {
  const parts = basename(file).split('.');
  if (parts.pop() !== 'node' || parts.shift() !== 'tensorrt-node') return null;
  let cudaMajor: number | null = null;
  let tensorrtMajor: number | null = null;
  let tegra = false;
  let libc: AddonVariant['libc'] = null;
  for (const tag of parts) {
    const cuda = /^cuda(\d+)$/.exec(tag);
    const trt = /^trt(\d+)$/.exec(tag);
    if (cuda) cudaMajor = Number(cuda[1]);
    else if (trt) tensorrtMajor = Number(trt[1]);
    else if (tag === 'tegra') tegra = true;
    else if (tag === 'glibc' || tag === 'musl') libc = tag;
  }
  return { file, id: variantId(cudaMajor, tensorrtMajor, tegra), cudaMajor, tensorrtMajor, tegra, libc };
}

function describeTensorRT(found: FoundTensorRT): string {
  return `libnvinfer.so.${found.major} at ${found.path}`;
}

function ineligibility(variant: AddonVariant, host: HostLibraries, requested: string | undefined): string | null {
  // A variant named explicitly is tried whatever the host checks say: they can be wrong (a Jetson
  // container without /etc/nv_tegra_release, a driver the files do not describe).
  if (requested) return variant.id === requested ? null : `not the variant TENSORRT_NODE_VARIANT=${requested} asks for`;
  if (variant.libc && variant.libc !== host.libc) return `built for ${variant.libc}, but this host uses ${host.libc}`;
  const onJetson = host.driver.tegraRelease !== null;
  if (variant.tegra && !onJetson) return 'built for Jetson (Tegra) hosts, and this is not one';
  if (!variant.tegra && onJetson && variant.cudaMajor !== null && variant.cudaMajor < 13) {
    // Before CUDA 13, server (SBSA) and Jetson CUDA were separate distributions; mixing them crashes.
    return `a server (SBSA) CUDA ${variant.cudaMajor} build, which does not run on Jetson (Jetson Linux R${host.driver.tegraRelease}); the .tegra variant does`;
  }
  const max = host.driver.maxCudaMajor;
  if (variant.cudaMajor !== null && max !== null && variant.cudaMajor > max) {
    const driver = host.driver.version ? `driver ${host.driver.version}` : `Jetson Linux R${host.driver.tegraRelease}`;
    return `needs a driver for CUDA ${variant.cudaMajor}${variant.cudaMajor >= 13 ? ' (>= 580.65.06)' : ' (>= 525.60.13)'}, but this host's ${driver} supports ${max === 0 ? 'neither CUDA 12 nor 13' : `CUDA ${max}`}`;
  }
  return null;
}

/** How well a variant's TensorRT major fits what was found: higher is better. */
function tensorrtFit(variant: AddonVariant, host: HostLibraries): { score: number; reason: string } {
  const preferred = host.tensorrt[0];
  if (!preferred) {
    return variant.tensorrtMajor === null
      ? { score: 0, reason: 'no TensorRT on this host, and this build has no TensorRT runtime' }
      : { score: 1, reason: `no TensorRT found on this host; built for TensorRT ${variant.tensorrtMajor} once it is installed` };
  }
  if (variant.tensorrtMajor === preferred.major)
    return { score: 3, reason: `built for TensorRT ${variant.tensorrtMajor}, as found: ${describeTensorRT(preferred)}` };
  const other = host.tensorrt.find((found) => found.major === variant.tensorrtMajor);
  if (other)
    return {
      score: 2,
      reason: `built for TensorRT ${variant.tensorrtMajor}, also found (${describeTensorRT(other)}), but ${describeTensorRT(preferred)} comes first in the search order`,
    };
  if (variant.tensorrtMajor === null)
    return { score: 1, reason: `built without TensorRT, but this host has ${describeTensorRT(preferred)}` };
  return {
    score: 0,
    reason: `built for TensorRT ${variant.tensorrtMajor}, but this host has TensorRT ${preferred.major} (${describeTensorRT(preferred)}); its CUDA layer still works`,
  };
}

/**
 * Orders the variants best first. Ineligible ones (wrong libc, Jetson vs server, a CUDA major the
 * driver cannot run, not the one TENSORRT_NODE_VARIANT names) come last and are never loaded. Among
 * the rest: the TensorRT major that was found first in the search order wins, then the newest CUDA
 * major (the driver supports it, or there is no driver and it does not matter), then the name.
 */
export function rankVariants(variants: readonly AddonVariant[], host: HostLibraries, requested?: string): VariantChoice[] {
  const scored = variants.map((variant) => {
    const problem = ineligibility(variant, host, requested);
    if (problem) return { variant, eligible: false, reason: problem, score: -1 };
    if (requested) return { variant, eligible: true, reason: `named by TENSORRT_NODE_VARIANT=${requested}`, score: 3 };
    const fit = tensorrtFit(variant, host);
    const cuda =
      variant.cudaMajor === null
        ? 'built without CUDA'
        : host.driver.maxCudaMajor === null
          ? `CUDA ${variant.cudaMajor} (no NVIDIA driver found to check against)`
          : `CUDA ${variant.cudaMajor} (the driver supports up to ${host.driver.maxCudaMajor})`;
    return { variant, eligible: true, reason: `${fit.reason}; ${cuda}`, score: fit.score };
  });
  scored.sort(
    (a, b) =>
      b.score - a.score ||
      (b.variant.cudaMajor ?? -1) - (a.variant.cudaMajor ?? -1) ||
      basename(a.variant.file).localeCompare(basename(b.variant.file)),
  );
  return scored.map(({ variant, eligible, reason }) => ({ variant, eligible, reason }));
}
