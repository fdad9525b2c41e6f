/**
 * One wording for "no driver", "driver too old" and "no GPU", from the driver facts: CUDA's own
 * error 35 text ("driver version is insufficient") is what the runtime says with no driver at all,
 * so it never reaches a message.
 */
import { describe, expect, it } from 'vitest';
import { diagnoseCudaError, translateCudaMessage, type CudaFacts } from '../../lib/addon/cuda-diagnosis.js';
import { nativeErrorFactory } from '../../lib/addon/loader.js';
import { CudaError, ErrorCode } from '../../lib/core/errors.js';

const insufficient = {
  code: 35,
  name: 'cudaErrorInsufficientDriver',
  message: 'CUDA driver version is insufficient for CUDA runtime version',
};
const noDevice = { code: 100, name: 'cudaErrorNoDevice', message: 'no CUDA-capable device is detected' };
const noDriver: CudaFacts = { cudaDriverVersion: 0, runtimeVersion: 13000, driver: { version: null, tegraRelease: null } };
const oldDriver: CudaFacts = {
  cudaDriverVersion: 12040,
  runtimeVersion: 13000,
  driver: { version: '550.54.15', tegraRelease: null },
};
const kernelOnly: CudaFacts = {
  cudaDriverVersion: 0,
  runtimeVersion: 13000,
  driver: { version: '580.65.06', tegraRelease: null },
};
const current: CudaFacts = {
  cudaDriverVersion: 13000,
  runtimeVersion: 13000,
  driver: { version: '580.65.06', tegraRelease: null },
};

describe('diagnoseCudaError', () => {
  it('error 35 without libcuda.so.1 is "no driver", not an insufficient one', () => {
    const diagnosis = diagnoseCudaError(insufficient, noDriver);
    expect(diagnosis.kind).toBe('no-driver');
    expect(diagnosis.message).toBe('No NVIDIA driver is installed (libcuda.so.1 is missing)');
    expect(diagnosis.message + diagnosis.fix).not.toMatch(/insufficient/i);
  });

  it('error 35 with a kernel driver but no libcuda.so.1 names the missing library', () => {
    const diagnosis = diagnoseCudaError(insufficient, kernelOnly);
    expect(diagnosis).toMatchObject({
      kind: 'no-driver',
      message: 'The NVIDIA kernel driver 580.65.06 is loaded, but its CUDA library (libcuda.so.1) is missing',
    });
    expect(diagnosis.fix).toContain('--gpus all');
  });

  it('error 35 with a driver is "driver too old", with both versions', () => {
    expect(diagnoseCudaError(insufficient, oldDriver)).toMatchObject({
      kind: 'driver-too-old',
      message: 'The NVIDIA driver 550.54.15 supports CUDA up to 12.4, older than the CUDA 13.0 this addon was built with',
    });
    expect(diagnoseCudaError(insufficient, { ...oldDriver, driver: { version: null, tegraRelease: '36.4' } }).message).toBe(
      'The Jetson Linux R36.4 driver supports CUDA up to 12.4, older than the CUDA 13.0 this addon was built with',
    );
  });

  it('error 100 is "no GPU"', () => {
    expect(diagnoseCudaError(noDevice, current)).toMatchObject({
      kind: 'no-device',
      message: 'The NVIDIA driver 580.65.06 sees no GPU (no CUDA device is visible to this process)',
    });
  });

  it("other errors keep CUDA's words", () => {
    expect(diagnoseCudaError({ code: 999, name: 'cudaErrorUnknown', message: 'unknown error' }, current)).toMatchObject({
      kind: 'other',
      message: 'CUDA is unusable: cudaErrorUnknown (error 999): unknown error',
    });
  });
});

describe("native CUDA errors in the diagnosis's words", () => {
  const native =
    'cudaGetDeviceCount failed: CUDA driver version is insufficient for CUDA runtime version (cudaErrorInsufficientDriver, error 35); run `npx tensorrt-node doctor` for the fix';

  it('translateCudaMessage keeps the operation and the code', () => {
    expect(translateCudaMessage(native, insufficient, diagnoseCudaError(insufficient, noDriver))).toBe(
      'cudaGetDeviceCount failed (CUDA error 35): No NVIDIA driver is installed (libcuda.so.1 is missing); run `npx tensorrt-node doctor` for the fix',
    );
    // A message in another form still loses CUDA's misleading text.
    expect(
      translateCudaMessage(
        'Engine.load: CUDA driver version is insufficient for CUDA runtime version',
        insufficient,
        diagnoseCudaError(insufficient, noDriver),
      ),
    ).toBe('Engine.load: No NVIDIA driver is installed (libcuda.so.1 is missing)');
  });

  it('the error factory the addon is given translates driver errors and keeps cudaError', () => {
    let reads = 0;
    const factory = nativeErrorFactory({}, () => (reads++, noDriver));
    const error = factory(ErrorCode.CUDA_DRIVER, native, 'generic', {
      cudaError: { code: 35, name: 'cudaErrorInsufficientDriver' },
    }) as CudaError;
    expect(error).toBeInstanceOf(CudaError);
    expect(error.code).toBe('ERR_CUDA_DRIVER');
    expect(error.message).toBe(
      'cudaGetDeviceCount failed (CUDA error 35): No NVIDIA driver is installed (libcuda.so.1 is missing); run `npx tensorrt-node doctor` for the fix',
    );
    expect(error.cudaError).toEqual({ code: 35, name: 'cudaErrorInsufficientDriver' });
    expect(error.details).toEqual({ cudaProblem: 'no-driver' });
    factory(ErrorCode.CUDA_DRIVER, native, 'generic', { cudaError: { code: 35, name: 'cudaErrorInsufficientDriver' } });
    expect(reads).toBe(1); // the facts are read once
    // Other errors pass through untouched, without reading the facts.
    const other = factory(ErrorCode.CUDA, 'cudaMalloc failed: out of memory (cudaErrorMemoryAllocation, error 2)', 'generic', {
      cudaError: { code: 2, name: 'cudaErrorMemoryAllocation' },
    });
    expect(other.message).toBe('cudaMalloc failed: out of memory (cudaErrorMemoryAllocation, error 2)');
  });
});
