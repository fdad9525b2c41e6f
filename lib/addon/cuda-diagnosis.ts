/**
 * Why CUDA cannot run here, in one wording for every place that says it (doctor, capabilities and
 * so `session.backendReason`, `bench`, `start`, the builder, and errors raised by native code).
 *
 * CUDA's own words mislead: without any driver, the runtime reports cudaErrorInsufficientDriver
 * (35), "CUDA driver version is insufficient for CUDA runtime version", as if a driver were there
 * but old. The driver facts tell the cases apart: `cudaDriverGetVersion` gives 0 when libcuda.so.1
 * cannot be loaded, and /proc/driver/nvidia/version (./system/nvidia-driver.ts) names the kernel
 * driver when one is loaded.
 */
import { readNvidiaDriver, type DriverInfo } from './system/nvidia-driver.js';

/**
 * What stops CUDA: `no-driver` (libcuda.so.1 is missing), `driver-too-old` (a driver older than the
 * addon's CUDA runtime), `no-device` (a driver that sees no GPU), `other` (any other CUDA error).
 */
export type CudaProblemKind = 'no-driver' | 'driver-too-old' | 'no-device' | 'other';

/** Why CUDA is unusable, in a sentence, and what to do about it. */
export interface CudaDiagnosis {
  kind: CudaProblemKind;
  /** What is wrong, in words true to the driver facts (never CUDA's misleading error 35 text). */
  message: string;
  /** What to do about it. */
  fix: string;
}

/** The facts a diagnosis rests on. */
export interface CudaFacts {
  /** cudaDriverGetVersion's packed CUDA version (13000 for 13.0); 0 when libcuda.so.1 cannot be loaded. */
  cudaDriverVersion: number;
  /** The addon's CUDA runtime, packed (cudaRuntimeGetVersion); 0 when unknown. */
  runtimeVersion: number;
  /** What the kernel driver files say (readNvidiaDriver()). */
  driver: Pick<DriverInfo, 'version' | 'tegraRelease'>;
}

/** The facts for a diagnosis: the versions a CUDA probe reported (0 without one) and the driver files. */
export function cudaFacts(probe: { driverVersion: number; runtimeVersion: number } | undefined): CudaFacts {
  return { cudaDriverVersion: probe?.driverVersion ?? 0, runtimeVersion: probe?.runtimeVersion ?? 0, driver: readNvidiaDriver() };
}

/** CUDA packs versions as 1000 * major + 10 * minor: 13000 -> "13.0", 12040 -> "12.4". */
export function formatCudaVersion(packed: number): string | null {
  if (!packed) return null;
  return `${Math.floor(packed / 1000)}.${Math.floor((packed % 1000) / 10)}`;
}

/** cudaError_t values with a translation. */
export const CUDA_ERROR_INSUFFICIENT_DRIVER = 35;
export const CUDA_ERROR_NO_DEVICE = 100;

function driverName(facts: CudaFacts): string {
  if (facts.driver.version) return `The NVIDIA driver ${facts.driver.version}`;
  if (facts.driver.tegraRelease) return `The Jetson Linux R${facts.driver.tegraRelease} driver`;
  return 'The NVIDIA driver';
}

/** The diagnosis of a CUDA error (by its cudaError_t code) on a machine with these facts. */
export function diagnoseCudaError(error: { code: number; name: string; message?: string }, facts: CudaFacts): CudaDiagnosis {
  const runtime = formatCudaVersion(facts.runtimeVersion);
  if (error.code === CUDA_ERROR_INSUFFICIENT_DRIVER && facts.cudaDriverVersion === 0) {
    if (facts.driver.version) {
      return {
        kind: 'no-driver',
        message: `The NVIDIA kernel driver ${facts.driver.version} is loaded, but its CUDA library (libcuda.so.1) is missing`,
        fix: "Install the driver's user-space libraries of the same version (libcuda.so.1, e.g. the libnvidia-compute package); in a container, start it with the NVIDIA Container Toolkit (`--gpus all`).",
      };
    }
    return {
      kind: 'no-driver',
      message: 'No NVIDIA driver is installed (libcuda.so.1 is missing)',
      fix: 'Install the NVIDIA driver for your GPU; `nvidia-smi` should then list it. In a container, run it with the NVIDIA Container Toolkit (`--gpus all`). Without a GPU, the cpu backend runs everything (`backend: "cpu"`).',
    };
  }
  if (error.code === CUDA_ERROR_INSUFFICIENT_DRIVER) {
    const supported = formatCudaVersion(facts.cudaDriverVersion);
    return {
      kind: 'driver-too-old',
      message: `${driverName(facts)} supports CUDA up to ${supported}, older than the CUDA ${runtime ?? 'runtime'} this addon was built with`,
      fix: `Upgrade the NVIDIA driver (CUDA 13.x needs >= 580.65.06, CUDA 12.x >= 525.60.13), or use a build of tensorrt-node for CUDA ${supported?.split('.')[0] ?? 'an older major'}.`,
    };
  }
  if (error.code === CUDA_ERROR_NO_DEVICE) {
    return {
      kind: 'no-device',
      message: `${driverName(facts)} sees no GPU (no CUDA device is visible to this process)`,
      fix: 'Check `nvidia-smi`, CUDA_VISIBLE_DEVICES, and that the container was started with GPUs (`--gpus all`).',
    };
  }
  return {
    kind: 'other',
    message: `CUDA is unusable: ${error.name} (error ${error.code})${error.message ? `: ${error.message}` : ''}`,
    fix: `CUDA reported ${error.name}: check \`nvidia-smi\` and the driver installation.`,
  };
}

/** Whether a CUDA error is one {@link diagnoseCudaError} words better than CUDA does. */
export function isDriverError(code: number): boolean {
  return code === CUDA_ERROR_INSUFFICIENT_DRIVER || code === CUDA_ERROR_NO_DEVICE;
}

/**
 * A native error message in the diagnosis's words. Native code writes
 * `<operation> failed: <cudaGetErrorString> (<cudaGetErrorName>, error <code>)[; ...]`; that becomes
 * `<operation> failed (CUDA error <code>): <diagnosis>[; ...]`.
 */
export function translateCudaMessage(message: string, error: { code: number; name: string }, diagnosis: CudaDiagnosis): string {
  const native = new RegExp(` failed: [^;]*? \\(${error.name}, error ${error.code}\\)`);
  if (native.test(message)) return message.replace(native, ` failed (CUDA error ${error.code}): ${diagnosis.message}`);
  const named = message.split(error.name).join(`CUDA error ${error.code}`);
  const cudaText = cudaErrorStrings[error.code];
  if (cudaText !== undefined && named.includes(cudaText)) return named.replace(cudaText, diagnosis.message);
  return `${named} (${diagnosis.message})`;
}

/** cudaGetErrorString of the errors translated, for messages that quote it outside the usual form. */
const cudaErrorStrings: Record<number, string> = {
  [CUDA_ERROR_INSUFFICIENT_DRIVER]: 'CUDA driver version is insufficient for CUDA runtime version',
  [CUDA_ERROR_NO_DEVICE]: 'no CUDA-capable device is detected',
};
