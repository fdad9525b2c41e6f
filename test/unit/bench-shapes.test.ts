// The shapes a bench point runs with: fixed dims from the model, --shape for other dynamic dims, the
// point's batch for a dynamic leading dim; and the error for each way this can go wrong.
import { describe, expect, it } from 'vitest';
import { ArgumentRangeError } from '../../lib/core/errors.js';
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

  it('BAD CALL - missing, mismatched and unknown --shape values, and a batch for a fixed leading dim: argument errors naming the flag', () => {
    expectErrorSync(
      () => benchShapes(detector, 1, undefined, 'det.onnx'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected --shape x:Nx3xNxN (each N a size; a dynamic leading dim follows --batch) for input "x" of det.onnx, whose dims [-1, 3, -1, -1] are dynamic beyond the batch dim, but received none',
    );
    expectErrorSync(
      () => benchShapes(detector, 1, { x: [1, 4, 320, 320] }, 'det.onnx'),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected --shape x:Nx3xNxN (each N a size) for input "x" of det.onnx [-1, 3, -1, -1] but received x:1x4x320x320',
    );
    expectErrorSync(
      () => benchShapes(detector, 1, { x: [1, 3, 320] }, 'det.onnx'),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected --shape x:Nx3xNxN (each N a size) for input "x" of det.onnx [-1, 3, -1, -1] but received x:1x3x320',
    );
    expectErrorSync(
      () => benchShapes(mlp, 1, { images: [1, 16] }, 'mlp.onnx'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected --shape for inputs of mlp.onnx ("x") but received "images"',
    );
    expectErrorSync(
      () => benchShapes(mlp, 1, { xx: [1, 16] }, 'mlp.onnx'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected --shape for inputs of mlp.onnx ("x") but received "xx" (did you mean "x"?)',
    );
    expectErrorSync(
      () => benchShapes([{ name: 'x', shape: [1, 16] }], 4, undefined, 'fixed.onnx'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected --batch 1 for fixed.onnx, whose input "x" has a fixed leading dim [1, 16], but received 4',
    );
  });
});
