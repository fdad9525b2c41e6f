// What ExecutionContext.run() hands to native code, and every bad input it refuses first. Host
// tensors and TypedArrays need neither the addon nor a GPU; pinned and device tensors are covered
// by test/gpu.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineMetadata } from '../../lib/addon/types.js';
import { ArgumentRangeError, ArgumentTypeError, TensorRTNodeError } from '../../lib/core/errors.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { prepareBindings } from '../../lib/tensorrt/bindings.js';
import { Tensor } from '../../lib/cuda/tensor.js';
import { expectErrorSync } from '../helpers/expect-error.js';

function fixture(name: string): EngineMetadata {
  return JSON.parse(
    readFileSync(join(packageRoot, 'test', 'fixtures', 'engine-metadata', `${name}.json`), 'utf8'),
  ) as EngineMetadata;
}

const text = fixture('text-two-inputs');
const nonzero = fixture('nonzero-data-dependent');
const ids = (batch: number, length: number) => ({ data: new BigInt64Array(batch * length), shape: [batch, length] });

describe('run inputs', () => {
  it('resolves { data, shape }, bare TypedArrays and host tensors in engine order, with tensor indices', async () => {
    const mask = await Tensor.fromArray(new BigInt64Array(6), { shape: [2, 3] });
    const prepared = prepareBindings(text, 0, 0, { attention_mask: mask, input_ids: ids(2, 3) }, undefined);
    expect(prepared.inputs.map((input) => [input.tensor, input.shape])).toEqual([
      [0, [2, 3]],
      [1, [2, 3]],
    ]);
    expect(prepared.inputs[1]!.memory).toBe(mask.data); // a host tensor's own array: the one copy happens natively
    expect(prepared.outputs).toEqual([]);

    const x = new Float32Array(8);
    const staticShape = prepareBindings(nonzero, 0, 0, { x }, undefined);
    expect(staticShape.inputs).toEqual([{ tensor: 0, shape: [2, 4], memory: x }]);
  });

  it("accepts an explicit dtype equal to the engine's, and float16 data in a Uint16Array", () => {
    expect(
      prepareBindings(text, 0, 0, { input_ids: { ...ids(1, 4), dtype: 'int64' }, attention_mask: ids(1, 4) }, undefined).inputs,
    ).toHaveLength(2);
    const half = fixture('int4-weights-output');
    expect(prepareBindings(half, 0, 0, { x: new Uint16Array(64) }, undefined).inputs[0]!.shape).toEqual([1, 64]);
  });

  it('BAD CALL - inputs that are not an object of names', () => {
    expectErrorSync(
      () => prepareBindings(nonzero, 0, 0, new Float32Array(8), undefined),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an object mapping input names to tensors for inputs but received a Float32Array of length 8',
    );
    expectErrorSync(
      () => prepareBindings(nonzero, 0, 0, null, undefined),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an object mapping input names to tensors for inputs but received null',
    );
  });

  it('BAD CALL - wrong input names say which exist; missing and extra inputs', () => {
    expectErrorSync(
      () => prepareBindings(text, 0, 0, { input_id: ids(1, 4), attention_mask: ids(1, 4) }, undefined),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected only input names of the model ("input_ids", "attention_mask") in inputs but received "input_id" (did you mean "input_ids"?)',
    );
    expectErrorSync(
      () => prepareBindings(text, 0, 0, { input_ids: ids(1, 4) }, undefined),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a tensor for every input of the model ("input_ids", "attention_mask") in inputs but received none for "attention_mask"',
    );
    expectErrorSync(
      () => prepareBindings(nonzero, 0, 0, { x: new Float32Array(8), extra: new Float32Array(6) }, undefined),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected only input names of the model ("x") in inputs but received "extra"',
    );
  });

  it('BAD CALL - wrong dtype: another TypedArray, another declared dtype, another tensor dtype', async () => {
    expectErrorSync(
      () => prepareBindings(nonzero, 0, 0, { x: new Float64Array(8) }, undefined),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a Float32Array for input "x" (float32) but received a Float64Array of length 8',
    );
    expectErrorSync(
      () =>
        prepareBindings(
          text,
          0,
          0,
          { input_ids: { data: new Int32Array(4), shape: [1, 4] }, attention_mask: ids(1, 4) },
          undefined,
        ),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a BigInt64Array for input "input_ids" (int64) but received an Int32Array of length 4',
    );
    expectErrorSync(
      () => prepareBindings(text, 0, 0, { input_ids: { ...ids(1, 4), dtype: 'int32' }, attention_mask: ids(1, 4) }, undefined),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected dtype "int64" for input "input_ids" but received "int32" of type string',
    );
    const wrongTensor = await Tensor.fromArray(new Int32Array(4), { shape: [1, 4] });
    expectErrorSync(
      () => prepareBindings(text, 0, 0, { input_ids: wrongTensor, attention_mask: ids(1, 4) }, undefined),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected dtype "int64" for input "input_ids" but received a Tensor of dtype "int32"',
    );
  });

  it('BAD CALL - a bare TypedArray for a dynamic input, and something that is no tensor at all', () => {
    expectErrorSync(
      () => prepareBindings(text, 0, 0, { input_ids: new BigInt64Array(4), attention_mask: ids(1, 4) }, undefined),
      ArgumentTypeError,
      'ERR_SHAPE',
      'Expected a Tensor or { data, shape } for input "input_ids", whose model shape [-1, -1] has dynamic dims, but received a BigInt64Array of length 4 without a shape',
    );
    expectErrorSync(
      () => prepareBindings(nonzero, 0, 0, { x: [1, 2, 3] }, undefined),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a Tensor, a TypedArray or { data, shape } for input "x" but received an array of length 3',
    );
    expectErrorSync(
      () => prepareBindings(nonzero, 0, 0, { x: { data: [1], shape: [1] } }, undefined),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a Float32Array for input "x" (float32) but received an array of length 1',
    );
  });

  it('BAD CALL - wrong element count, shapes outside the profile (with the bounds) and zero-sized dims', () => {
    expectErrorSync(
      () =>
        prepareBindings(
          text,
          0,
          0,
          { input_ids: { data: new BigInt64Array(5), shape: [1, 4] }, attention_mask: ids(1, 4) },
          undefined,
        ),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 4 elements (shape [1, 4]) for input "input_ids" but received a BigInt64Array of length 5',
    );
    expectErrorSync(
      () => prepareBindings(text, 0, 0, { input_ids: ids(17, 4), attention_mask: ids(17, 4) }, undefined),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected between 1 and 16 at dim 0 (optimization profile 0: min [1, 1], max [16, 512]) for input "input_ids" but received [17, 4]',
    );
    expectErrorSync(
      () => prepareBindings(text, 0, 0, { input_ids: ids(0, 4), attention_mask: ids(0, 4) }, undefined),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected between 1 and 16 at dim 0 (optimization profile 0: min [1, 1], max [16, 512]) for input "input_ids" but received [0, 4]',
    );
    expectErrorSync(
      () => prepareBindings(nonzero, 0, 0, { x: new Float32Array(7) }, undefined),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 8 elements (shape [2, 4]) for input "x" but received a Float32Array of length 7',
    );
  });

  it('BAD CALL - a disposed tensor', async () => {
    const x = await Tensor.fromArray(new Float32Array(8), { shape: [2, 4] });
    x.dispose();
    expectErrorSync(
      () => prepareBindings(nonzero, 0, 0, { x }, undefined),
      TensorRTNodeError,
      'ERR_DISPOSED',
      'Tensor input "x" was disposed and can no longer be used',
    );
  });
});

