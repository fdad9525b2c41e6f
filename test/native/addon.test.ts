import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CudaError, NativeLoadError, TensorRTError, TensorRTNodeError } from '../../lib/core/errors.js';
import { addonCandidates, loadAddonFrom, packageVersion, tryLoadAddon } from '../../lib/addon/loader.js';
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
    const error = expectErrorSync(
      () =>
        addon!.throwForTest(
          'ERR_CUDA',
          'cudaFree failed: an illegal memory access was encountered (cudaErrorIllegalAddress, error 700)',
          700,
          'cudaErrorIllegalAddress',
        ),
      CudaError,
      'ERR_CUDA',
      'cudaFree failed: an illegal memory access was encountered (cudaErrorIllegalAddress, error 700)',
    );
    expect((error as CudaError).cudaError).toEqual({ code: 700, name: 'cudaErrorIllegalAddress' });
    expectErrorSync(() => addon!.throwForTest('ERR_TENSORRT_NOT_FOUND', 'gone'), TensorRTError, 'ERR_TENSORRT_NOT_FOUND', 'gone');
  });

  it('BAD CALL - native argument checks reject wrong types without crashing', () => {
    expectErrorSync(
      () => (addon!.throwForTest as unknown as (a: number) => void)(42),
      TensorRTNodeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for code',
    );
    // The one check that cannot use the factory it guards: a plain TypeError.
    expect(() => (addon!.setErrorFactory as unknown as (a: number) => void)(1)).toThrow(
      new TypeError('Expected a function for errorFactory'),
    );
  });

  it('BAD CALL - views over a SharedArrayBuffer or a detached buffer get typed errors, never an untyped "Invalid argument"', async () => {
    const shared = new Uint8Array(new SharedArrayBuffer(16), 4, 8);
    const detached = new Uint8Array(16);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    if (addon!.cudaAddressOf) {
      expect(addon!.cudaAddressOf(shared)).toBeGreaterThan(0n);
      expect(addon!.cudaAddressOf(detached)).toBe(0n);
    }
    if (addon!.loadEngine) {
      for (const plan of [shared, detached]) {
        const error = await addon!.loadEngine(plan).then(
          () => null,
          (rejection: unknown) => rejection,
        );
        expect(error).toBeInstanceOf(TensorRTNodeError); // what this machine lacks (TensorRT), not a crash or "Invalid argument"
      }
    }
  });

  it('BAD CALL - the completion test hook refuses delays that would overflow its clock', () => {
    const queue = new addon!.CompletionQueueForTest();
    for (const delay of [NaN, -1, Infinity, 1e300]) {
      expectErrorSync(
        () => queue.submit(delay),
        TensorRTNodeError,
        'ERR_INVALID_ARGUMENT',
        'Expected a delay between 0 and 60000 ms for delayMs',
      );
    }
    queue.close();
  });

  it.runIf(cudaCompiled && hasNoDriver)('without a driver, the CUDA probe reports error 35 and no devices', () => {
    expect(cudaProbe).not.toBeNull();
    expect(cudaProbe!.error).toEqual({
      code: 35,
      name: 'cudaErrorInsufficientDriver',
      message: 'CUDA driver version is insufficient for CUDA runtime version',
    });
    expect(cudaProbe!.deviceCount).toBe(0);
    expect(cudaProbe!.devices).toEqual([]);
    expect(cudaProbe!.runtimeVersion).toBeGreaterThanOrEqual(12000);
    // The process stays healthy: probing again gives the same answer.
    expect(addon!.cudaProbe!().error?.code).toBe(35);
  });
});

