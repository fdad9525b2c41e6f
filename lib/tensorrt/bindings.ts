/**
 * Turns what a caller passes to ExecutionContext.run() into what the addon takes, validating
 * everything first against the engine's metadata (engine-validation.ts): nothing reaches native
 * code, let alone the GPU, before the whole run is known to be well-formed.
 *
 * Inputs, by name:
 *   - a Tensor: host (its array is copied once into pinned staging), pinned (H2D straight from it)
 *     or device (bound as it is, no copy at all);
 *   - { data, shape, dtype? }: a TypedArray with its shape (dtype defaults to the engine's);
 *   - a bare TypedArray, for inputs whose engine shape is fully static.
 * Outputs the caller binds (options.outputTensors): Tensors of any location; TensorRT writes device
 * tensors in place, pinned ones get the D2H copy directly, host ones are filled from staging.
 */
import { checkTypedArray, type AnyTypedArray, type DType, type Float16ArrayLike } from '../core/dtypes.js';
import type { EngineMetadata, EngineTensorInfo } from '../addon/types.js';
import { checkDType, checkFeedNames, feedsTypeError, staticShapeFor } from '../core/feeds.js';
import { checkFeed, checkOutputBindings, engineInputs, type FeedDescription } from './validation.js';
import { ArgumentRangeError, ArgumentTypeError } from '../core/errors.js';
import type { NativeRunInput, NativeRunOutput } from '../addon/types.js';
import { expectTensor, nativeMemoryOf, Tensor } from '../cuda/tensor.js';
import { describeValue, invalidType } from '../core/validate.js';

/**
 * A run's input: a Tensor, a TypedArray with its shape, or a bare TypedArray for static shapes. A
 * Float16Array (Node.js 24 on) is taken for a float16 input, read in place as its bits.
 */
export type ContextFeed =
  Tensor | { data: AnyTypedArray | Float16ArrayLike; shape: readonly number[]; dtype?: DType } | AnyTypedArray | Float16ArrayLike;
/** The inputs of one `ExecutionContext.run`, by name. */
export type ContextFeeds = Readonly<Record<string, ContextFeed>>;

export interface PreparedBindings {
  inputs: NativeRunInput[];
  outputs: NativeRunOutput[];
  /** Bound outputs by engine tensor index, for the result. */
  bound: Map<number, { name: string; tensor: Tensor }>;
}

function label(tensor: EngineTensorInfo): string {
  return `${tensor.mode} ${JSON.stringify(tensor.name)}`;
}

function isTypedArray(value: unknown): value is AnyTypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

function checkDevice(tensor: Tensor, info: EngineTensorInfo, device: number): void {
  if (tensor.location !== 'device') return;
  if (info.location === 'host') {
    throw new ArgumentTypeError(
      `Expected a host or pinned tensor for ${label(info)} (TensorRT reads it on the host) but received a device tensor`,
    );
  }
  if (tensor.device !== device) {
    throw new ArgumentRangeError(
      `Expected a tensor on device ${device} (the engine's device) for ${label(info)} but received a tensor on device ${tensor.device}`,
    );
  }
}

/** Validates one input's form and resolves its memory; `feed` is what validation.ts checks against the engine. */
function describeInput(
  value: unknown,
  info: EngineTensorInfo,
  device: number,
): { feed: FeedDescription; memory: NativeRunInput['memory']; tensor: Tensor | null } {
  const name = label(info);
  if (value instanceof Tensor) {
    const memory = nativeMemoryOf(value, name);
    checkDevice(value, info, device);
    return {
      feed: { dtype: value.dtype, shape: value.shape, data: { kind: 'Tensor', elements: value.elementCount }, fromTensor: true },
      memory,
      tensor: value,
    };
  }
  if (isTypedArray(value)) {
    const shape = staticShapeFor(info, name, value);
    const data = checkTypedArray(info.dtype as DType, value, name);
    return {
      feed: { dtype: info.dtype, shape, data: { kind: data.constructor.name, elements: data.length } },
      memory: data,
      tensor: null,
    };
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'data' in value) {
    const { data, shape, dtype } = value as { data: unknown; shape: unknown; dtype?: unknown };
    if (dtype !== undefined) checkDType(info, dtype, name);
    const array = checkTypedArray(info.dtype as DType, data, name);
    return {
      feed: {
        dtype: info.dtype,
        shape: shape as readonly number[],
        data: { kind: array.constructor.name, elements: array.length },
      },
      memory: array,
      tensor: null,
    };
  }
  throw invalidType('a Tensor, a TypedArray or { data, shape }', name, value);
}

/** Validates a run's inputs (and bound outputs) against `metadata` and resolves their memory. */
export function prepareBindings(
  metadata: EngineMetadata,
  profile: number,
  device: number,
  inputs: unknown,
  outputs: unknown,
): PreparedBindings {
  if (inputs instanceof Tensor) throw feedsTypeError(inputs, { name: 'inputs' });
  const feeds = inputs;
  checkFeedNames(engineInputs(metadata), feeds, { name: 'inputs' });
  const prepared: PreparedBindings = { inputs: [], outputs: [], bound: new Map() };
  const usedTensors = new Map<Tensor, string>();
  for (const info of engineInputs(metadata)) {
    const { feed, memory, tensor } = describeInput(feeds[info.name], info, device);
    checkFeed(metadata, profile, info, feed);
    if (tensor) usedTensors.set(tensor, label(info));
    prepared.inputs.push({ tensor: metadata.tensors.indexOf(info), shape: [...feed.shape], memory });
  }
  if (outputs === undefined) return prepared;

  if (typeof outputs !== 'object' || outputs === null || Array.isArray(outputs)) {
    throw new ArgumentTypeError(
      `Expected an object mapping output names to tensors for options.outputTensors but received ${describeValue(outputs)}`,
    );
  }
  const given = outputs as Record<string, unknown>;
  const descriptions: Record<string, { dtype: string; elementCount: number; location: Tensor['location'] }> = {};
  for (const [name, value] of Object.entries(given)) {
    const tensor = expectTensor(value, `options.outputTensors[${JSON.stringify(name)}]`);
    descriptions[name] = { dtype: tensor.dtype, elementCount: tensor.elementCount, location: tensor.location };
  }
  for (const info of checkOutputBindings(metadata, descriptions)) {
    const tensor = given[info.name] as Tensor;
    const memory = nativeMemoryOf(tensor, label(info));
    checkDevice(tensor, info, device);
    const other = usedTensors.get(tensor);
    if (other)
      throw new ArgumentRangeError(
        `Expected distinct tensors for ${other} and ${label(info)} but received the same tensor for both`,
      );
    usedTensors.set(tensor, label(info));
    const index = metadata.tensors.indexOf(info);
    prepared.outputs.push({ tensor: index, memory });
    prepared.bound.set(index, { name: info.name, tensor });
  }
  return prepared;
}
