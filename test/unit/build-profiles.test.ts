import { describe, expect, it } from 'vitest';
import { parseShapeFlags, resolveProfiles } from '../../lib/builder/profiles.js';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import type { TensorSummary } from '../../lib/onnx/inspect.js';
import { expectErrorSync } from '../helpers/expect-error.js';

const detector: TensorSummary[] = [{ name: 'images', dtype: 'float32', shape: ['batch', 3, 'height', 'width'] }];
const text: TensorSummary[] = [
  { name: 'ids', dtype: 'int64', shape: ['batch', 'sequence'] },
  { name: 'mask', dtype: 'int64', shape: ['batch', 'sequence'] },
];
const fixed: TensorSummary[] = [{ name: 'x', dtype: 'float32', shape: [1, 16] }];
const bounds = { min: [1, 3, 320, 320], opt: [4, 3, 640, 640], max: [8, 3, 960, 960] };

describe('build profiles', () => {
  it('turns one or several profiles into the native form', () => {
    expect(resolveProfiles({ images: bounds }, detector, 'det.onnx')).toEqual([[{ input: 'images', ...bounds }]]);
    expect(
      resolveProfiles(
        [{ images: bounds }, { images: { min: [1, 3, 320, 320], opt: [1, 3, 320, 320], max: [1, 3, 320, 320] } }],
        detector,
        'det.onnx',
      ),
    ).toHaveLength(2);
    expect(resolveProfiles(undefined, fixed, 'mlp.onnx')).toEqual([]);
  });

  it('BAD CALL - a dynamic model without profiles says which inputs need bounds', () => {
    expectErrorSync(
      () => resolveProfiles(undefined, detector, 'det.onnx'),
      ArgumentRangeError,
      'ERR_SHAPE',
      'det.onnx has dynamic input "images" [batch, 3, height, width]: give options.profiles with min/opt/max shapes, e.g. { "images": { min: [...], opt: [...], max: [...] } }',
    );
  });

  it('BAD CALL - a profile that forgets a dynamic input, or names an unknown one', () => {
    expectErrorSync(
      () => resolveProfiles({ ids: { min: [1, 1], opt: [1, 8], max: [4, 64] } }, text, 'bert.onnx'),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected bounds for every dynamic input in options.profiles but received none for "mask" [batch, sequence]',
    );
    expectErrorSync(
      () => resolveProfiles({ image: bounds }, detector, 'det.onnx'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected only input names of the model ("images") in options.profiles but received "image" (did you mean "images"?)',
    );
  });

  it('BAD CALL - min > opt, wrong rank, a fixed dim contradicted, negative dims', () => {
    expectErrorSync(
      () => resolveProfiles({ images: { ...bounds, min: [16, 3, 320, 320] } }, detector, 'det.onnx'),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected min <= opt <= max in every dimension of options.profiles.images but dimension 0 has min 16, opt 4, max 8',
    );
    expectErrorSync(
      () => resolveProfiles({ images: { ...bounds, max: [8, 3, 960] } }, detector, 'det.onnx'),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 4 dimensions for options.profiles.images.max (input shape [batch, 3, height, width]) but received [8, 3, 960]',
    );
    expectErrorSync(
      () => resolveProfiles({ images: { ...bounds, opt: [4, 1, 640, 640] } }, detector, 'det.onnx'),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected dimension 1 of options.profiles.images.opt to be 3, as the model fixes it (input shape [batch, 3, height, width]), but received [4, 1, 640, 640]',
    );
    expectErrorSync(
      () => resolveProfiles({ images: { ...bounds, min: [-1, 3, 320, 320] } }, detector, 'det.onnx'),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a non-negative integer for options.profiles.images.min[0] but received -1 of type number',
    );
    expectErrorSync(
      () => resolveProfiles({ images: { ...bounds, opt: 'big' } }, detector, 'det.onnx'),
      ArgumentTypeError,
      'ERR_SHAPE',
      'Expected an array of dimensions for options.profiles.images.opt but received "big" of type string',
    );
    expectErrorSync(
      () => resolveProfiles([42], detector, 'det.onnx'),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an object mapping input names to { min, opt, max } for options.profiles[0] but received 42 of type number',
    );
  });

  it('parses the CLI form input:min/opt/max (the one --shape grammar), or one shape as a profile of that shape', () => {
    expect(parseShapeFlags(['images:1x3x320x320/4x3x640x640/8x3x960x960'])).toEqual({ images: bounds });
    expect(parseShapeFlags(['images:1x3x320x320'])).toEqual({
      images: { min: [1, 3, 320, 320], opt: [1, 3, 320, 320], max: [1, 3, 320, 320] },
    });
    expectErrorSync(
      () => parseShapeFlags(['images:1x3/4x3']),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected NAME:DIMxDIM... or NAME:MIN/OPT/MAX (e.g. x:1x3x320x320, or x:1x3x320x320/4x3x640x640/8x3x960x960) for --shape but received "images:1x3/4x3"',
    );
  });
});
