// The N-API boundary of execution contexts on the EMULATED device with the FAKE TensorRT, called
// directly (through lib's loader, which installs the error classes; the addon is a public module: lib/ validates first, but the native layer must refuse bad
// input on its own, typed, without crashing). Each case asserts class, code and message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError, buildEngine } from '../../lib/index.js';
import { loadAddon } from '../../lib/addon/loader.js';
import type { NativeAddon, NativeContextWrap, NativeEngineWrap } from '../../lib/addon/types.js';
import {
  affine,
  affineModel,
  batchProfiles,
  emulatedSkipReason,
  fakeTensorRTDir,
  sequence,
} from '../helpers/fake-tensorrt-engines.js';

type Inputs = Parameters<NativeContextWrap['run']>[0];
type Outputs = Parameters<NativeContextWrap['run']>[1];

describe.skipIf(emulatedSkipReason !== null)('fake TensorRT on the emulated device: native context input checks', () => {
  let addon: NativeAddon;
  let engine: NativeEngineWrap;
  let context: NativeContextWrap;
  beforeAll(async () => {
    const built = await buildEngine(affineModel(), {
      libraryPath: fakeTensorRTDir,
      cacheDir: false,
      timingCache: false,
      profiles: batchProfiles([1, 8]),
    });
    addon = loadAddon().addon as NativeAddon;
    engine = await addon.loadEngine!(built.plan, { libraryPath: fakeTensorRTDir });
    context = await addon.createExecutionContext!(engine, { profile: 0, cudaGraph: 'off' });
  });
  afterAll(async () => {
    await context?.dispose();
    engine?.dispose();
  });

  const x = sequence(8);
  const run = (inputs: unknown, outputs: unknown = []) => context.run(inputs as Inputs, outputs as Outputs, false, false);
  const input = (fields: Record<string, unknown>) => [{ tensor: 0, shape: [2, 4], memory: x, ...fields }];

  it('a well-formed call runs: the reference for the cases below', async () => {
    const result = await run(input({}));
    expect(result.outputs[0]!.shape).toEqual([2, 4]);
    expect(new Float32Array(result.outputs[0]!.buffer!)).toEqual(affine(x));
  });

  it.each([
    ['not an array', 'inputs', ArgumentTypeError, 'ERR_INVALID_ARGUMENT', 'Expected an array of inputs'],
    [
      'too many inputs',
      [...input({}), ...input({})],
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected 1 inputs (one per engine input) but received 2',
    ],
    [
      'an output index as input',
      input({ tensor: 1 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected the index of an engine input for inputs[0].tensor',
    ],
    [
      'a shape that is no array',
      input({ shape: 8 }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an array of dimensions for the shape of input "x"',
    ],
    [
      'a shape of the wrong rank',
      input({ shape: [8] }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 2 dimensions for the shape of input "x" but received 1',
    ],
    [
      'a negative dimension',
      input({ shape: [-2, 4] }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a non-negative integer for dimension 0 of input "x"',
    ],
    [
      'a fixed dimension changed',
      input({ shape: [4, 2] }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected dimension 1 of input "x" to be 4',
    ],
    [
      'too few bytes',
      input({ memory: sequence(4) }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 32 bytes for the memory of input "x" but received 16',
    ],
    [
      'memory that is no tensor',
      input({ memory: [1, 2, 3] }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a TypedArray, a pinned buffer or a device buffer for the memory of input "x"',
    ],
  ])('refuses %s', (_case, inputs, errorClass, code, message) => {
    let thrown: unknown;
    try {
      void run(inputs);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(errorClass);
    expect(thrown).toMatchObject({ code, message });
  });

  it('refuses a bound output that is no tensor, and a device buffer too small for an input', async () => {
    expect(() => run(input({}), [{ tensor: 1, memory: 'y' }])).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringContaining('Expected a TypedArray, a pinned buffer or a device buffer for'),
      }),
    );
    const small = new addon.DeviceBufferWrap!(16, 0);
    const pinned = new addon.PinnedBufferWrap!(16);
    try {
      expect(() => run(input({ memory: small }))).toThrow(
        expect.objectContaining({
          code: 'ERR_SHAPE',
          message: 'Expected at least 32 bytes for the memory of input "x" but received 16',
        }),
      );
      expect(() => run(input({ memory: pinned }))).toThrow(
        expect.objectContaining({
          code: 'ERR_SHAPE',
          message: 'Expected at least 32 bytes for the memory of input "x" but received 16',
        }),
      );
    } finally {
      small.dispose();
      pinned.dispose();
    }
  });

  it('createExecutionContext refuses what is not an engine, and an unknown cudaGraph mode', () => {
    expect(() => addon.createExecutionContext!({} as NativeEngineWrap, { profile: 0, cudaGraph: 'auto' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: 'Expected an engine for createExecutionContext()' }),
    );
    expect(() => addon.createExecutionContext!(engine, { cudaGraph: 'sometimes' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: 'Expected "auto", "on" or "off" for options.cudaGraph' }),
    );
  });
});
