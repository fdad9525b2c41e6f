import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelFingerprint, readModelAndExternalFiles } from '../../lib/builder/build-engine.js';
import { applyTransforms, planTransforms } from '../../lib/builder/prepare-model.js';
import { ArgumentTypeError, OnnxError } from '../../lib/core/errors.js';
import { externalTensors } from '../../lib/onnx/external-data.js';
import { inspect } from '../../lib/onnx/inspect.js';
import { writeModel } from '../../lib/onnx/model.js';
import { expectError } from '../helpers/expect-error.js';
import { mlpModel, randomTensor, temporaryFolder } from '../helpers/onnx-fixtures.js';

describe('preparing a model for a precision', () => {
  it('fp32 needs no transform', async () => {
    const model = mlpModel();
    const plan = await planTransforms(model, await inspect(model), 'fp32', {});
    expect(plan.steps).toEqual([]);
    expect((await applyTransforms(model, 'fp32', plan, {})).asGiven).toBe(true);
  });

  it('fp16 autocasts, and a model that already carries float16 is built as given', async () => {
    const model = mlpModel();
    const plan = await planTransforms(model, await inspect(model), 'fp16', { fp16: { keepIoTypes: true } });
    expect(plan.steps).toEqual([{ name: 'fp16-autocast', version: expect.any(String), options: { keepIoTypes: true } }]);
    const prepared = await applyTransforms(model, 'fp16', plan, {});
    expect(prepared.asGiven).toBe(false);
    expect(prepared.fp16!.nodesConverted).toBeGreaterThan(0);
    const again = await planTransforms(prepared.model, await inspect(prepared.model), 'fp16', {});
    expect(again.steps).toEqual([]);
  });

  it('int8 keys on the calibration data without calibrating when it can, and quantizes', async () => {
    const model = mlpModel();
    const report = await inspect(model);
    const random = { random: 4, seed: 3 };
    const plan = await planTransforms(model, report, 'int8', {
      calibration: random,
      int8: { shapes: { x: [2, 16] }, method: 'max', cpu: { intraOpNumThreads: 1 } },
    });
    expect(plan.table).toBeUndefined();
    expect(plan.steps).toEqual([
      {
        name: 'int8-qdq',
        version: expect.any(String),
        options: { shapes: { x: [2, 16] }, method: 'max', calibrationRandom: random },
      },
    ]);
    const prepared = await applyTransforms(model, 'int8', plan, {
      calibration: random,
      int8: { shapes: { x: [2, 16] }, method: 'max' },
    });
    expect(prepared.int8!.quantized).toEqual({ Gemm: 1, MatMul: 1 });
    const quantized = await inspect(prepared.model);
    expect(quantized.precision.quantizeLinear).toBeGreaterThan(0);
    expect((await planTransforms(prepared.model, quantized, 'int8', {})).steps).toEqual([]); // Q/DQ already there
  });

  it('an iterable calibration source is calibrated first and keyed by its result, which is stable', async () => {
    const model = mlpModel();
    const report = await inspect(model);
    const samples = () => [0, 1, 2].map((seed) => ({ x: randomTensor([2, 16], seed) }));
    const first = await planTransforms(model, report, 'int8', { calibration: samples(), int8: { method: 'max' } });
    const second = await planTransforms(model, report, 'int8', { calibration: samples(), int8: { method: 'max' } });
    expect(Object.keys(first.table!.tensors)).toContain('x'); // calibrated: the input has a range
    expect(first.steps).toEqual(second.steps);
    const other = await planTransforms(model, report, 'int8', {
      calibration: [{ x: randomTensor([2, 16], 9, -5, 5) }],
      int8: { method: 'max' },
    });
    expect(other.steps).not.toEqual(first.steps);
  });

  it('BAD CALL - int8 without calibration data or table', async () => {
    const model = mlpModel();
    const report = await inspect(model);
    await expectError(
      () => planTransforms(model, report, 'int8', {}),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected calibration data (options.calibration) or a calibration table (options.calibrationTable) for precision "int8" but received neither; a model that already has QuantizeLinear/DequantizeLinear nodes needs neither',
    );
  });
});

describe('the model fingerprint of the cache key', () => {
  it('names external-data files, so new weights with the same .onnx give a new key', async () => {
    const folder = temporaryFolder();
    const path = join(folder, 'mlp.onnx');
    await writeModel(mlpModel(), path, { externalData: { threshold: 1 } });
    const first = await readModelAndExternalFiles(path);
    expect(first.externalFiles).toEqual([{ location: 'mlp.onnx.data', path: realpathSync(join(folder, 'mlp.onnx.data')) }]);
    expect(externalTensors(first.model.proto)).toEqual([]); // loaded for the build
    const before = await modelFingerprint(path, first.externalFiles);
    expect(before.externalData).toEqual([{ path: 'mlp.onnx.data', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);

    const data = readFileSync(join(folder, 'mlp.onnx.data'));
    data[data.length - 1] = data[data.length - 1]! ^ 0xff; // one weight changes; the .onnx file does not
    writeFileSync(join(folder, 'mlp.onnx.data'), data);
    const after = await modelFingerprint(path, (await readModelAndExternalFiles(path)).externalFiles);
    expect(after.sha256).toBe(before.sha256);
    expect(after.externalData[0]!.sha256).not.toBe(before.externalData[0]!.sha256);
  });

  it('BAD CALL - an external-data location that leads out of the model folder is refused before anything is hashed', async () => {
    const folder = temporaryFolder();
    const path = join(folder, 'mlp.onnx');
    await writeModel(mlpModel(), path, { externalData: { threshold: 1 } });
    const model = readFileSync(path);
    const escaped = Buffer.from(model.toString('latin1').replaceAll('mlp.onnx.data', '../outside.da'), 'latin1'); // same length: the protobuf stays valid
    writeFileSync(path, escaped);
    await expectError(
      () => readModelAndExternalFiles(path),
      OnnxError,
      'ERR_ONNX',
      /^Expected an external data location inside the model's folder .* but received "\.\.\/outside\.da" \(it escapes the folder with \.\.\)$/,
    );
  });
});
