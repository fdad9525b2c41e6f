// The shapes a bench point runs with: fixed dims from the model, --shape for other dynamic dims, the
// point's batch for a dynamic leading dim; and the error for each way this can go wrong.
import { describe, expect, it } from 'vitest';
import { TensorRTNodeError } from '../../lib/core/errors.js';
import { benchShapes } from '../../lib/bench/model-shapes.js';
import { expectErrorSync } from '../helpers/expect-error.js';

const detector = [{ name: 'x', shape: [-1, 3, -1, -1] }];
const mlp = [{ name: 'x', shape: [-1, 16] }];

describe('bench shapes', () => {
  it('fills a dynamic leading dim with the batch and other dynamic dims from --shape', () => {
    expect(benchShapes(mlp, 8, undefined, 'mlp.onnx')).toEqual({ x: [8, 16] });
    expect(benchShapes(detector, 4, { x: [1, 3, 320, 480] }, 'det.onnx')).toEqual({ x: [4, 3, 320, 480] });
    expect(benchShapes([{ name: 'x', shape: [1, 3, 224, 224] }], 1, undefined, 'fixed.onnx')).toEqual({ x: [1, 3, 224, 224] });
  });

  it('BAD CALL - missing, mismatched and unknown --shape values, and a batch for a fixed leading dim', () => {
    expectErrorSync(() => benchShapes(detector, 1, undefined, 'det.onnx'), TensorRTNodeError, 'ERR_NOT_SUPPORTED', 'Cannot benchmark det.onnx: input "x" [-1, 3, -1, -1] has dynamic dims beyond the batch dim; give their size with --shape x:Nx3xNxN');
    expectErrorSync(() => benchShapes(detector, 1, { x: [1, 4, 320, 320] }, 'det.onnx'), TensorRTNodeError, 'ERR_SHAPE', 'Expected --shape x:... matching [-1, 3, -1, -1] for det.onnx but received [1, 4, 320, 320]');
    expectErrorSync(() => benchShapes(detector, 1, { x: [1, 3, 320] }, 'det.onnx'), TensorRTNodeError, 'ERR_SHAPE', 'Expected --shape x:... matching [-1, 3, -1, -1] for det.onnx but received [1, 3, 320]');
    expectErrorSync(() => benchShapes(mlp, 1, { images: [1, 16] }, 'mlp.onnx'), TensorRTNodeError, 'ERR_INVALID_ARGUMENT', 'Expected --shape for inputs of mlp.onnx ("x") but received "images"');
    expectErrorSync(() => benchShapes([{ name: 'x', shape: [1, 16] }], 4, undefined, 'fixed.onnx'), TensorRTNodeError, 'ERR_NOT_SUPPORTED', 'Cannot benchmark fixed.onnx at batch 4: input "x" has a fixed leading dim [1, 16]');
  });
});
