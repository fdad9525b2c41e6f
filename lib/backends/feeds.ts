/**
 * Validation of feeds and requested outputs against a backend's TensorInfo, shared by every backend
 * so that bad input gets the same class, code and message whichever backend runs the model.
 */
import { checkTypedArray, elementCount, isDType, type HostTensor } from '../core/dtypes.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../core/errors.js';
import { closestMatch, describeValue } from '../core/validate.js';
import type { TensorInfo, TensorMap } from '../core/tensors.js';

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function nameList(infos: readonly TensorInfo[]): string {
  return infos.map((info) => JSON.stringify(info.name)).join(', ');
}

/**
 * `input "x"` (with `context` before it) for messages. Feeds are checked on every request, so the
 * context-free labels are made once per TensorInfo rather than per call.
 */
const inputLabels = new WeakMap<TensorInfo, string>();
export function inputLabel(info: TensorInfo, context = ''): string {
  if (context !== '') return `${context}input ${JSON.stringify(info.name)}`;
  let label = inputLabels.get(info);
  if (label === undefined) inputLabels.set(info, (label = `input ${JSON.stringify(info.name)}`));
  return label;
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
  for (let axis = 0; axis < dims.length; axis++) {
    const expected = info.shape[axis]!;
    if (expected >= 0 && dims[axis] !== expected) {
      throw new ArgumentRangeError(`Expected ${expected} at dim ${axis} (model shape ${formatShape(info.shape)}) for ${label} but received ${formatShape(dims)}`, ErrorCode.SHAPE);
    }
  }
  checkTypedArray(info.dtype, data, label);
  const length = (data as { length: number }).length;
  if (length !== count) {
    throw new ArgumentRangeError(`Expected ${count} elements (shape ${formatShape(dims)}) for ${label} but received a ${(data as object).constructor.name} of length ${length}`, ErrorCode.SHAPE);
  }
  return tensor as HostTensor;
}

/** Checks that `feeds` is an object whose every key names an input of the model (with a did-you-mean). */
export function checkFeedNames(inputs: readonly TensorInfo[], feeds: unknown, context = ''): asserts feeds is Record<string, unknown> {
  if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds) || ArrayBuffer.isView(feeds)) {
    throw new ArgumentTypeError(`Expected an object mapping input names to tensors for ${context}feeds but received ${describeValue(feeds)}`);
  }
  for (const name in feeds) {
    if (!Object.hasOwn(feeds, name) || inputs.some((info) => info.name === name)) continue;
    const hint = closestMatch(
      name,
      inputs.map((info) => info.name),
    );
    throw new ArgumentRangeError(
      `Expected only input names of the model (${nameList(inputs)}) in ${context}feeds but received ${JSON.stringify(name)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`,
    );
  }
}

/** Checks every input of the model is in `feeds` (already known to hold no other names) with the right dtype and shape. */
export function validateInputs(inputs: readonly TensorInfo[], feeds: Record<string, unknown>, context = ''): TensorMap {
  for (const info of inputs) {
    const label = inputLabel(info, context);
    const tensor = feeds[info.name];
    if (tensor === undefined) throw new ArgumentTypeError(`Expected a tensor for ${label} in feeds but received undefined`);
    validateTensor(info, tensor, label);
  }
  return feeds as TensorMap;
}

/**
 * Checks that `feeds` holds exactly the model's inputs with the right dtypes and shapes; `context`
 * prefixes names in messages (e.g. `calibration sample 3 `).
 */
export function validateFeeds(inputs: readonly TensorInfo[], feeds: unknown, context = ''): TensorMap {
  checkFeedNames(inputs, feeds, context);
  return validateInputs(inputs, feeds, context);
}

/** The default of options.outputs (every output, in model order), one frozen list per model. */
const allOutputNames = new WeakMap<readonly TensorInfo[], readonly string[]>();

/** Checks `options.outputs` and returns the names to compute (default: all, the same frozen list every call). */
export function validateOutputNames(outputs: readonly TensorInfo[], requested: unknown): readonly string[] {
  if (requested === undefined) {
    let all = allOutputNames.get(outputs);
    if (all === undefined) allOutputNames.set(outputs, (all = Object.freeze(outputs.map((info) => info.name))));
    return all;
  }
  const known = outputs.map((info) => info.name);
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
