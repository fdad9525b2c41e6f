/**
 * Types that carry a model's dtypes from `InferenceSession.create(model, { signature })` to `run()`:
 *
 *   const session = await InferenceSession.create('mlp.onnx', { signature: { inputs: { x: 'float32' }, outputs: { y: 'float32' } } });
 *   const { y } = await session.run({ x: { data: new Float32Array(16), shape: [1, 16] } }); // y.data: Float32Array
 *   await session.run({ x: { data: new Float64Array(16), shape: [1, 16] } });              // compile error
 *
 * The signature is a value, so create() checks it against the model (./signature.ts) and a wrong
 * name or dtype fails there; run() still checks every feed at run time (ERR_DTYPE, ERR_SHAPE).
 */
import type { DType, Float16ArrayLike, HostTensor, TypedArrayFor } from '../core/dtypes.js';
import type { Tensor } from '../cuda/tensor.js';

/** Input and output dtypes by name, known statically. */
export interface ModelSignature {
  inputs: Record<string, DType>;
  outputs: Record<string, DType>;
}

/** The signature of a model whose types are only known at run time. */
export interface AnySignature extends ModelSignature {
  inputs: Record<string, DType>;
  outputs: Record<string, DType>;
}

/**
 * dtypes whose values plain JS numbers express unambiguously (float16 bits vs values is not).
 * @inline
 */
export type PlainNumberDType = 'float32' | 'float64' | 'int8' | 'uint8' | 'int32';

/** Plain JS values accepted for `D`, or never where they would be ambiguous. */
export type PlainValues<D extends DType> = D extends PlainNumberDType
  ? readonly number[]
  : D extends 'int64'
    ? readonly (bigint | number)[]
    : D extends 'bool'
      ? readonly boolean[]
      : never;

/**
 * A tensor of onnxruntime-node (`new ort.Tensor('float32', data, [1, 3])`), or anything with its
 * fields: `type` (the dtype), `data` (a TypedArray in CPU memory) and `dims` (the shape). Its data
 * is used in place, never copied; `type` is checked against the model at run time, as ort's `type`
 * is a union wider than one dtype.
 */
export interface TensorLike {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/**
 * One input value: a HostTensor, a Tensor of any location, `{ data, shape }` with the dtype's
 * TypedArray (or plain values where unambiguous), an onnxruntime-node Tensor ({@link TensorLike}),
 * or a bare TypedArray / plain array when the model's shape for it is fully static. float16 data
 * may also be a Float16Array (Node.js 24 on), read as its bits in place.
 */
export type FeedValue<D extends DType> =
  | HostTensor<D>
  | Tensor<D>
  | TensorLike
  | { data: TypedArrayFor<D>; shape: readonly number[]; dtype?: D }
  | TypedArrayFor<D>
  | (D extends 'float16' ? Float16ArrayLike | { data: Float16ArrayLike; shape: readonly number[]; dtype?: D } : never)
  | ([PlainValues<D>] extends [never] ? never : { data: PlainValues<D>; shape: readonly number[]; dtype?: D } | PlainValues<D>);

/**
 * The input names of a signature.
 * @inline
 */
export type InputName<S extends ModelSignature> = keyof S['inputs'] & string;
/**
 * The output names of a signature.
 * @inline
 */
export type OutputName<S extends ModelSignature> = keyof S['outputs'] & string;

/** Feeds for `run()`: every input of the signature. */
export type Feeds<S extends ModelSignature> = { [K in InputName<S>]: FeedValue<S['inputs'][K]> };

/** What `run()` resolves to: a HostTensor of the declared dtype per requested output. */
export type Results<S extends ModelSignature, O extends OutputName<S> = OutputName<S>> = {
  [K in O]: HostTensor<S['outputs'][K]>;
};

/** Options of `session.run()` and `batcher.run()`. */
export interface SessionRunOptions<O extends string = string> {
  /** Aborts the request: ERR_ABORTED, queued or executing. */
  signal?: AbortSignal;
  /** Deadline in ms from the call, queue time included: ERR_TIMEOUT (default: the session's timeoutMs). */
  timeoutMs?: number;
  /** Outputs to compute and return (default all). */
  outputs?: readonly O[];
}
