import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { buildEngine } from '../../lib/builder/build-engine.js';
import { ArgumentRangeError, ArgumentTypeError, OnnxError, TensorRTError, TensorRTNodeError } from '../../lib/core/errors.js';
import { serializeModel } from '../../lib/onnx/model.js';
import { expectError } from '../helpers/expect-error.js';
import { addon } from '../helpers/machine.js';
import { convNetModel, mlpModel } from '../helpers/onnx-fixtures.js';

const folder = mkdtempSync(join(tmpdir(), 'build-engine-'));
const mlpPath = join(folder, 'mlp.onnx');
writeFileSync(mlpPath, serializeModel(mlpModel()));
const headersMajor = addon?.buildInfo().tensorrt.headersMajor ?? null;
const mlpProfile = { x: { min: [1, 16], opt: [4, 16], max: [8, 16] } };

describe.skipIf(addon === null)('buildEngine without a GPU', () => {
  it('BAD CALL - options are validated before anything is read or built', async () => {
    await expectError(
      () => buildEngine(mlpPath, { precison: 'fp16' } as never),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      /^Unknown option "precison" in options \(did you mean "precision"\?\)/,
    );
    await expectError(
      () => buildEngine(mlpPath, { precision: 'fp64' as never }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "fp32", "fp16", "int8" for options.precision but received "fp64" of type string',
    );
    await expectError(
      () => buildEngine(mlpPath, { workspace: '2 gigs' }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      /^Expected a byte size .* for options.workspace but received "2 gigs" of type string$/,
    );
    await expectError(
      () => buildEngine(mlpPath, { optimizationLevel: 9 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer between 0 and 5 for options.optimizationLevel but received 9 of type number',
    );
    await expectError(
      () => buildEngine(mlpPath, { hardwareCompatibility: 'amper+' as never }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "none", "ampere+", "same-compute-capability" for options.hardwareCompatibility but received "amper+" of type string (did you mean "ampere+"?)',
    );
    await expectError(
      () => buildEngine(42 as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a path or a Uint8Array for the ONNX model but received 42 of type number',
    );
    await expectError(
      () => buildEngine(mlpPath, { signal: AbortSignal.abort() }),
      TensorRTNodeError,
      'ERR_ABORTED',
      'buildEngine was aborted',
    );
  });

  it('BAD CALL - a model that is not ONNX, and profiles that contradict the model, fail before any native call', async () => {
    const garbage = join(folder, 'garbage.onnx');
    writeFileSync(garbage, Buffer.from('not a model at all, just bytes'));
    await expectError(() => buildEngine(garbage), OnnxError, 'ERR_ONNX', /garbage\.onnx/);
    await expectError(
      () => buildEngine(mlpPath),
      ArgumentRangeError,
      'ERR_SHAPE',
      `${mlpPath} has dynamic input "x" [batch, 16]: give options.profiles with min/opt/max shapes, e.g. { "x": { min: [...], opt: [...], max: [...] } }`,
    );
    await expectError(
      () => buildEngine(mlpPath, { profiles: { x: { min: [1, 8], opt: [4, 8], max: [8, 8] } } }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected dimension 1 of options.profiles.x.min to be 16, as the model fixes it (input shape [batch, 16]), but received [1, 8]',
    );
    const conv = join(folder, 'conv.onnx');
    writeFileSync(conv, serializeModel(convNetModel()));
    await expectError(
      () => buildEngine(conv, { precision: 'int8' }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      /^Expected calibration data \(options\.calibration\) or a calibration table/,
    );
  });

  it.runIf(headersMajor === null)('without TensorRT compiled in, it says how to rebuild', async () => {
    await expectError(
      () => buildEngine(mlpPath, { profiles: mlpProfile }),
      TensorRTError,
      'ERR_NOT_SUPPORTED',
      /^This build of tensorrt-node has no TensorRT builder \(.+\)\. Rebuild it against TensorRT headers/,
    );
  });

  it.runIf(headersMajor !== null)('without libnvinfer, it lists where it looked and points at doctor', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-trt-'));
    const error = await expectError(
      () => buildEngine(mlpPath, { profiles: mlpProfile, libraryPath: empty, cacheDir: false }),
      TensorRTError,
      'ERR_TENSORRT_NOT_FOUND',
      new RegExp(`^Cannot build an engine: libnvinfer \\(TensorRT ${headersMajor}\\.x\\) was not found\\. Tried:`),
    );
    if (!error.message.includes(`${join(empty, `libnvinfer.so.${headersMajor}`)} [libraryPath option]: not found`))
      throw new Error(`attempts missing from: ${error.message}`);
  });
});
