/**
 * Inputs for the benchmark harness's pure functions: capabilities() as a machine without a GPU
 * (like this one) and as a two-GPU host report them. Only descriptions of machines, never results.
 */
import type { Capabilities } from '../../lib/addon/capabilities.js';
import type { BenchTargetFactory } from '../../lib/bench/target.js';
import { createCpuWorkloadTarget } from '../../lib/bench/targets/cpu-workload.js';

export function capabilitiesWithoutGpu(): Capabilities {
  return {
    package: { name: 'tensorrt-node', version: '0.1.0' },
    host: { node: process.version, napiVersion: 9, platform: 'linux', arch: 'x64', glibc: '2.36' },
    addon: {
      loaded: true,
      path: '/x/tensorrt_node.node',
      variant: null,
      version: '0.1.0',
      napiVersion: 8,
      build: null,
      candidates: [],
      error: null,
    },
    cuda: {
      compiled: true,
      emulated: false,
      usable: false,
      runtimeVersion: '13.0',
      driverVersion: null,
      deviceCount: 0,
      error: {
        code: 35,
        name: 'cudaErrorInsufficientDriver',
        message: 'CUDA driver version is insufficient for CUDA runtime version',
      },
      diagnosis: {
        kind: 'no-driver',
        message: 'No NVIDIA driver is installed (libcuda.so.1 is missing)',
        fix: 'Install the NVIDIA driver',
      },
    },
    tensorrt: {
      compiled: false,
      headersVersion: null,
      found: false,
      usable: false,
      path: null,
      version: null,
      majorMatches: null,
      searched: [],
      dynamicLinkerFolders: [],
    },
    devices: [],
    backends: {
      tensorrt: { available: false, reason: 'No NVIDIA driver is installed (libcuda.so.1 is missing)' },
      cpu: { available: true, reason: null, version: '1.30.0' },
    },
    problems: [],
  };
}

export function capabilitiesWithTwoGpus(): Capabilities {
  const caps = capabilitiesWithoutGpu();
  const device = (index: number) => ({
    index,
    name: 'NVIDIA L4',
    uuid: `GPU-0000000${index}-1111-2222-3333-444444444444`,
    computeCapability: '8.9',
    totalMemoryBytes: 24 * 2 ** 30,
    multiProcessorCount: 58,
    pciBusId: `0000:0${index + 1}:00.0`,
  });
  return {
    ...caps,
    cuda: {
      compiled: true,
      emulated: false,
      usable: true,
      runtimeVersion: '13.0',
      driverVersion: '13.0',
      deviceCount: 2,
      error: null,
      diagnosis: null,
    },
    tensorrt: {
      ...caps.tensorrt,
      compiled: true,
      headersVersion: '10.16.0',
      found: true,
      usable: true,
      path: '/usr/lib/x86_64-linux-gnu/libnvinfer.so.10',
      version: '10.16.0',
      majorMatches: true,
    },
    devices: [device(0), device(1)],
    backends: { ...caps.backends, tensorrt: { available: true, reason: null } },
  };
}

/** A factory of cpu-workload targets (real, deterministic CPU work) sized by the point's batch. */
export function workloadFactory(stepsPerSample = 2000): BenchTargetFactory {
  return async (point) => createCpuWorkloadTarget({ stepsPerSample, batch: point.batch });
}
