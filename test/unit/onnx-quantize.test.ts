import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError, OnnxError } from '../../lib/core/errors.js';
import type { TensorMap } from '../../lib/core/tensors.js';
import { calibrate } from '../../lib/precision/calibrate.js';
import { loadCalibrationTable, saveCalibrationTable } from '../../lib/onnx/calibration-table.js';
import { compare } from '../../lib/precision/compare.js';
import { attributeInt, floatAttribute, getAttribute, intsAttribute, makeNode } from '../../lib/onnx/graph.js';
import { AbsHistogram, HISTOGRAM_BINS } from '../../lib/onnx/histogram.js';
import { cloneModel, serializeModel, type OnnxModel } from '../../lib/onnx/model.js';
import { encodeNpy, tensorToJson } from '../../lib/onnx/npy.js';
import { upgradeOpset } from '../../lib/onnx/opset.js';
import { DataType, type GraphProto, type TensorProto } from '../../lib/onnx/proto.js';
import { quantizeInt8 } from '../../lib/precision/quantize.js';
import { createRandom } from '../../lib/onnx/random.js';
import { tensorDims, tensorFloat32Values, tensorValues } from '../../lib/onnx/tensor-data.js';
import { expectError, expectErrorSync } from '../helpers/expect-error.js';
import { GraphBuilder, buildModel, convNetModel, mlpModel, randomTensor, temporaryFolder } from '../helpers/onnx-fixtures.js';

const convSamples = (count: number, seed = 1): TensorMap[] =>
  Array.from({ length: count }, (_, index) => ({ x: randomTensor([1, 3, 16, 16], seed + index) }));

function initializer(graph: GraphProto, name: string): TensorProto {
  return graph.initializer.find((tensor) => tensor.name === name)!;
}

function producerOf(graph: GraphProto, name: string) {
  return graph.node.find((node) => node.output.includes(name));
}

describe('calibration histograms', () => {
  const filled = (values: () => number, batches = 4, size = 50_000) => {
    const histogram = new AbsHistogram();
    for (let batch = 0; batch < batches; batch++) histogram.add(Float32Array.from({ length: size }, values));
    return histogram;
  };

  it('max is the largest magnitude; percentile and entropy clip the tail of a normal distribution', () => {
    const random = createRandom(1);
    const histogram = filled(() => random.normal());
    expect(histogram.count).toBe(200_000);
    expect(histogram.amax('max')).toBe(histogram.max);
    const percentile = histogram.amax('percentile', 99.99);
    expect(percentile).toBeGreaterThan(3.5);
    expect(percentile).toBeLessThan(histogram.max);
    const entropy = histogram.amax('entropy');
    expect(entropy).toBeGreaterThan(2.5);
    expect(entropy).toBeLessThanOrEqual(histogram.max);
    expect(histogram.amax('mse')).toBeLessThan(histogram.max);
  });

  it('a uniform distribution is not clipped by any method', () => {
    const random = createRandom(2);
    const histogram = filled(() => random.uniform(-1, 1));
    for (const method of ['max', 'percentile', 'entropy'] as const) expect(histogram.amax(method)).toBeCloseTo(1, 2);
  });

  it('widens its range exactly when later batches exceed it (one pass over the data)', () => {
    const histogram = new AbsHistogram();
    histogram.add(Float32Array.of(0, 0.5, 1));
    const width = histogram.binWidth;
    histogram.add(Float32Array.of(3.5, -0.25, Number.NaN));
    expect(histogram.binWidth).toBe(width * 4);
    expect(histogram.max).toBe(3.5);
    expect(histogram.count).toBe(5);
    expect(histogram.bins.reduce((sum, count) => sum + count, 0)).toBe(5);
    expect(histogram.bins.length).toBe(HISTOGRAM_BINS);
    const zeros = new AbsHistogram();
    zeros.add(new Float32Array(10));
    expect(zeros.amax('entropy')).toBe(0);
  });
});

