import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineMetadata } from '../../lib/addon/types.js';
import { dtypes } from '../../lib/core/dtypes.js';
import { checkFeeds, checkOutputBindings, engineInputs, engineOutputs, unbindableTensors } from '../../lib/tensorrt/validation.js';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { expectErrorSync } from '../helpers/expect-error.js';

function fixture(name: string): EngineMetadata {
  return JSON.parse(readFileSync(join(packageRoot, 'test', 'fixtures', 'engine-metadata', `${name}.json`), 'utf8')) as EngineMetadata;
}

const detector = fixture('detector-dynamic-batch');
const text = fixture('text-two-inputs');
const image = (batch: number, extra: Partial<{ dtype: string; elementCount: number }> = {}) => ({ images: { dtype: 'float32', shape: [batch, 3, 640, 640], ...extra } });

describe('engine input validation against metadata', () => {
  it('accepts inputs inside the profile, in engine order', () => {
    expect(checkFeeds(detector, 0, image(1)).map((tensor) => tensor.name)).toEqual(['images']);
    expect(checkFeeds(detector, 0, image(32, { elementCount: 32 * 3 * 640 * 640 }))).toHaveLength(1);
    expect(checkFeeds(text, 0, { attention_mask: { dtype: 'int64', shape: [2, 7] }, input_ids: { dtype: 'int64', shape: [2, 7] } }).map((t) => t.name)).toEqual(['input_ids', 'attention_mask']);
    expect(engineInputs(detector).map((t) => t.name)).toEqual(['images']);
    expect(engineOutputs(detector).map((t) => t.name)).toEqual(['boxes', 'scores']);
  });

  it('BAD CALL - an unknown input name says which exist', () => {
    expectErrorSync(() => checkFeeds(detector, 0, { imgs: { dtype: 'float32', shape: [1, 3, 640, 640] } }), ArgumentRangeError, 'ERR_INVALID_ARGUMENT', 'Unknown input "imgs" (did you mean "images"?); the engine\'s inputs are: images');
  });

  it('BAD CALL - a missing input', () => {
    expectErrorSync(() => checkFeeds(text, 0, { input_ids: { dtype: 'int64', shape: [1, 4] } }), ArgumentRangeError, 'ERR_INVALID_ARGUMENT', 'Missing input "attention_mask"; the engine\'s inputs are: input_ids, attention_mask');
    expectErrorSync(() => checkFeeds(text, 0, {}), ArgumentRangeError, 'ERR_INVALID_ARGUMENT', 'Missing inputs "input_ids", "attention_mask"; the engine\'s inputs are: input_ids, attention_mask');
  });

  it('BAD CALL - an extra input is an unknown input', () => {
    expectErrorSync(() => checkFeeds(detector, 0, { ...image(1), extra: { dtype: 'float32', shape: [1] } }), ArgumentRangeError, 'ERR_INVALID_ARGUMENT', 'Unknown input "extra"; the engine\'s inputs are: images');
  });

  it('BAD CALL - wrong dtype', () => {
    expectErrorSync(() => checkFeeds(detector, 0, image(1, { dtype: 'float16' })), ArgumentTypeError, 'ERR_DTYPE', 'Expected float32 data for input "images" but received float16');
  });

  it('BAD CALL - wrong rank and wrong static dimension', () => {
    expectErrorSync(() => checkFeeds(detector, 0, { images: { dtype: 'float32', shape: [3, 640, 640] } }), ArgumentRangeError, 'ERR_SHAPE', 'Expected a shape of rank 4 for input "images" ([-1, 3, 640, 640]) but received [3, 640, 640]');
    expectErrorSync(() => checkFeeds(detector, 0, { images: { dtype: 'float32', shape: [1, 4, 640, 640] } }), ArgumentRangeError, 'ERR_SHAPE', 'Expected dimension 1 of input "images" to be 3 (engine shape [-1, 3, 640, 640]) but received [1, 4, 640, 640]');
  });

  it('BAD CALL - a shape outside the optimization profile says the bounds', () => {
    expectErrorSync(() => checkFeeds(detector, 0, image(64)), ArgumentRangeError, 'ERR_SHAPE', 'Shape [64, 3, 640, 640] of input "images" is outside optimization profile 0: dimension 0 must be between 1 and 32 (profile min [1, 3, 640, 640], max [32, 3, 640, 640])');
    expectErrorSync(() => checkFeeds(detector, 1, image(2)), ArgumentRangeError, 'ERR_SHAPE', 'Shape [2, 3, 640, 640] of input "images" is outside optimization profile 1: dimension 0 must be between 1 and 1 (profile min [1, 3, 640, 640], max [1, 3, 640, 640])');
    expectErrorSync(() => checkFeeds(text, 0, { input_ids: { dtype: 'int64', shape: [1, 513] }, attention_mask: { dtype: 'int64', shape: [1, 513] } }), ArgumentRangeError, 'ERR_SHAPE', /dimension 1 must be between 1 and 512/);
  });

  it('BAD CALL - zero-sized, negative, fractional and NaN dimensions', () => {
    expectErrorSync(() => checkFeeds(detector, 0, image(0)), ArgumentRangeError, 'ERR_SHAPE', /^Shape \[0, 3, 640, 640\] of input "images" is outside optimization profile 0: dimension 0 must be between 1 and 32/);
    expectErrorSync(() => checkFeeds(detector, 0, image(-1)), ArgumentRangeError, 'ERR_SHAPE', 'Expected a non-negative integer for dimension 0 of input "images" but received -1 of type number');
    expectErrorSync(() => checkFeeds(detector, 0, image(1.5)), ArgumentRangeError, 'ERR_SHAPE', 'Expected a non-negative integer for dimension 0 of input "images" but received 1.5 of type number');
    expectErrorSync(() => checkFeeds(detector, 0, image(NaN)), ArgumentRangeError, 'ERR_SHAPE', 'Expected a non-negative integer for dimension 0 of input "images" but received NaN of type number');
  });

  it('BAD CALL - element count that does not match the shape', () => {
    expectErrorSync(() => checkFeeds(detector, 0, image(1, { elementCount: 1000 })), ArgumentRangeError, 'ERR_SHAPE', 'Expected 1228800 elements for input "images" of shape [1, 3, 640, 640] but received 1000');
  });

  it('BAD CALL - a profile index that does not exist, and feeds that are not an object', () => {
    expectErrorSync(() => checkFeeds(detector, 2, image(1)), ArgumentRangeError, 'ERR_INVALID_ARGUMENT', 'Expected an optimization profile between 0 and 1 for profile but received 2 of type number');
    expectErrorSync(() => checkFeeds(detector, 0, null as never), ArgumentTypeError, 'ERR_INVALID_ARGUMENT', 'Expected an object mapping input names to tensors for feeds but received null');
  });
});

