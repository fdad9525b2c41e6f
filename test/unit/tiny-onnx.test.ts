// The ONNX bytes the GPU tier builds engines from are checked here, without a GPU: onnxruntime-node
// (the cpu backend's runtime) loads them and computes what the JavaScript references compute.
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { affineModel, nonZeroModel, randomFloats } from '../helpers/tiny-onnx.mjs';

describe('tiny ONNX models for engine tests', () => {
  it('the affine model (dynamic batch, two outputs) is valid ONNX and matches its CPU reference', async () => {
    const model = affineModel();
    const session = await InferenceSession.create(model.bytes);
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y', 'z']);
    for (const batch of [1, 3]) {
      const x = randomFloats(batch * 4, batch);
      const result = await session.run({ x: new OrtTensor('float32', x, [batch, 4]) });
      const expected = model.reference(x, batch);
      expect(result.y!.dims).toEqual([batch, 3]);
      expect(result.z!.dims).toEqual([batch, 4]);
      (result.y!.data as Float32Array).forEach((value, i) => expect(value).toBeCloseTo(expected.y[i]!, 5));
      (result.z!.data as Float32Array).forEach((value, i) => expect(value).toBeCloseTo(expected.z[i]!, 6));
    }
    expect(model.reference(new Float32Array(4), 1).y.some((value) => value > 0)).toBe(true); // the bias alone survives relu
    await session.release();
  });

  it('the NonZero model has a data-dependent output shape and matches its CPU reference', async () => {
    const model = nonZeroModel();
    const session = await InferenceSession.create(model.bytes);
    const x = Float32Array.from([0, 1.5, 0, -2, 3, 0, 0, 4]);
    const result = await session.run({ x: new OrtTensor('float32', x, [2, 4]) });
    const expected = model.reference(x);
    expect(expected.nnz).toBe(4);
    expect(result.indices!.dims).toEqual([2, 4]);
    expect(result.indices!.data).toEqual(expected.indices);
    expect(result.y!.data).toEqual(expected.y);
    await session.release();
  });
});
