/**
 * Validation of feeds and requested outputs against a backend's TensorInfo, shared by every backend
 * so that bad input gets the same class, code and message whichever backend runs the model.
 */
import { checkTypedArray, elementCount, isDType, type HostTensor } from '../dtypes.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../errors.js';
import { closestMatch, describeValue } from '../validate.js';
import type { TensorInfo, TensorMap } from './backend.js';

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function nameList(infos: readonly TensorInfo[]): string {
  return infos.map((info) => JSON.stringify(info.name)).join(', ');
}

/** Checks one tensor against its description; `label` names it in messages (`input "x"`). */
export function validateTensor(info: TensorInfo, tensor: unknown, label: string): HostTensor {
  if (typeof tensor !== 'object' || tensor === null || Array.isArray(tensor) || ArrayBuffer.isView(tensor)) {
    throw new ArgumentTypeError(`Expected a tensor ({ dtype, shape, data }) for ${label} but received ${describeValue(tensor)}`);
  }
  const { dtype, shape, data } = tensor as Partial<HostTensor>;
  if (!isDType(dtype) || dtype !== info.dtype) {
    throw new ArgumentTypeError(`Expected dtype ${JSON.stringify(info.dtype)} for ${label} but received ${describeValue(dtype)}`, ErrorCode.DTYPE);
  }
  const count = elementCount(shape as number[], `shape of ${label}`);
  const dims = shape as number[];
  if (dims.length !== info.shape.length) {
    throw new ArgumentRangeError(`Expected a shape of rank ${info.shape.length} ${formatShape(info.shape)} for ${label} but received ${formatShape(dims)}`, ErrorCode.SHAPE);
  }
  info.shape.forEach((expected, axis) => {
    if (expected >= 0 && dims[axis] !== expected) {
      throw new ArgumentRangeError(`Expected ${expected} at dim ${axis} (model shape ${formatShape(info.shape)}) for ${label} but received ${formatShape(dims)}`, ErrorCode.SHAPE);
    }
  });
  checkTypedArray(info.dtype, data, label);
  const length = (data as { length: number }).length;
  if (length !== count) {
    throw new ArgumentRangeError(`Expected ${count} elements (shape ${formatShape(dims)}) for ${label} but received a ${(data as object).constructor.name} of length ${length}`, ErrorCode.SHAPE);
  }
  return tensor as HostTensor;
}

/**
 * Checks that `feeds` holds exactly the model's inputs with the right dtypes and shapes; `context`
 * prefixes names in messages (e.g. `calibration sample 3 `).
 */
export function validateFeeds(inputs: readonly TensorInfo[], feeds: unknown, context = ''): TensorMap {
  if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds) || ArrayBuffer.isView(feeds)) {
    throw new ArgumentTypeError(`Expected an object mapping input names to tensors for ${context}feeds but received ${describeValue(feeds)}`);
  }
  const known = inputs.map((info) => info.name);
  for (const name of Object.keys(feeds)) {
    if (known.includes(name)) continue;
    const hint = closestMatch(name, known);
    throw new ArgumentRangeError(
      `Expected only input names of the model (${nameList(inputs)}) in ${context}feeds but received ${JSON.stringify(name)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`,
    );
  }
  for (const info of inputs) {
    const tensor = (feeds as Record<string, unknown>)[info.name];
    if (tensor === undefined) throw new ArgumentTypeError(`Expected a tensor for ${context}input ${JSON.stringify(info.name)} in feeds but received undefined`);
    validateTensor(info, tensor, `${context}input ${JSON.stringify(info.name)}`);
  }
  return feeds as TensorMap;
}

/** Checks `options.outputs` and returns the names to compute (default: all). */
export function validateOutputNames(outputs: readonly TensorInfo[], requested: unknown): string[] {
  const known = outputs.map((info) => info.name);
  if (requested === undefined) return known;
  if (!Array.isArray(requested)) throw new ArgumentTypeError(`Expected an array of output names for options.outputs but received ${describeValue(requested)}`);
  if (requested.length === 0) throw new ArgumentRangeError('Expected at least one output name for options.outputs but received an empty array');
  const seen = new Set<string>();
  for (const name of requested) {
    if (typeof name !== 'string') throw new ArgumentTypeError(`Expected an output name for options.outputs but received ${describeValue(name)}`);
    if (!known.includes(name)) {
      const hint = closestMatch(name, known);
      throw new ArgumentRangeError(`Expected an output name of the model (${nameList(outputs)}) for options.outputs but received ${JSON.stringify(name)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`);
    }
    seen.add(name);
  }
  return [...seen];
}