describe('outputs bound by the caller', () => {
  const x = new Float32Array(8);

  it('resolves bound outputs in engine order and remembers which tensor each one is', () => {
    const y = Tensor.allocate('float32', [2, 3]);
    const indices = Tensor.allocate('int64', [2, 8]);
    const prepared = prepareBindings(nonzero, 0, 0, { x }, { indices, y });
    expect(prepared.outputs).toEqual([
      { tensor: 1, memory: y.data },
      { tensor: 2, memory: indices.data },
    ]);
    expect([...prepared.bound.entries()]).toEqual([
      [1, { name: 'y', tensor: y }],
      [2, { name: 'indices', tensor: indices }],
    ]);
  });

  it('BAD CALL - unknown outputs, non-tensors, wrong dtype or size, and one tensor for an input and an output', async () => {
    expectErrorSync(
      () => prepareBindings(nonzero, 0, 0, { x }, { scores: Tensor.allocate('float32', [6]) }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected only output names of the model ("y", "indices") in options.outputTensors but received "scores"',
    );
    expectErrorSync(
      () => prepareBindings(nonzero, 0, 0, { x }, { y: new Float32Array(6) }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a Tensor for options.outputTensors["y"] but received a Float32Array of length 6',
    );
    expectErrorSync(
      () => prepareBindings(nonzero, 0, 0, { x }, { indices: Tensor.allocate('int32', [8]) }),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected dtype "int64" for output "indices" but received a Tensor of dtype "int32"',
    );
    expectErrorSync(
      () => prepareBindings(nonzero, 0, 0, { x }, { y: Tensor.allocate('float32', [7]) }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 6 elements (shape [2, 3]) for output "y" but received a Tensor of 7 elements',
    );
    expectErrorSync(
      () => prepareBindings(nonzero, 0, 0, { x }, 'y'),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an object mapping output names to tensors for options.outputTensors but received "y" of type string',
    );
    const shared = await Tensor.fromArray(new Float32Array(6), { shape: [6] });
    const selfAliased = fixture('nonzero-data-dependent');
    selfAliased.tensors[0]!.shape = [6];
    expectErrorSync(
      () => prepareBindings(selfAliased, 0, 0, { x: shared }, { y: shared }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected distinct tensors for input "x" and output "y" but received the same tensor for both',
    );
  });
});