describe('addon loader', () => {
  const noHost = () => ({
    libc: 'glibc' as const,
    driver: { version: null, maxCudaMajor: null, tegraRelease: null, source: 'test' },
    tensorrt: [],
  });

  it('lists the source build, then the ranked prebuilds; TENSORRT_NODE_ADDON alone when set', () => {
    const candidates = addonCandidates('/pkg', {}, noHost);
    expect(candidates).toEqual([
      {
        path: '/pkg/build/Release/tensorrt_node.node',
        source: 'source build',
        variant: null,
        eligible: true,
        reason: 'a source build of this install comes before prebuilt binaries',
      },
    ]);
    expect(addonCandidates('/pkg', { TENSORRT_NODE_ADDON: '/x/y.node' }, noHost)).toEqual([
      { path: '/x/y.node', source: 'TENSORRT_NODE_ADDON', variant: null, eligible: true, reason: 'named by TENSORRT_NODE_ADDON' },
    ]);
  });

  it('ranks prebuilt variants from prebuilds/<platform>-<arch>, and TENSORRT_NODE_VARIANT skips the source build', () => {
    const root = mkdtempSync(join(tmpdir(), 'pkg-'));
    const folder = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
    mkdirSync(folder, { recursive: true });
    for (const name of ['tensorrt-node.napi.cuda12.trt10.glibc.node', 'tensorrt-node.napi.cuda13.trt11.glibc.node', 'notes.txt'])
      writeFileSync(join(folder, name), '');
    const trt10Host = () => ({ ...noHost(), tensorrt: [{ major: 10, path: '/usr/lib/libnvinfer.so.10', source: 'test' }] });
    expect(addonCandidates(root, {}, trt10Host).map((candidate) => candidate.variant ?? candidate.source)).toEqual([
      'source build',
      'cuda12-trt10',
      'cuda13-trt11',
    ]);
    const pinned = addonCandidates(root, { TENSORRT_NODE_VARIANT: 'cuda13-trt11' }, trt10Host);
    expect(pinned.map((candidate) => [candidate.variant ?? candidate.source, candidate.eligible])).toEqual([
      ['source build', false],
      ['cuda13-trt11', true],
      ['cuda12-trt10', false],
    ]);
  });

  it.skipIf(addon === null)('records why each candidate was or was not loaded', () => {
    const { path } = tryLoadAddon() as { path: string };
    const result = loadAddonFrom([
      { path: '/nowhere/tensorrt_node.node', source: 'source build', variant: null, eligible: true, reason: 'first' },
      {
        path: '/x/tensorrt-node.napi.cuda13.trt11.glibc.node',
        source: 'prebuild',
        variant: 'cuda13-trt11',
        eligible: false,
        reason: 'needs a newer driver',
      },
      { path, source: 'prebuild', variant: 'cuda13', eligible: true, reason: 'best fit' },
      { path, source: 'prebuild', variant: 'cuda12', eligible: true, reason: 'second best' },
    ]);
    expect(result.path).toBe(path);
    expect(result.candidates.map((candidate) => [candidate.status, candidate.outcome])).toEqual([
      ['missing', 'not found'],
      ['skipped', 'needs a newer driver'],
      ['loaded', 'best fit'],
      ['not-tried', 'ranks below the loaded binary'],
    ]);
  });

  it('BAD CALL - nothing loadable: NativeLoadError lists every attempt and the fixes', () => {
    const folder = mkdtempSync(join(tmpdir(), 'addon-'));
    const notAnAddon = join(folder, 'broken.node');
    writeFileSync(notAnAddon, 'not an ELF file');
    const missing = join(folder, 'missing.node');
    const skipped = {
      path: join(folder, 'tensorrt-node.napi.cuda13.glibc.node'),
      source: 'prebuild' as const,
      variant: 'cuda13',
      eligible: false,
      reason: 'built for glibc, but this host uses musl',
    };
    const error = expectErrorSync(
      () => loadAddonFrom([missing, notAnAddon, skipped]),
      NativeLoadError,
      'ERR_NATIVE_LOAD',
      /^The tensorrt-node native addon could not be loaded\. Tried:/,
    ) as NativeLoadError;
    expect(error.attempts).toHaveLength(3);
    expect(error.attempts[0]).toEqual({ path: missing, error: 'not found' });
    expect(error.attempts[1]!.path).toBe(notAnAddon);
    expect(error.attempts[1]!.error).toMatch(/invalid ELF header|file too short/);
    expect(error.attempts[2]).toEqual({ path: skipped.path, error: 'skipped: built for glibc, but this host uses musl' });
    expect(error.message).toContain('npm rebuild tensorrt-node');
    expect(error.message).toContain('npm install-scripts approve tensorrt-node');
    expect(error.message).toContain(`${missing}: not found`);
    expect((error.details?.candidates as { status: string }[]).map((candidate) => candidate.status)).toEqual([
      'missing',
      'failed',
      'skipped',
    ]);
    expect(existsSync(missing)).toBe(false);
  });
});
