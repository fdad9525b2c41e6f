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

/**
 * `map[name] = value` as an own, enumerable property, also for the name "__proto__", which plain
 * assignment would turn into a change of the object's prototype (the tensor silently lost). A model
 * may name its inputs and outputs anything, so every map keyed by tensor names is filled with this.
 */
export function setEntry<T>(map: Record<string, T>, name: string, value: T): void {
  if (name === '__proto__') Object.defineProperty(map, name, { value, enumerable: true, writable: true, configurable: true });
  else map[name] = value;
}
