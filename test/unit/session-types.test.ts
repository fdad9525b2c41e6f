/**
 * Compile-time checks (tsc runs over test/ in `npm run lint`): a signature given to
 * InferenceSession.create() (options.signature) types run()'s feeds and results. The `@ts-expect-error` lines are
 * the point: each must be a type error, or tsc fails on the unused directive.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { Float16ArrayLike, HostTensor } from '../../lib/core/dtypes.js';
import { InferenceSession } from '../../lib/session/index.js';
import type { Batcher, Binding, ModelSignature } from '../../lib/session/index.js';
import { Tensor } from '../../lib/cuda/tensor.js';

type Mlp = { inputs: { x: 'float32'; ids: 'int64' }; outputs: { y: 'float32'; labels: 'int32' } };

describe('InferenceSession types', () => {
  it('feeds demand the declared TypedArray; results carry the declared dtypes', () => {
    const typed = async (session: InferenceSession<Mlp>) => {
      const results = await session.run({
        x: { data: new Float32Array(16), shape: [1, 16] },
        ids: { data: new BigInt64Array(1), shape: [1] },
      });
      expectTypeOf(results.y).toEqualTypeOf<HostTensor<'float32'>>();
      expectTypeOf(results.y.data).toEqualTypeOf<Float32Array>();
      expectTypeOf(results.labels.data).toEqualTypeOf<Int32Array>();
      const onlyY = await session.run({ x: new Float32Array(16), ids: [1n] }, { outputs: ['y'] });
      expectTypeOf(onlyY).toEqualTypeOf<{ y: HostTensor<'float32'> }>();
      // Plain arrays where the dtype is unambiguous, Tensors of the declared dtype.
      await session.run({ x: { data: [1, 2, 3], shape: [1, 3] }, ids: [1, 2n] });
      await session.run({ x: {} as Tensor<'float32'>, ids: {} as Tensor<'int64'> });

      // @ts-expect-error a Float64Array for a float32 input
      await session.run({ x: { data: new Float64Array(16), shape: [1, 16] }, ids: [1n] });
      // @ts-expect-error a missing input
      await session.run({ x: new Float32Array(16) });
      // @ts-expect-error an unknown input
      await session.run({ x: new Float32Array(16), ids: [1n], extra: new Float32Array(1) });
      // @ts-expect-error a float16 Tensor for a float32 input
      await session.run({ x: {} as Tensor<'float16'>, ids: [1n] });
      // @ts-expect-error an unknown output name
      await session.run({ x: new Float32Array(16), ids: [1n] }, { outputs: ['z'] });
    };
    expectTypeOf(typed).toBeFunction();
  });

  it('batchers and bindings carry the same types', () => {
    const typed = async (batcher: Batcher<Mlp>, binding: Binding<Mlp>) => {
      expectTypeOf((await batcher.run({ x: new Float32Array(16), ids: [1n] })).labels.data).toEqualTypeOf<Int32Array>();
      expectTypeOf(binding.inputs.x).toEqualTypeOf<Tensor<'float32'>>();
      expectTypeOf(binding.outputs.labels.data).toEqualTypeOf<Int32Array>();
      await (batcher as unknown as Batcher<{ inputs: { h: 'float16' }; outputs: { y: 'float32' } }>).run({
        // @ts-expect-error plain numbers are ambiguous for float16 and refused at compile time too
        h: { data: [1, 2], shape: [2] },
      });
      // A Float16Array (Node.js 24 on; typed here by its shape, Float16ArrayLike) is float16 data, and only that.
      const halves = {} as Float16ArrayLike;
      const half = batcher as unknown as Batcher<{ inputs: { h: 'float16' }; outputs: { y: 'float32' } }>;
      await half.run({ h: halves });
      await half.run({ h: { data: halves, shape: [2] } });
      // @ts-expect-error a Float16Array for a float32 input
      await batcher.run({ x: halves, ids: [1n] });
      expectTypeOf(await Tensor.fromArray(halves)).toEqualTypeOf<Tensor<'float16'>>();
    };
    expectTypeOf(typed).toBeFunction();
  });

  it('options.signature types the session: create() infers it from the value it also checks against the model', () => {
    const typed = async () => {
      const session = await InferenceSession.create('mlp.onnx', {
        signature: { inputs: { x: 'float32', ids: 'int64' }, outputs: { y: 'float32' } },
      });
      const { y } = await session.run({ x: new Float32Array(16), ids: [1n] });
      expectTypeOf(y.data).toEqualTypeOf<Float32Array>();
      // A signature declared once, as a value, serves create() and the functions that take the session.
      const scorer = { inputs: { x: 'float32' }, outputs: { y: 'float32' } } as const satisfies ModelSignature;
      const take = (s: InferenceSession<typeof scorer>) => s;
      take(await InferenceSession.create('scorer.onnx', { signature: scorer, backend: 'cpu' }));
      // @ts-expect-error an unknown output name, as with an explicit type
      await session.run({ x: new Float32Array(16), ids: [1n] }, { outputs: ['z'] });
      // @ts-expect-error a dtype that does not exist
      await InferenceSession.create('mlp.onnx', { signature: { inputs: { x: 'float23' }, outputs: {} } });
      // @ts-expect-error a type argument alone cannot be checked against the model: give the signature as a value
      await InferenceSession.create<Mlp>('mlp.onnx');
    };
    expectTypeOf(typed).toBeFunction();
  });

  it('without a signature, any input name and dtype type-checks (checked at run time)', () => {
    const untyped = async (session: InferenceSession) => {
      const results = await session.run({ anything: { data: new Float64Array(1), shape: [1] } });
      expectTypeOf(results).toEqualTypeOf<{ [name: string]: HostTensor }>();
    };
    expectTypeOf(untyped).toBeFunction();
  });
});
