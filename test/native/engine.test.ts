import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../lib/tensorrt/engine.js';
import { ArgumentRangeError, ArgumentTypeError, TensorRTError, TensorRTNodeError } from '../../lib/core/errors.js';
import { expectError } from '../helpers/expect-error.js';
import { buildFakeTensorRT } from '../helpers/fake-tensorrt.js';
import { addon } from '../helpers/machine.js';

const build = addon?.buildInfo();
const headersMajor = build?.tensorrt.headersMajor ?? null;
const folder = mkdtempSync(join(tmpdir(), 'engine-test-'));
const garbagePlan = join(folder, 'garbage.plan');
writeFileSync(garbagePlan, Buffer.from('definitely not a TensorRT engine'));

describe.skipIf(addon === null)('Engine.load', () => {
  it('BAD CALL - a path that does not exist, a directory, an empty buffer, a wrong type', async () => {
    await expectError(
      () => Engine.load(join(folder, 'missing.plan')),
      TensorRTNodeError,
      'ERR_IO',
      `Cannot read the engine file ${join(folder, 'missing.plan')}: it does not exist`,
    );
    await expectError(
      () => Engine.load(folder),
      TensorRTNodeError,
      'ERR_IO',
      `Cannot read the engine file ${folder}: it is a directory`,
    );
    await expectError(
      () => Engine.load(new Uint8Array(0)),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-empty engine for the engine but received a Uint8Array of length 0',
    );
    await expectError(
      () => Engine.load(42 as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a path or a Uint8Array for the engine but received 42 of type number',
    );
    await expectError(
      () => Engine.load('', {}),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-empty string for the engine path but received "" of type string',
    );
  });

  it('BAD CALL - bad options', async () => {
    await expectError(
      () => Engine.load(garbagePlan, { devise: 0 } as never),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "devise" in options (did you mean "device"?); known options: device, allowHostCode, libraryPath, signal, plugins',
    );
    await expectError(
      () => Engine.load(garbagePlan, { device: -1 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for options.device but received -1 of type number',
    );
    await expectError(
      () => Engine.load(garbagePlan, { allowHostCode: 'yes' as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a boolean for options.allowHostCode but received "yes" of type string',
    );
    await expectError(
      () => Engine.load(garbagePlan, { signal: {} as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an AbortSignal for options.signal but received an object',
    );
  });

  it('BAD CALL - an already aborted signal', async () => {
    await expectError(
      () => Engine.load(garbagePlan, { signal: AbortSignal.abort() }),
      TensorRTNodeError,
      'ERR_ABORTED',
      'Engine.load was aborted',
    );
  });

  it.runIf(headersMajor === null)('without TensorRT compiled in, loading says how to rebuild', async () => {
    await expectError(
      () => Engine.load(garbagePlan),
      TensorRTError,
      'ERR_NOT_SUPPORTED',
      /^This build of tensorrt-node has no TensorRT runtime \(.+\)\. Rebuild it against TensorRT headers/,
    );
  });

  it.runIf(headersMajor !== null)('without libnvinfer, loading lists every place searched', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-trt-'));
    const error = await expectError(
      () => Engine.load(garbagePlan, { libraryPath: empty }),
      TensorRTError,
      'ERR_TENSORRT_NOT_FOUND',
      /^libnvinfer was not found\. Tried:/,
    );
    expect(error.message).toContain(`${join(empty, `libnvinfer.so.${headersMajor}`)} [libraryPath option]: not found`);
  });

  it.runIf(headersMajor !== null)('a libnvinfer of the other major is a version error', async () => {
    const other = headersMajor === 10 ? 11 : 10;
    const fake = buildFakeTensorRT(other, `${other}.2.0`);
    const error = await expectError(
      () => Engine.load(garbagePlan, { libraryPath: fake }),
      TensorRTError,
      'ERR_TENSORRT_VERSION',
      new RegExp(`^libnvinfer was found, but not TensorRT ${headersMajor}\\.x, which this addon was built for\\. Tried:`),
    );
    expect(error.message).toContain(`TensorRT ${other}.2.0 (this addon was built for ${headersMajor}.x)`);
  });

  it.runIf(headersMajor !== null)('a libnvinfer without the runtime entry points is a symbol error', async () => {
    const fake = buildFakeTensorRT(headersMajor!, `${headersMajor}.0.0`);
    await expectError(
      () => Engine.load(garbagePlan, { libraryPath: fake }),
      TensorRTError,
      'ERR_TENSORRT_SYMBOL',
      /lacks the entry point createInferRuntime_INTERNAL/,
    );
  });
});
