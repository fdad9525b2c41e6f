import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CudaError, NativeLoadError, TensorRTError, TensorRTNodeError } from '../../lib/errors.js';
import { addonCandidates, loadAddonFrom, packageVersion } from '../../lib/native.js';
import { expectErrorSync } from '../helpers/expect-error.js';
import { addon, addonLoadError, cudaCompiled, cudaProbe, hasNoDriver } from '../helpers/machine.js';

describe.skipIf(addon === null)('native addon', () => {
  it('loads and matches the package version', () => {
    expect(addonLoadError).toBeNull();
    expect(addon!.addonVersion).toBe(packageVersion);
  });

  it('reports what it was compiled with', () => {
    const info = addon!.buildInfo();
    expect(info.packageVersion).toBe(packageVersion);
    expect(info.napiVersion).toBe(8);
    if (info.cuda.compiled) {
      expect(info.cuda.toolkitVersion).toMatch(/^\d+\.\d+/);
      expect(info.cuda.missingReason).toBeNull();
    } else {
      expect(info.cuda.missingReason).toMatch(/CUDA/);
    }
    if (info.tensorrt.compiled) {
      expect(info.tensorrt.headersMajor === 10 || info.tensorrt.headersMajor === 11).toBe(true);
      expect(info.tensorrt.headersVersion).toMatch(new RegExp(`^${info.tensorrt.headersMajor}\\.`));
    } else {
      expect(info.tensorrt.missingReason).toEqual(expect.any(String));
    }
  });

  it('turns a native exception into the family error with class, code and CUDA details', () => {
    const error = expectErrorSync(() => addon!.throwForTest('ERR_CUDA_DRIVER', 'no driver here', 35, 'cudaErrorInsufficientDriver'), CudaError, 'ERR_CUDA_DRIVER', 'no driver here');
    expect((error as CudaError).cudaError).toEqual({ code: 35, name: 'cudaErrorInsufficientDriver' });
    expectErrorSync(() => addon!.throwForTest('ERR_TENSORRT_NOT_FOUND', 'gone'), TensorRTError, 'ERR_TENSORRT_NOT_FOUND', 'gone');
  });

  it('BAD CALL - native argument checks reject wrong types without crashing', () => {
    expectErrorSync(() => (addon!.throwForTest as unknown as (a: number) => void)(42), TensorRTNodeError, 'ERR_INVALID_ARGUMENT', 'Expected a string for code');
    // The one check that cannot use the factory it guards: a plain TypeError.
    expect(() => (addon!.setErrorFactory as unknown as (a: number) => void)(1)).toThrow(new TypeError('Expected a function for errorFactory'));
  });

  it.runIf(cudaCompiled && hasNoDriver)('without a driver, the CUDA probe reports error 35 and no devices', () => {
    expect(cudaProbe).not.toBeNull();
    expect(cudaProbe!.error).toEqual({ code: 35, name: 'cudaErrorInsufficientDriver', message: 'CUDA driver version is insufficient for CUDA runtime version' });
    expect(cudaProbe!.deviceCount).toBe(0);
    expect(cudaProbe!.devices).toEqual([]);
    expect(cudaProbe!.runtimeVersion).toBeGreaterThanOrEqual(12000);
    // The process stays healthy: probing again gives the same answer.
    expect(addon!.cudaProbe!().error?.code).toBe(35);
  });
});

describe('addon loader', () => {
  it('lists build/Release, build/Debug and the platform prebuilds, or only an explicit TENSORRT_NODE_ADDON', () => {
    const candidates = addonCandidates('/pkg', {});
    expect(candidates.slice(0, 2)).toEqual(['/pkg/build/Release/tensorrt_node.node', '/pkg/build/Debug/tensorrt_node.node']);
    expect(addonCandidates('/pkg', { TENSORRT_NODE_ADDON: '/x/y.node' })).toEqual(['/x/y.node']);
  });

  it('BAD CALL - nothing loadable: NativeLoadError lists every attempt and the fixes', () => {
    const folder = mkdtempSync(join(tmpdir(), 'addon-'));
    const notAnAddon = join(folder, 'broken.node');
    writeFileSync(notAnAddon, 'not an ELF file');
    const missing = join(folder, 'missing.node');
    const error = expectErrorSync(() => loadAddonFrom([missing, notAnAddon]), NativeLoadError, 'ERR_NATIVE_LOAD', /^The tensorrt-node native addon could not be loaded\. Tried:/) as NativeLoadError;
    expect(error.attempts).toHaveLength(2);
    expect(error.attempts[0]).toEqual({ path: missing, error: 'not found' });
    expect(error.attempts[1]!.path).toBe(notAnAddon);
    expect(error.attempts[1]!.error).toMatch(/invalid ELF header|file too short/);
    expect(error.message).toContain('npm rebuild tensorrt-node');
    expect(error.message).toContain(`${missing}: not found`);
    expect(existsSync(missing)).toBe(false);
  });
});
