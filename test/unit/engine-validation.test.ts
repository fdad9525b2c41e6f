import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineMetadata } from '../../lib/addon/types.js';
import { dtypes } from '../../lib/core/dtypes.js';
import {
  checkFeeds,
  checkOutputBindings,
  engineInputs,
  engineOutputs,
  unbindableTensors,
} from '../../lib/tensorrt/validation.js';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { expectErrorSync } from '../helpers/expect-error.js';

function fixture(name: string): EngineMetadata {
  return JSON.parse(
    readFileSync(join(packageRoot, 'test', 'fixtures', 'engine-metadata', `${name}.json`), 'utf8'),
  ) as EngineMetadata;
}

const detector = fixture('detector-dynamic-batch');
const text = fixture('text-two-inputs');
const image = (batch: number, extra: Partial<{ dtype: string; data: { kind: string; elements: number } }> = {}) => ({
  images: { dtype: 'float32', shape: [batch, 3, 640, 640], ...extra },
});

describe('engine input validation against metadata', () => {
  it('accepts inputs inside the profile, in engine order', () => {
    expect(checkFeeds(detector, 0, image(1)).map((tensor) => tensor.name)).toEqual(['images']);
    expect(checkFeeds(detector, 0, image(32, { data: { kind: 'Float32Array', elements: 32 * 3 * 640 * 640 } }))).toHaveLength(1);
    expect(
      checkFeeds(text, 0, {
        attention_mask: { dtype: 'int64', shape: [2, 7] },
        input_ids: { dtype: 'int64', shape: [2, 7] },
      }).map((t) => t.name),
    ).toEqual(['input_ids', 'attention_mask']);
    expect(engineInputs(detector).map((t) => t.name)).toEqual(['images']);
    expect(engineOutputs(detector).map((t) => t.name)).toEqual(['boxes', 'scores']);
  });

  it('BAD CALL - an unknown input name says which exist', () => {
    expectErrorSync(
      () => checkFeeds(detector, 0, { imgs: { dtype: 'float32', shape: [1, 3, 640, 640] } }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected only input names of the model ("images") in feeds but received "imgs" (did you mean "images"?)',
    );
  });

  it('BAD CALL - a missing input', () => {
    expectErrorSync(
      () => checkFeeds(text, 0, { input_ids: { dtype: 'int64', shape: [1, 4] } }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a tensor for every input of the model ("input_ids", "attention_mask") in feeds but received none for "attention_mask"',
    );
    expectErrorSync(
      () => checkFeeds(text, 0, {}),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a tensor for every input of the model ("input_ids", "attention_mask") in feeds but received none for "input_ids", "attention_mask"',
    );
  });

  it('BAD CALL - an extra input is an unknown input', () => {
    expectErrorSync(
      () => checkFeeds(detector, 0, { ...image(1), extra: { dtype: 'float32', shape: [1] } }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected only input names of the model ("images") in feeds but received "extra"',
    );
  });

  it('BAD CALL - wrong dtype', () => {
    expectErrorSync(
      () => checkFeeds(detector, 0, image(1, { dtype: 'float16' })),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected dtype "float32" for input "images" but received "float16" of type string',
    );
  });

  it('BAD CALL - wrong rank and wrong static dimension', () => {
    expectErrorSync(
      () => checkFeeds(detector, 0, { images: { dtype: 'float32', shape: [3, 640, 640] } }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a shape of rank 4 (model shape [-1, 3, 640, 640]) for input "images" but received [3, 640, 640]',
    );
    expectErrorSync(
      () => checkFeeds(detector, 0, { images: { dtype: 'float32', shape: [1, 4, 640, 640] } }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 3 at dim 1 (model shape [-1, 3, 640, 640]) for input "images" but received [1, 4, 640, 640]',
    );
  });

  it('BAD CALL - a shape outside the optimization profile says the bounds', () => {
    expectErrorSync(
      () => checkFeeds(detector, 0, image(64)),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected between 1 and 32 at dim 0 (optimization profile 0: min [1, 3, 640, 640], max [32, 3, 640, 640]) for input "images" but received [64, 3, 640, 640]',
    );
    expectErrorSync(
      () => checkFeeds(detector, 1, image(2)),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected between 1 and 1 at dim 0 (optimization profile 1: min [1, 3, 640, 640], max [1, 3, 640, 640]) for input "images" but received [2, 3, 640, 640]',
    );
    expectErrorSync(
      () =>
        checkFeeds(text, 0, {
          input_ids: { dtype: 'int64', shape: [1, 513] },
          attention_mask: { dtype: 'int64', shape: [1, 513] },
        }),
      ArgumentRangeError,
      'ERR_SHAPE',
      /^Expected between 1 and 512 at dim 1 \(optimization profile 0: /,
    );
  });

  it('BAD CALL - zero-sized, negative, fractional and NaN dimensions', () => {
    expectErrorSync(
      () => checkFeeds(detector, 0, image(0)),
      ArgumentRangeError,
      'ERR_SHAPE',
      /^Expected between 1 and 32 at dim 0 \(optimization profile 0: .*\) for input "images" but received \[0, 3, 640, 640\]$/,
    );
    expectErrorSync(
      () => checkFeeds(detector, 0, image(-1)),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a non-negative integer at dim 0 for input "images" but received -1 of type number',
    );
    expectErrorSync(
      () => checkFeeds(detector, 0, image(1.5)),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a non-negative integer at dim 0 for input "images" but received 1.5 of type number',
    );
    expectErrorSync(
      () => checkFeeds(detector, 0, image(NaN)),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected a non-negative integer at dim 0 for input "images" but received NaN of type number',
    );
  });

  it('BAD CALL - element count that does not match the shape', () => {
    expectErrorSync(
      () => checkFeeds(detector, 0, image(1, { data: { kind: 'Float32Array', elements: 1000 } })),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 1228800 elements (shape [1, 3, 640, 640]) for input "images" but received a Float32Array of length 1000',
    );
    expectErrorSync(
      () => checkFeeds(detector, 0, image(1, { data: { kind: 'Tensor', elements: 1000 } })),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 1228800 elements (shape [1, 3, 640, 640]) for input "images" but received a Tensor of 1000 elements',
    );
  });

  it('BAD CALL - a profile index that does not exist, and feeds that are not an object', () => {
    expectErrorSync(
      () => checkFeeds(detector, 2, image(1)),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an optimization profile between 0 and 1 for profile but received 2 of type number',
    );
    expectErrorSync(
      () => checkFeeds(detector, 0, null as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an object mapping input names to tensors for feeds but received null',
    );
  });
});

describe('outputs bound by the caller, against metadata', () => {
  const nonzero = fixture('nonzero-data-dependent');
  const pinned = (dtype: string, elementCount: number) => ({ dtype, elementCount, location: 'pinned' as const });

  it('accepts static outputs of the right dtype and size, and any size for data-dependent ones', () => {
    expect(checkOutputBindings(nonzero, { indices: pinned('int64', 1), y: pinned('float32', 6) }).map((t) => t.name)).toEqual([
      'y',
      'indices',
    ]);
    expect(checkOutputBindings(detector, { scores: { dtype: 'float16', elementCount: 1, location: 'device' } })).toHaveLength(1);
    expect(checkOutputBindings(detector, {})).toEqual([]);
  });

  it('BAD CALL - an unknown output name says which exist', () => {
    expectErrorSync(
      () => checkOutputBindings(detector, { boxs: pinned('float32', 4) }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected only output names of the model ("boxes", "scores") in options.outputTensors but received "boxs" (did you mean "boxes"?)',
    );
    expectErrorSync(
      () => checkOutputBindings(detector, { images: pinned('float32', 4) }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected only output names of the model ("boxes", "scores") in options.outputTensors but received "images"',
    );
  });

  it('BAD CALL - a tensor of another dtype', () => {
    expectErrorSync(
      () => checkOutputBindings(detector, { scores: pinned('float32', 1) }),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected dtype "float16" for output "scores" but received a Tensor of dtype "float32"',
    );
  });

  it('BAD CALL - a tensor whose size differs from a static output shape', () => {
    expectErrorSync(
      () => checkOutputBindings(nonzero, { y: pinned('float32', 5) }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 6 elements (shape [2, 3]) for output "y" but received a Tensor of 5 elements',
    );
  });

  it('BAD CALL - outputs that are not an object', () => {
    expectErrorSync(
      () => checkOutputBindings(detector, [] as never),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an object mapping output names to tensors for options.outputTensors but received an array of length 0',
    );
  });

  it('names the tensors tensorrt-node cannot bind', () => {
    expect(unbindableTensors(fixture('int4-weights-output'), dtypes)).toEqual([
      { name: 'packed', reason: 'output "packed" has dtype int4, which tensorrt-node cannot bind' },
    ]);
    expect(unbindableTensors(detector, dtypes)).toEqual([]);
  });
});
