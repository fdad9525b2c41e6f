/**
 * onnxruntime-node interop: what every onnxruntime-node user has is an `ort.Tensor` (`type`, `data`,
 * `dims`). Sessions take it as a feed with its data used in place, never copied; a wrong `type` or
 * a tensor on the GPU gets the usual typed errors.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import type { TensorInfo } from '../../lib/core/tensors.js';
import { normalizeFeeds } from '../../lib/session/feeds.js';
import { InferenceSession } from '../../lib/session/inference-session.js';
import type { FeedValue } from '../../lib/session/types.js';
import { expectError, expectErrorSync } from '../helpers/expect-error.js';
import { mlpModel } from '../helpers/onnx-fixtures.js';

const inputs: TensorInfo[] = [
  { name: 'x', dtype: 'float32', shape: [-1, 16] },
  { name: 'ids', dtype: 'int64', shape: [-1] },
];

describe('onnxruntime-node Tensors as feeds', () => {
  it('are used in place: the HostTensor the backend gets holds the very same TypedArray', () => {
    const x = new ort.Tensor('float32', new Float32Array(32), [2, 16]);
    const ids = new ort.Tensor('int64', new BigInt64Array([1n, 2n]), [2]);
    const feeds = normalizeFeeds(inputs, { x, ids }) as Record<
      string,
      { dtype: string; shape: readonly number[]; data: unknown }
    >;
    expect(feeds.x!.data).toBe(x.data);
    expect(feeds.x).toMatchObject({ dtype: 'float32', shape: [2, 16] });
    expect(feeds.ids!.data).toBe(ids.data);
    // Anything with the same fields works the same way.
    const lookalike = { type: 'float32', data: new Float32Array(16), dims: [1, 16] };
    expect((normalizeFeeds([inputs[0]!], { x: lookalike }) as Record<string, { data: unknown }>).x!.data).toBe(lookalike.data);
  });

  it('run a session: the same outputs as { data, shape } feeds', async () => {
    await using session = await InferenceSession.create(mlpModel(), { backend: 'cpu', cpu: { intraOpNumThreads: 1 } });
    const data = Float32Array.from({ length: 32 }, (_, index) => Math.sin(index));
    const fromOrt = await session.run({ x: new ort.Tensor('float32', data, [2, 16]) });
    const plain = await session.run({ x: { data, shape: [2, 16] } });
    expect(fromOrt.y!.shape).toEqual([2, 8]);
    expect(fromOrt.y!.data).toEqual(plain.y!.data);
    expect(Array.from(data.slice(0, 3))).toEqual([0, Math.fround(Math.sin(1)), Math.fround(Math.sin(2))]); // never modified
  });

  it('BAD CALL - a wrong type, wrong dims, data on the GPU', () => {
    expectErrorSync(
      () => normalizeFeeds([inputs[0]!], { x: new ort.Tensor('float64', new Float64Array(16), [1, 16]) }),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected dtype "float32" for input "x" but received a tensor of type "float64"',
    );
    expectErrorSync(
      () => normalizeFeeds([inputs[0]!], { x: new ort.Tensor('float32', new Float32Array(15), [1, 15]) }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 16 at dim 1 (model shape [-1, 16]) for input "x" but received [1, 15]',
    );
    const onGpu = {
      type: 'float32',
      dims: [1, 16],
      location: 'gpu-buffer',
      get data(): never {
        throw new Error('The data is not on CPU. Use `getData()` to download GPU data to CPU');
      },
    };
    expectErrorSync(
      () => normalizeFeeds([inputs[0]!], { x: onGpu }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a tensor in CPU memory for input "x" but received an onnxruntime Tensor at location "gpu-buffer"; read it to the CPU first (await tensor.getData())',
    );
  });

  it('type-check as feeds of any typed signature (their type is checked at run time)', () => {
    expectTypeOf<ort.Tensor>().toMatchTypeOf<FeedValue<'float32'>>();
    expectTypeOf<ort.Tensor>().toMatchTypeOf<FeedValue<'int64'>>();
  });
});

it('BAD CALL - a session refuses an ort.Tensor of another dtype with ERR_DTYPE', async () => {
  await using session = await InferenceSession.create(mlpModel(), { backend: 'cpu', cpu: { intraOpNumThreads: 1 } });
  await expectError(
    () => session.run({ x: new ort.Tensor('int32', new Int32Array(16), [1, 16]) }),
    ArgumentTypeError,
    'ERR_DTYPE',
    'Expected dtype "float32" for input "x" but received a tensor of type "int32"',
  );
});
