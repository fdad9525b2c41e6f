import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TensorMap } from '../../lib/core/tensors.js';
import { ArgumentRangeError, ArgumentTypeError, OnnxError } from '../../lib/core/errors.js';
import { compare } from '../../lib/precision/compare.js';
import { makeNode, setValueInfoElemType } from '../../lib/onnx/graph.js';
import { formatInspectReport, inspect } from '../../lib/onnx/inspect.js';
import { writeModel } from '../../lib/onnx/model.js';
import { encodeNpy, parseNpy, tensorFromJson, tensorToJson } from '../../lib/onnx/npy.js';
import { DataType } from '../../lib/onnx/proto.js';
import { toFloat16Array } from '../../lib/core/dtypes.js';
import { expectError, expectErrorSync } from '../helpers/expect-error.js';
import { ifModel, mlpModel, ppocr, temporaryFolder } from '../helpers/onnx-fixtures.js';

const tensor = (values: number[], shape = [values.length]): TensorMap[string] => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(values),
});
const constant = (outputs: TensorMap) => async () => outputs;

describe('inspect', () => {
  it('describes the PP-OCR detector: symbolic shapes, opset, op histogram, parameters in Constant nodes', async () => {
    const report = await inspect(ppocr.det);
    expect(report.irVersion).toBe(8);
    expect(report.opsets).toEqual([{ domain: 'ai.onnx', version: 11 }]);
    expect(report.inputs).toEqual([
      { name: 'x', dtype: 'float32', shape: ['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2'] },
    ]);
    expect(report.nodeCount).toBe(672);
    expect(report.opHistogram).toMatchObject({ Constant: 342, Conv: 62, ConvTranspose: 2, Resize: 6, Sigmoid: 1 });
    expect(report.parameters).toMatchObject({
      count: 1_171_841,
      bytes: 4_687_364,
      byDtype: { float32: { count: 1_171_841, bytes: 4_687_364 } },
      tensors: { initializers: 0, constants: 342, attributes: 0 },
    });
    expect(report.tensorrt).toEqual([
      { severity: 'note', message: expect.stringContaining('building needs an optimization profile') },
    ]);
    expect(formatInspectReport(report)).toContain('Conv 62');
  });

  it('counts subgraph nodes, external data, and what TensorRT cannot take', async () => {
    const nested = await inspect(ifModel());
    expect(nested.subgraphCount).toBe(2);
    expect(nested.nodeCount).toBe(1 + 2 + 8);
    const folder = temporaryFolder();
    const model = mlpModel();
    model.proto.graph!.node.push(
      makeNode('Unique', ['y'], ['u'], 'unique'),
      makeNode('Gelu', ['y'], ['g'], 'gelu', [], 'com.example'),
    );
    setValueInfoElemType(model.proto.graph!.input[0]!, DataType.DOUBLE);
    await writeModel(model, join(folder, 'model.onnx'), { externalData: { threshold: 1024 } });
    const report = await inspect(join(folder, 'model.onnx'));
    expect(report.externalData).toEqual({
      files: [{ location: 'model.onnx.data', tensors: 2, bytes: 2048 + 1024 }],
      tensors: 2,
      bytes: 3072,
    });
    expect(report.opHistogram).toMatchObject({ Unique: 1, 'com.example.Gelu': 1 });
    expect(report.tensorrt.map((finding) => finding.severity + ': ' + finding.message)).toEqual([
      "error: Operators TensorRT's ONNX parser does not support: Unique (1)",
      'warning: Operators of custom domains com.example need TensorRT plugins',
      'error: "x" is float64; TensorRT has no float64 inputs or outputs',
      'note: Dynamic input dims (x [batch, 16]): building needs an optimization profile with min/opt/max shapes',
    ]);
  });
});

