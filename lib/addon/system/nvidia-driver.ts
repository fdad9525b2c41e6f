/**
 * The NVIDIA driver this host has, read from files the kernel module and Jetson Linux write, so the
 * addon loader can tell which CUDA major a prebuilt binary may use before loading any binary (a
 * binary's statically linked CUDA runtime needs a driver at least as new as its CUDA major).
 *
 * Driver floors (CUDA minor-version compatibility, NVIDIA's CUDA compatibility guide and the cuDNN
 * support matrix): CUDA 12.x runs on drivers >= 525.60.13, CUDA 13.x on drivers >= 580.65.06.
 * Jetson has no /proc/driver/nvidia/version; its CUDA follows the Jetson Linux (L4T) release:
 * R36 is JetPack 6 (CUDA 12.x, Orin), R38 is JetPack 7 (CUDA 13.x, Thor).
 */
import { readFileSync } from 'node:fs';

export interface DriverInfo {
  /** "580.65.06", or null when no NVIDIA kernel module is loaded (or on Jetson). */
  version: string | null;
  /** The newest CUDA major the driver runs; null when unknown (no driver found). */
  maxCudaMajor: number | null;
  /** Jetson Linux release ("36.4"), or null on other hosts. */
  tegraRelease: string | null;
  /** Where the facts came from, for doctor. */
  source: string;
}

export type ReadText = (path: string) => string | null;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
};

/** "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.65.06  Release Build ..." -> "580.65.06" */
export function parseDriverVersion(procVersion: string): string | null {
  const line = procVersion.split('\n').find((text) => text.startsWith('NVRM version:'));
  return line?.match(/Kernel Module.*?\s(\d{3,}\.\d+(?:\.\d+)?)\s/)?.[1] ?? null;
}

/** The newest CUDA major a desktop/server driver supports (0 when it is too old for CUDA 12). */
export function cudaMajorForDriver(version: string): number {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  const atLeast = (a: number, b: number, c: number) => major > a || (major === a && (minor > b || (minor === b && patch >= c)));
  if (atLeast(580, 65, 6)) return 13;
  if (atLeast(525, 60, 13)) return 12;
  return 0;
}

/** "# R36 (release), REVISION: 4.3, GCID: ..." -> "36.4" */
export function parseTegraRelease(text: string): string | null {
  const match = text.match(/#\s*R(\d+)\s*\(release\),\s*REVISION:\s*(\d+)/);
  return match ? `${match[1]}.${match[2]}` : null;
}

export function cudaMajorForTegra(release: string): number {
  const l4t = Number(release.split('.')[0]);
  if (l4t >= 38) return 13;
  if (l4t >= 36) return 12;
  return 0;
}

export function readNvidiaDriver(read: ReadText = readText): DriverInfo {
  const tegra = read('/etc/nv_tegra_release');
  let tegraRelease = tegra === null ? null : parseTegraRelease(tegra);
  // Jetson containers often lack /etc/nv_tegra_release, but the device tree still names the SoC:
  // tegra264 is Thor (JetPack 7, CUDA 13), earlier ones (tegra234 Orin) run JetPack 6 at best.
  const compatible = tegraRelease === null ? (read('/proc/device-tree/compatible') ?? '') : '';
  if (compatible.includes('nvidia,tegra')) tegraRelease = compatible.includes('nvidia,tegra264') ? '38.0' : '36.0';
  const proc = read('/proc/driver/nvidia/version');
  const version = proc === null ? null : parseDriverVersion(proc);
  if (version) {
    return { version, maxCudaMajor: cudaMajorForDriver(version), tegraRelease, source: '/proc/driver/nvidia/version' };
  }
  if (tegraRelease) {
    return { version: null, maxCudaMajor: cudaMajorForTegra(tegraRelease), tegraRelease, source: '/etc/nv_tegra_release' };
  }
  return {
    version: null,
    maxCudaMajor: null,
    tegraRelease: null,
    source: 'no NVIDIA driver found (/proc/driver/nvidia/version is missing)',
  };
}
