// Builder options on the EMULATED device with the FAKE TensorRT: what buildEngine's options become
// in TensorRT's builder configuration (the fake records every call), what the engine reports back,
// and the native boundary's own checks of those options (called directly; lib/ validates first).
// Emulation proves plumbing and protocol, not what a real builder makes of the options.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError, buildEngine, Engine } from '../../lib/index.js';
import { loadAddon } from '../../lib/addon/loader.js';
import type { NativeAddon, NativeBuildOptions } from '../../lib/addon/types.js';
import {
  affineModel,
  batchProfiles,
  emulatedSkipReason,
  fakeTensorRTDir,
  useFakeTensorRTLog,
} from '../helpers/fake-tensorrt-engines.js';

const log = useFakeTensorRTLog();
const folder = mkdtempSync(join(tmpdir(), 'fake-trt-build-options-'));

describe.skipIf(emulatedSkipReason !== null)('fake TensorRT on the emulated device: builder options', () => {
  it('workspace, optimization level, auxiliary streams, hardware and version compatibility reach the builder config', async () => {
    const mark = log.mark();
    const built = await buildEngine(affineModel(), {
      libraryPath: fakeTensorRTDir,
      cacheDir: false,
      timingCache: false,
      profiles: batchProfiles([1, 8]),
      workspace: '64MiB',
      optimizationLevel: 5,
      maxAuxStreams: 2,
      hardwareCompatibility: 'same-compute-capability',
      versionCompatible: true,
      excludeLeanRuntime: true,
    });
    const config = log
      .since(mark)
      .filter((line) => line.includes('config#'))
      .map((line) => line.replace(/^\d+ config#\d+ /, ''));
    expect(config).toEqual(
      expect.arrayContaining([
        'setMemoryPoolLimit 0 67108864', // kWORKSPACE, 64 MiB
        'setBuilderOptimizationLevel 5',
        'setMaxAuxStreams 2',
        'setHardwareCompatibilityLevel 2', // kSAME_COMPUTE_CAPABILITY (the fake imitates TensorRT 10.16)
        'setFlag 13', // TensorRT 10's kVERSION_COMPATIBLE
        'setFlag 14', // TensorRT 10's kEXCLUDE_LEAN_RUNTIME
      ]),
    );
    const engine = await Engine.load(built.plan, { libraryPath: fakeTensorRTDir });
    expect(engine.metadata.hardwareCompatibility).toBe('same-compute-capability');
    engine.dispose();
  });

  it("an engine built for 'ampere+' says so; one built without the option says 'none'", async () => {
    for (const [option, reported] of [
      ['ampere+', 'ampere+'],
      [undefined, 'none'],
    ] as const) {
      const built = await buildEngine(affineModel(), {
        libraryPath: fakeTensorRTDir,
        cacheDir: false,
        timingCache: false,
        profiles: batchProfiles([1, 8]),
        ...(option ? { hardwareCompatibility: option } : {}),
      });
      const engine = await Engine.load(built.plan, { libraryPath: fakeTensorRTDir });
      expect(engine.metadata.hardwareCompatibility).toBe(reported);
      engine.dispose();
    }
  });

  describe('the native boundary refuses malformed options, typed', () => {
    const model = join(folder, 'affine.onnx');
    writeFileSync(model, affineModel());
    const profiles = [[{ input: 'x', min: [1, 4], opt: [4, 4], max: [8, 4] }]];
    const build = (options: Record<string, unknown>) => {
      const addon = loadAddon().addon as NativeAddon;
      return addon.buildEngine!(model, { libraryPath: fakeTensorRTDir, profiles, ...options } as NativeBuildOptions);
    };

    it.each([
      [{ optimizationLevel: 7 }, ArgumentRangeError, 'Expected an integer between 0 and 5 for options.optimizationLevel'],
      [{ maxAuxStreams: '2' }, ArgumentTypeError, 'Expected an integer for options.maxAuxStreams'],
      [
        { workspaceBytes: 0.5 },
        ArgumentRangeError,
        'Expected an integer between 1 and 1125899906842624 for options.workspaceBytes',
      ],
      [{ timingCache: 'cache.bin' }, ArgumentTypeError, 'Expected a Uint8Array for options.timingCache'],
      [{ profiles: 'x' }, ArgumentTypeError, 'Expected an array for options.profiles'],
      [{ profiles: ['x'] }, ArgumentTypeError, 'Expected an array of inputs for options.profiles[0]'],
      [
        { profiles: [[{ input: 'x', min: [-1, 4], opt: [4, 4], max: [8, 4] }]] },
        ArgumentRangeError,
        'Expected non-negative integers in options.profiles[0][0].min',
      ],
      [
        { profiles: [[{ input: 'x', min: [1, 4], opt: [4, 4], max: [8, 4], values: 3 }]] },
        ArgumentTypeError,
        'Expected an object for options.profiles[0][0].values',
      ],
    ])('%j', (options, errorClass, message) => {
      let thrown: unknown;
      try {
        build(options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(errorClass);
      expect(thrown).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message });
    });

    it('an unknown hardware compatibility level rejects the build with the TensorRT version that lacks it', async () => {
      const job = build({ hardwareCompatibility: 'turing+' });
      await expect(job.promise).rejects.toBeInstanceOf(ArgumentRangeError);
      await expect(job.promise).rejects.toMatchObject({
        message: 'Hardware compatibility "turing+" is not supported by TensorRT 10.16',
      });
    });
  });
});