describe('outputs bound by the caller, against metadata', () => {
  const nonzero = fixture('nonzero-data-dependent');
  const pinned = (dtype: string, elementCount: number) => ({ dtype, elementCount, location: 'pinned' as const });

  it('accepts static outputs of the right dtype and size, and any size for data-dependent ones', () => {
    expect(checkOutputBindings(nonzero, { indices: pinned('int64', 1), y: pinned('float32', 6) }).map((t) => t.name)).toEqual(['y', 'indices']);
    expect(checkOutputBindings(detector, { scores: { dtype: 'float16', elementCount: 1, location: 'device' } })).toHaveLength(1);
    expect(checkOutputBindings(detector, {})).toEqual([]);
  });

  it('BAD CALL - an unknown output name says which exist', () => {
    expectErrorSync(() => checkOutputBindings(detector, { boxs: pinned('float32', 4) }), ArgumentRangeError, 'ERR_INVALID_ARGUMENT', 'Unknown output "boxs" (did you mean "boxes"?); the engine\'s outputs are: boxes, scores');
    expectErrorSync(() => checkOutputBindings(detector, { images: pinned('float32', 4) }), ArgumentRangeError, 'ERR_INVALID_ARGUMENT', 'Unknown output "images"; the engine\'s outputs are: boxes, scores');
  });

  it('BAD CALL - a tensor of another dtype', () => {
    expectErrorSync(() => checkOutputBindings(detector, { scores: pinned('float32', 1) }), ArgumentTypeError, 'ERR_DTYPE', 'Expected a float16 tensor for output "scores" but received a float32 tensor');
  });

  it('BAD CALL - a tensor whose size differs from a static output shape', () => {
    expectErrorSync(() => checkOutputBindings(nonzero, { y: pinned('float32', 5) }), ArgumentRangeError, 'ERR_SHAPE', 'Expected a tensor of 6 elements for output "y" (shape [2, 3]) but received a tensor of 5 elements');
  });

  it('BAD CALL - outputs that are not an object', () => {
    expectErrorSync(() => checkOutputBindings(detector, [] as never), ArgumentTypeError, 'ERR_INVALID_ARGUMENT', 'Expected an object mapping output names to tensors for options.outputTensors but received an array of length 0');
  });

  it('names the tensors tensorrt-node cannot bind', () => {
    expect(unbindableTensors(fixture('int4-weights-output'), dtypes)).toEqual([{ name: 'packed', reason: 'output "packed" has dtype int4, which tensorrt-node cannot bind' }]);
    expect(unbindableTensors(detector, dtypes)).toEqual([]);
  });
});
