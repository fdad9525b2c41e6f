/**
 * CUDA devices from TypeScript: how many, what they are, their memory, and this process's live
 * allocations. Public through the `cuda` namespace (see ./index.ts).
 */
import { cudaAddon, type CudaAddon } from './addon.js';
import type { NativeAllocationStats, NativeCudaDevice } from '../addon/types.js';
import { tryLoadAddon } from '../addon/loader.js';
import { expectInteger, invalidValue } from '../core/validate.js';

/**
 * One CUDA device, as `cuda.devices()` describes it.
 * @interface
 */
export type CudaDevice = NativeCudaDevice;

/** True when CUDA is compiled in, a driver is installed and at least one device is visible. Never throws. */
export function isAvailable(): boolean {
  const loaded = tryLoadAddon();
  if (!('addon' in loaded) || !loaded.addon.cudaDeviceCount) return false;
  try {
    return loaded.addon.cudaDeviceCount() > 0;
  } catch {
    return false;
  }
}

/** Number of visible CUDA devices. */
export function deviceCount(): number {
  return cudaAddon().cudaDeviceCount();
}

/** Every visible device: name, UUID, compute capability, SMs, memory, clocks, PCI bus id, bandwidth. */
export function devices(): CudaDevice[] {
  const addon = cudaAddon();
  const count = addon.cudaDeviceCount();
  return Array.from({ length: count }, (_, index) => addon.cudaDevice(index));
}

/** Free and total memory of a device right now (creates the device's context on first use). */
export function memoryInfo(device = 0): { freeBytes: number; totalBytes: number } {
  expectInteger(device, 'device', { min: 0 });
  const addon = cudaAddon();
  return addon.cudaMemoryInfo(checkDevice(addon, device, 'device'));
}

/** Stream priorities of a device: `greatest` (numerically smallest) runs first; `least` is the default. */
export function streamPriorityRange(device = 0): { least: number; greatest: number } {
  expectInteger(device, 'device', { min: 0 });
  const addon = cudaAddon();
  return addon.cudaStreamPriorityRange(checkDevice(addon, device, 'device'));
}

/** Live pinned and device allocations of this process (every tensor not yet freed). */
export function allocationStats(): NativeAllocationStats {
  return cudaAddon().cudaAllocationStats();
}

/** Validates a device index against the devices CUDA sees (the CUDA error when it sees none). */
export function checkDevice(addon: CudaAddon, device: unknown, name: string): number {
  expectInteger(device, name, { min: 0 });
  const count = addon.cudaDeviceCount();
  if ((device as number) >= count) throw invalidValue(`an integer between 0 and ${count - 1}`, name, device);
  return device as number;
}