describe('compare', () => {
  it('measures max/mean/relative error, cosine, argmax agreement and passes by atol + rtol * |reference|', async () => {
    const report = await compare(
      constant({ y: tensor([1, 2, 3, 4], [2, 2]) }),
      constant({ y: tensor([1, 2.001, 4.1, 3.9], [2, 2]) }),
      [{}, {}],
      { atol: 0.01, rtol: 0.01 },
    );
    expect(report.samples).toBe(2);
    const [output] = report.outputs;
    expect(output!.maxAbsError).toBeCloseTo(1.1, 5);
    expect(output!.meanAbsError).toBeCloseTo((0.001 + 1.1 + 0.1) / 4, 5);
    expect(output!.maxRelError).toBeCloseTo(1.1 / 3, 5);
    expect(output!.argmaxAgreement).toBeNull(); // rows [1, 2] and [3, 4] are not class scores
    expect(output!.mismatches).toBe(4); // 1.1 and 0.1 beyond 0.01 + 0.01 * |ref|, in each of 2 samples
    expect(output!.cosine).toBeCloseTo(
      (1 + 2 * 2.001 + 3 * 4.1 + 4 * 3.9) / Math.sqrt(30 * (1 + 2.001 ** 2 + 4.1 ** 2 + 3.9 ** 2)),
      6,
    );
    expect(report.pass).toBe(false);
    expect(report.verdict).toBe(
      'FAIL: 4 of 8 elements of "y" outside |b - a| <= 0.01 + 0.01*|a|; max abs error 1.10e+0, cosine 0.987234',
    );
    const close = await compare(
      constant({ y: tensor([1, 2]) }),
      constant({ y: tensor([1.005, 2]) }),
      {},
      { atol: 0.01, rtol: 0 },
    );
    expect(close.pass).toBe(true);
    expect(close.verdict).toBe(
      'PASS: every element of 1 output(s) within |b - a| <= 0.01 + 0*|a| over 1 sample(s); closest to the limit: "y" (max abs error 5.00e-3, cosine 0.999998)',
    );
  });

  it('reports argmax agreement only where the reference rows look like class scores (probability distributions)', async () => {
    const scores = tensor([0.2, 0.8, 0.45, 0.55, 0.6, 0.4], [3, 2]);
    const flipped = tensor([0.21, 0.79, 0.56, 0.44, 0.61, 0.39], [3, 2]);
    const probabilities = await compare(constant({ p: scores }), constant({ p: flipped }), {}, { atol: 0.2 });
    expect(probabilities.outputs[0]!.argmaxAgreement).toBeCloseTo(2 / 3, 12); // the middle row flips
    expect(probabilities.verdict).toMatch(/^PASS: .*argmax agrees on 66\.67% of rows\)$/);
    // A sigmoid map (values in [0, 1], rows not summing to 1) and logits are not class scores.
    const map = await compare(
      constant({ m: tensor([0.9, 0.8, 0.1, 0.7], [2, 2]) }),
      constant({ m: tensor([0.8, 0.9, 0.1, 0.7], [2, 2]) }),
      {},
    );
    expect(map.outputs[0]!.argmaxAgreement).toBeNull();
    const logits = await compare(
      constant({ l: tensor([2, -1, 0.5, 3], [2, 2]) }),
      constant({ l: tensor([2, -1, 0.5, 3], [2, 2]) }),
      {},
    );
    expect(logits.outputs[0]!.argmaxAgreement).toBeNull();
    expect(logits.verdict).not.toContain('argmax');
  });

  it('detects NaN and Inf the reference does not have, and reads float16 outputs', async () => {
    const report = await compare(constant({ y: tensor([1, 2, 3]) }), constant({ y: tensor([1, Number.NaN, Infinity]) }), {});
    expect(report.outputs[0]).toMatchObject({
      candidate: { nan: 1, inf: 1 },
      reference: { nan: 0, inf: 0 },
      mismatches: 2,
      pass: false,
    });
    const half = await compare(
      constant({ y: tensor([0.5, 1]) }),
      constant({ y: { dtype: 'float16', shape: [2], data: toFloat16Array([0.5, 1]) } }),
      {},
    );
    expect(half.outputs[0]).toMatchObject({ maxAbsError: 0, pass: true });
    expect(half.outputs[0]!.cosine).toBeCloseTo(1, 12);
  });

  it('BAD CALL - shapes that differ, missing outputs, no samples, wrong sides and tolerances', async () => {
    await expectError(
      () => compare(constant({ y: tensor([1, 2]) }), constant({ y: tensor([1, 2, 3]) }), {}),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected output "y" of the candidate to have the reference\'s shape [2] but received [3]',
    );
    await expectError(
      () => compare(constant({ y: tensor([1]) }), constant({ z: tensor([1]) }), {}),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected output "y" from the candidate but received outputs ["z"]',
    );
    await expectError(
      () => compare(constant({}), constant({}), []),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected at least one sample for inputs but received an empty set',
    );
    await expectError(
      () => compare(42 as never, constant({}), {}),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a model path, bytes, an OnnxModel, a backend or an async function for reference but received 42 of type number',
    );
    await expectError(
      () => compare(constant({}), constant({}), {}, { atol: -1 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a number >= 0 for options.atol but received -1 of type number',
    );
  });
});

describe('tensor files', () => {
  it('round-trips .npy and JSON tensors of every dtype NumPy stores', () => {
    const samples: TensorMap[string][] = [
      tensor([1.5, -2, 3], [3]),
      { dtype: 'int64', shape: [2, 1], data: BigInt64Array.of(-5n, 9007199254740993n) },
      { dtype: 'uint8', shape: [2], data: Uint8Array.of(0, 255) },
      { dtype: 'float16', shape: [1], data: toFloat16Array([0.25]) },
      { dtype: 'bool', shape: [], data: Uint8Array.of(1) },
    ];
    for (const sample of samples) {
      expect(parseNpy(encodeNpy(sample), 'x.npy')).toEqual(sample);
      expect(tensorFromJson(JSON.parse(JSON.stringify(tensorToJson(sample))), 'x.json')).toEqual(sample);
    }
  });

  it('BAD CALL - a file that is not .npy, Fortran order, a dtype it cannot hold, JSON without data', () => {
    expectErrorSync(
      () => parseNpy(new TextEncoder().encode('hello'), 'a.npy'),
      OnnxError,
      'ERR_IO',
      'Expected a NumPy .npy tensor for a.npy but received a file without the \\x93NUMPY magic',
    );
    const fortran = encodeNpy(tensor([1, 2]));
    // Buffer's latin1 maps every byte to itself; TextDecoder('latin1') is windows-1252 (0x93 becomes U+201C) on Node 22+.
    const text = Buffer.from(fortran).toString('latin1').replace("'fortran_order': False", "'fortran_order': True ");
    expectErrorSync(
      () => parseNpy(new Uint8Array(Buffer.from(text, 'latin1')), 'f.npy'),
      OnnxError,
      'ERR_IO',
      'Expected a NumPy .npy tensor for f.npy but received Fortran-ordered data (save it with np.ascontiguousarray)',
    );
    expectErrorSync(
      () => tensorFromJson({ dtype: 'float32', shape: [2] }, 'x.json'),
      OnnxError,
      'ERR_IO',
      'Expected a JSON tensor { "dtype", "shape", "data" } for x.json but received data undefined',
    );
    expectErrorSync(
      () => tensorFromJson({ dtype: 'float32', shape: [3], data: [1, 2] }, 'x.json'),
      OnnxError,
      'ERR_IO',
      'Expected a JSON tensor { "dtype", "shape", "data" } for x.json but received data of length 2 where shape [3] needs 3',
    );
  });
});
