/**
 * Tensors as plain data, shared by every layer: what a model's input or output is (TensorInfo) and a
 * set of host tensors by name (TensorMap: feeds, results, calibration samples, batch records).
 */
import type { DType, HostTensor } from './dtypes.js';

/** One input or output of a model (name, dtype, shape). */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: DType;
  /** One entry per dim; -1 where the dim is dynamic. */
  readonly shape: readonly number[];
  /** Symbolic names of the dims where the model gives them (null elsewhere); absent when it gives none. */
  readonly dimNames?: readonly (string | null)[];
}

/** Feeds or results: tensor name to tensor. */
export type TensorMap = Record<string, HostTensor>;
