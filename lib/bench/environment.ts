/**
 * The environment a benchmark ran in, recorded with every results file so that numbers from
 * different hosts, GPUs and versions can be compared knowingly. Everything that cannot be known on
 * this machine is null (no GPU, no TensorRT), never guessed.
 */
import { readFileSync } from 'node:fs';
import { cpus, hostname, loadavg, release, totalmem } from 'node:os';
import { onnxRuntimeVersion } from '../addon/system/onnxruntime-package.js';
import type { Capabilities, DeviceInfo } from '../addon/capabilities.js';

/**
 * One GPU as a results file records it: the device and its maximum clocks.
 * @inline
 */
export interface GpuEnvironment extends DeviceInfo {
  /** Maximum SM and memory clocks; null until the native device probe reports them. */
  clocks: { smMHz: number | null; memoryMHz: number | null };
}

/**
 * The environment a benchmark ran in, recorded in every results file: host, Node, package versions,
 * driver, CUDA, TensorRT and GPUs. What cannot be known on this machine is null, never guessed.
 */
export interface BenchEnvironment {
  host: {
    hostname: string;
    platform: string;
    arch: string;
    osRelease: string;
    cpuModel: string;
    cpuCores: number;
    memoryBytes: number;
    glibc: string | null;
    /** 1, 5 and 15 minute load averages when the environment was taken: a busy host explains noisy numbers. */
    loadAverage: number[];
  };
  node: { version: string; napiVersion: number; v8: string };
  /** Versions of tensorrt-node and of what its backends are made of; null when not installed. */
  packages: { 'tensorrt-node': string; 'onnxruntime-node': string | null };
  /** The NVIDIA driver release (e.g. "580.65.06") from /proc/driver/nvidia/version; null without a driver. */
  driver: { version: string | null };
  /** CUDA runtime the addon was built with, and the CUDA version the driver supports. */
  cuda: { runtimeVersion: string | null; driverVersion: string | null };
  tensorrt: { version: string | null; headersVersion: string | null; path: string | null };
  gpus: GpuEnvironment[];
}

/** Parses the release out of /proc/driver/nvidia/version ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  ..."). */
export function parseNvidiaDriverVersion(procText: string): string | null {
  const match = /Kernel Module\s+(?:for\s+\S+\s+)?(\d+(?:\.\d+)+)/.exec(procText);
  return match ? match[1]! : null;
}

function readDriverVersion(): string | null {
  try {
    return parseNvidiaDriverVersion(readFileSync('/proc/driver/nvidia/version', 'utf8'));
  } catch {
    return null;
  }
}

/** Builds the environment from capabilities() (see lib/capabilities.ts) and the host. */
export function environmentFrom(caps: Capabilities): BenchEnvironment {
  const cpuList = cpus();
  return {
    host: {
      hostname: hostname(),
      platform: process.platform,
      arch: process.arch,
      osRelease: release(),
      cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
      cpuCores: cpuList.length,
      memoryBytes: totalmem(),
      glibc: caps.host.glibc,
      loadAverage: loadavg(),
    },
    node: { version: process.version, napiVersion: Number(process.versions.napi), v8: process.versions.v8 },
    packages: { 'tensorrt-node': caps.package.version, 'onnxruntime-node': caps.backends.cpu.version ?? onnxRuntimeVersion() },
    driver: { version: readDriverVersion() },
    cuda: { runtimeVersion: caps.cuda.runtimeVersion, driverVersion: caps.cuda.driverVersion },
    tensorrt: { version: caps.tensorrt.version, headersVersion: caps.tensorrt.headersVersion, path: caps.tensorrt.path },
    gpus: caps.devices.map((device) => ({ ...device, clocks: { smMHz: null, memoryMHz: null } })),
  };
}

/** The environment of this process, now. */
export async function collectEnvironment(): Promise<BenchEnvironment> {
  const { capabilities } = await import('../addon/capabilities.js');
  return environmentFrom(await capabilities());
}