describe('INT8 quantization', () => {
  it('puts Q/DQ on every Conv, ConvTranspose and Gemm input, INT8 weights per output channel, zero points 0', async () => {
    const model = convNetModel();
    const { model: quantized, report, table } = await quantizeInt8(model, { calibration: convSamples(8), method: 'max' });
    expect(report.quantized).toEqual({ Conv: 2, ConvTranspose: 1, Gemm: 1 });
    expect(report).toMatchObject({
      activationQdq: 4,
      weightsQuantized: 4,
      perChannel: true,
      opset: { from: 13, to: 13 },
      skipped: [],
    });
    const graph = quantized.proto.graph!;
    const expectedAxis: Record<string, number> = { conv1: 0, conv2: 0, up: 1, fc: 0 };
    for (const node of graph.node.filter((candidate) => ['Conv', 'ConvTranspose', 'Gemm'].includes(candidate.opType))) {
      const activation = producerOf(graph, node.input[0]!)!;
      expect(activation.opType).toBe('DequantizeLinear');
      const quantize = producerOf(graph, activation.input[0]!)!;
      expect(quantize.opType).toBe('QuantizeLinear');
      const scale = tensorFloat32Values(initializer(graph, activation.input[1]!));
      expect(scale).toEqual(Float32Array.of(Math.fround(table.tensors[quantize.input[0]!]!.amax / 127)));
      expect(initializer(graph, activation.input[2]!).dataType).toBe(DataType.INT8);
      const weight = producerOf(graph, node.input[1]!)!;
      expect(weight.opType).toBe('DequantizeLinear');
      expect(attributeInt(weight, 'axis', -1)).toBe(expectedAxis[node.name]);
      const int8 = initializer(graph, weight.input[0]!);
      expect(int8.dataType).toBe(DataType.INT8);
      const channels = tensorDims(int8)[expectedAxis[node.name]!]!;
      expect(tensorDims(initializer(graph, weight.input[1]!))).toEqual([channels]);
      expect(Array.from(tensorValues(initializer(graph, weight.input[2]!)) as Int8Array)).toEqual(new Array(channels).fill(0));
      expect(Math.max(...Array.from(tensorValues(int8) as Int8Array, Math.abs))).toBe(127);
      if (node.input[2]) expect(initializer(graph, node.input[2]).dataType).toBe(DataType.FLOAT); // bias stays float
    }
    // conv1's weights were a Constant node: replaced, not left behind.
    expect(graph.node.some((node) => node.opType === 'Constant')).toBe(false);
    const result = await compare(model, quantized, convSamples(2, 100), { atol: 0.1, rtol: 0.1 });
    for (const output of result.outputs) expect(output.cosine).toBeGreaterThan(0.99);
  });

  it('quantizes Gemm (transB) weights on axis 0 and MatMul weights on their last axis; one Q/DQ pair per shared activation', async () => {
    const { model: quantized, report } = await quantizeInt8(mlpModel(), {
      calibration: { random: 4, seed: 3 },
      shapes: { x: [2, 16] },
    });
    expect(report.quantized).toEqual({ Gemm: 1, MatMul: 1 });
    const graph = quantized.proto.graph!;
    const gemm = graph.node.find((node) => node.name === 'fc1')!;
    const matmul = graph.node.find((node) => node.name === 'fc2')!;
    expect(attributeInt(producerOf(graph, gemm.input[1]!)!, 'axis', -1)).toBe(0);
    expect(attributeInt(producerOf(graph, matmul.input[1]!)!, 'axis', -1)).toBe(1);

    const shared = cloneModel(convNetModel());
    // A second Conv reading conv2's input: both must share one Q/DQ pair.
    shared.proto.graph!.node.push(
      makeNode('Conv', ['pool1_out', 'conv2.weight'], ['twin'], 'twin', [intsAttribute('pads', [1, 1, 1, 1])]),
    );
    const { model: twin, report: twinReport } = await quantizeInt8(shared, { calibration: convSamples(2) });
    expect(twinReport.activationQdq).toBe(4);
    expect(twinReport.weightsQuantized).toBe(4);
    const twinGraph = twin.proto.graph!;
    expect(twinGraph.node.find((node) => node.name === 'twin')!.input.slice(0, 2)).toEqual(
      twinGraph.node.find((node) => node.name === 'conv2')!.input.slice(0, 2),
    );
  });

  it('saves a calibration table that reproduces the same model, and reads calibration samples from folders', async () => {
    const folder = temporaryFolder();
    const samples = convSamples(3);
    mkdirSync(join(folder, 'data', 'sample0'), { recursive: true });
    writeFileSync(join(folder, 'data', 'sample0', 'x.npy'), encodeNpy(samples[0]!.x!));
    writeFileSync(join(folder, 'data', 'sample1.npy'), encodeNpy(samples[1]!.x!));
    writeFileSync(join(folder, 'data', 'sample2.json'), JSON.stringify({ x: tensorToJson(samples[2]!.x!) }));
    const fromFolder = await calibrate(convNetModel(), join(folder, 'data'), { method: 'entropy' });
    const fromFeeds = await calibrate(convNetModel(), samples, { method: 'entropy' });
    expect(fromFolder.samples).toBe(3);
    expect(fromFolder.tensors).toEqual(fromFeeds.tensors);

    const first = await quantizeInt8(convNetModel(), { calibration: samples });
    await saveCalibrationTable(first.table, join(folder, 'table.json'));
    const table = await loadCalibrationTable(join(folder, 'table.json'));
    expect(table).toEqual(first.table);
    expect(Object.keys(table.tensors)).toEqual(['x', 'pool1_out', 'relu2_out', 'flatten_out']);
    const again = await quantizeInt8(convNetModel(), { calibrationTable: join(folder, 'table.json') });
    expect(Buffer.from(serializeModel(again.model)).equals(Buffer.from(serializeModel(first.model)))).toBe(true);
    async function* asyncSamples() {
      yield* samples;
    }
    expect((await calibrate(convNetModel(), asyncSamples(), { method: 'entropy' })).tensors).toEqual(fromFeeds.tensors);
  });

  it('reports progress and honours an abort signal', async () => {
    const seen: string[] = [];
    await calibrate(
      convNetModel(),
      { random: 3 },
      { onProgress: ({ phase, done, total }) => seen.push(`${phase} ${done}/${total}`) },
    );
    expect(seen).toEqual(['calibrate 0/3', 'calibrate 1/3', 'calibrate 2/3', 'calibrate 3/3']);
    await expectError(
      () => calibrate(convNetModel(), { random: 3 }, { signal: AbortSignal.abort() }),
      Error,
      'ERR_ABORTED',
      /aborted/,
    );
  });

  it('BAD CALL - calibration feeds with the wrong names, dtypes or shapes', async () => {
    const wrongName: TensorMap[] = [{ image: randomTensor([1, 3, 16, 16], 1) }];
    await expectError(
      () => calibrate(convNetModel(), wrongName),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected only input names of the model ("x") in calibration sample 0 feeds but received "image"',
    );
    const wrongDtype = [{ x: { dtype: 'float32', shape: [1, 3, 16, 16], data: new Float64Array(768) } }] as never;
    await expectError(
      () => calibrate(convNetModel(), wrongDtype),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a Float32Array for calibration sample 0 input "x" (float32) but received a Float64Array of length 768',
    );
    const wrongShape: TensorMap[] = [{ x: randomTensor([1, 3, 16, 16], 1) }, { x: randomTensor([1, 3, 8, 8], 2) }];
    await expectError(
      () => calibrate(convNetModel(), wrongShape),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 16 at dim 2 (model shape [1, 3, 16, 16]) for calibration sample 1 input "x" but received [1, 3, 8, 8]',
    );
  });

  it('BAD CALL - empty calibration sets, no data at all, generated data without shapes', async () => {
    await expectError(
      () => quantizeInt8(convNetModel(), { calibration: [] }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected at least one calibration sample but received an empty set',
    );
    const empty = temporaryFolder();
    await expectError(
      () => calibrate(convNetModel(), empty),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      `Expected at least one calibration sample but received an empty set (no .npy/.json samples in ${empty})`,
    );
    await expectError(
      () => quantizeInt8(convNetModel(), { calibration: { random: 0 } }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected at least one calibration sample for options.calibration.random but received 0',
    );
    await expectError(
      () => quantizeInt8(convNetModel()),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected calibration data (options.calibration) or a calibration table (options.calibrationTable) for quantizeInt8 but received neither',
    );
    await expectError(
      () => quantizeInt8(mlpModel(), { calibration: { random: 2 } }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a concrete shape for input "x" in options.shapes (its dims are [-1, 16]) but received none; pass options.shapes: { "x": [...] }',
    );
    await expectError(
      () => quantizeInt8(convNetModel(), { calibration: 42 as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a folder path, an (async) iterable of feeds or { random: N } for options.calibration but received 42 of type number',
    );
  });

  it('BAD CALL - tables that do not fit, unknown methods, models already quantized', async () => {
    const { table, model: quantized } = await quantizeInt8(convNetModel(), { calibration: convSamples(1) });
    const partial = { ...table, tensors: { x: table.tensors.x! } };
    await expectError(
      () => quantizeInt8(convNetModel(), { calibrationTable: partial }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an amax for every activation to quantize in options.calibrationTable but received none for "pool1_out", "relu2_out", "flatten_out"',
    );
    await expectError(
      () => quantizeInt8(convNetModel(), { calibrationTable: { ...table, format: 'other' } as never }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a calibration table (format "tensorrt-node-calibration", version 1) for options.calibrationTable but received format "other" of type string',
    );
    const folder = temporaryFolder();
    writeFileSync(join(folder, 'table.json'), '{ not json');
    await expectError(
      () => loadCalibrationTable(join(folder, 'table.json')),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      /^Expected a calibration table \(format "tensorrt-node-calibration", version 1\) for .*table\.json but received text that is not JSON/,
    );
    await expectError(
      () => quantizeInt8(convNetModel(), { calibration: convSamples(1), method: 'kl' as never }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "max", "percentile", "entropy", "mse" for options.method but received "kl" of type string',
    );
    await expectError(
      () => quantizeInt8(quantized, { calibrationTable: table }),
      OnnxError,
      'ERR_ONNX',
      'Expected a float model for quantizeInt8 but received <convnet>, which already has QuantizeLinear/DequantizeLinear nodes',
    );
  });
});

/** An opset-9 model using every operator whose meaning or signature changed by opset 13. */
function opset9Model(): OnnxModel {
  const graph = new GraphBuilder('old');
  const x = graph.input('x', DataType.FLOAT, [2, 3, 4]);
  const [clipped] = graph.node('Clip', [x], [floatAttribute('min', -0.5), floatAttribute('max', 0.75)], 1, 'clip');
  const [sliced] = graph.node(
    'Slice',
    [clipped!],
    [intsAttribute('starts', [0, 1]), intsAttribute('ends', [2, 4]), intsAttribute('axes', [0, 2])],
    1,
    'slice',
  );
  const [unsqueezed] = graph.node('Unsqueeze', [sliced!], [intsAttribute('axes', [0])], 1, 'unsqueeze');
  const [squeezed] = graph.node('Squeeze', [unsqueezed!], [intsAttribute('axes', [0])], 1, 'squeeze');
  const [padded] = graph.node(
    'Pad',
    [squeezed!],
    [intsAttribute('pads', [0, 0, 1, 0, 0, 1]), floatAttribute('value', 0.25)],
    1,
    'pad',
  );
  const [softmax] = graph.node('Softmax', [padded!], [], 1, 'softmax'); // old axis 1: over dims 1 and 2 together
  graph.nodes.push(makeNode('LogSoftmax', [softmax!], ['y'], 'logsoftmax', []));
  graph.output('y', DataType.FLOAT, [2, 3, 5]);
  return buildModel(graph.build(), { opset: 9 });
}

describe('opset upgrade to 13', () => {
  it('rewrites Clip, Slice, Squeeze/Unsqueeze, Pad and the Softmax family with their old meaning (same results)', async () => {
    const old = opset9Model();
    const upgraded = cloneModel(old);
    expect(upgradeOpset(upgraded, 13)).toEqual({ from: 9, to: 13 });
    expect(upgraded.proto.opsetImport[0]!.version).toBe(13n);
    const graph = upgraded.proto.graph!;
    expect(
      graph.node.find((node) => node.name === 'softmax')!.attribute.map((attribute) => [attribute.name, Number(attribute.i)]),
    ).toEqual([['axis', -1]]);
    expect(
      getAttribute(
        graph.node.find((node) => node.name === 'clip')!,
        'min',
      ),
    ).toBeUndefined();
    const result = await compare(old, upgraded, { x: randomTensor([2, 3, 4], 9, -2, 2) }, { atol: 1e-6, rtol: 1e-6 });
    expect(result.pass).toBe(true);
    expect(result.outputs[0]!.maxAbsError).toBeLessThan(1e-6);
  });

  it('BAD CALL - operators that cannot move to opset 13 are listed', () => {
    const model = opset9Model();
    model.proto.graph!.node.push(makeNode('Upsample', ['y', 'scales'], ['up'], 'up'));
    expectErrorSync(
      () => upgradeOpset(cloneModel(model), 13),
      OnnxError,
      'ERR_ONNX',
      'Expected operators that can move from opset 9 to 13 in <old> but received up (Upsample was replaced by Resize, whose coordinate rules differ)',
    );
  });
});
