/**
 * Checks a run's inputs against an engine's metadata in TypeScript, before anything is enqueued,
 * with the checks and messages every backend uses (core/feeds.ts: names, dtypes, ranks, fixed dims,
 * element counts), plus what only an engine knows: the bounds of its optimization profiles. Native
 * code re-checks cheaply.
 */
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../core/errors.js';
import type { EngineMetadata, EngineTensorInfo } from '../addon/types.js';
import {
  checkDType,
  checkElementCount,
  checkFeedNames,
  checkOutputName,
  checkShape,
  formatShape,
  inputLabel,
  tensorOfDType,
  type SuppliedData,
} from '../core/feeds.js';
import { describeValue } from '../core/validate.js';

/** What validation needs to know about one input: its dtype, shape and, when known, its data. */
export interface FeedDescription {
  dtype: string;
  shape: readonly number[];
  /** The data supplied, checked against the shape when given. */
  data?: SuppliedData;
  /** A Tensor's dtype is named as such in messages. */
  fromTensor?: boolean;
}

export function engineInputs(metadata: EngineMetadata): EngineTensorInfo[] {
  return metadata.tensors.filter((tensor) => tensor.mode === 'input');
}

export function engineOutputs(metadata: EngineMetadata): EngineTensorInfo[] {
  return metadata.tensors.filter((tensor) => tensor.mode === 'output');
}

/** Throws unless `shape` lies within optimization profile `profileIndex` (inputs without bounds are static). */
function checkProfileBounds(
  metadata: EngineMetadata,
  profileIndex: number,
  tensor: EngineTensorInfo,
  shape: readonly number[],
  label: string,
): void {
  const bounds = metadata.profiles[profileIndex]?.inputs[tensor.name];
  if (!bounds) return;
  shape.forEach((dim, axis) => {
    const min = bounds.min[axis]!;
    const max = bounds.max[axis]!;
    if (dim < min || dim > max) {
      throw new ArgumentRangeError(
        `Expected between ${min} and ${max} at dim ${axis} (optimization profile ${profileIndex}: min ${formatShape(bounds.min)}, max ${formatShape(bounds.max)}) for ${label} but received ${formatShape(shape)}`,
        ErrorCode.SHAPE,
        { details: { input: tensor.name, profile: profileIndex, min: bounds.min, opt: bounds.opt, max: bounds.max } },
      );
    }
  });
}

/** Throws unless `feed` fits input `tensor` under optimization profile `profileIndex`. */
export function checkFeed(metadata: EngineMetadata, profileIndex: number, tensor: EngineTensorInfo, feed: FeedDescription): void {
  const label = inputLabel(tensor);
  checkDType(tensor, feed.dtype, label, feed.fromTensor ? tensorOfDType(feed.dtype) : undefined);
  const count = checkShape(tensor, feed.shape, label);
  checkProfileBounds(metadata, profileIndex, tensor, feed.shape, label);
  if (feed.data !== undefined) checkElementCount(count, feed.shape, feed.data, label);
}

/** Validates every feed of a run; returns the inputs in engine order. */
export function checkFeeds(
  metadata: EngineMetadata,
  profileIndex: number,
  feeds: Readonly<Record<string, FeedDescription>>,
): EngineTensorInfo[] {
  const inputs = engineInputs(metadata);
  checkFeedNames(inputs, feeds);
  if (
    !Number.isSafeInteger(profileIndex) ||
    profileIndex < 0 ||
    (metadata.profiles.length > 0 && profileIndex >= metadata.profiles.length)
  ) {
    throw new ArgumentRangeError(
      `Expected an optimization profile between 0 and ${Math.max(0, metadata.profiles.length - 1)} for profile but received ${describeValue(profileIndex)}`,
    );
  }
  for (const tensor of inputs) checkFeed(metadata, profileIndex, tensor, feeds[tensor.name]!);
  return inputs;
}

/** What validation needs to know about a tensor the caller binds as an output. */
export interface OutputBindingDescription {
  dtype: string;
  elementCount: number;
  location: 'host' | 'pinned' | 'device';
}

/**
 * Throws unless `outputs` binds only outputs of the engine, with their dtype, and (for outputs
 * whose shape the engine fixes) exactly their element count. Outputs whose shape depends on the
 * inputs or on the data are checked natively once the run knows their shape. Returns the bound
 * outputs in engine order.
 */
export function checkOutputBindings(
  metadata: EngineMetadata,
  outputs: Readonly<Record<string, OutputBindingDescription>>,
): EngineTensorInfo[] {
  if (typeof outputs !== 'object' || outputs === null || Array.isArray(outputs)) {
    throw new ArgumentTypeError(
      `Expected an object mapping output names to tensors for options.outputTensors but received ${describeValue(outputs)}`,
    );
  }
  const all = engineOutputs(metadata);
  for (const name of Object.keys(outputs)) checkOutputName(all, name, 'options.outputTensors');
  const bound = all.filter((tensor) => Object.hasOwn(outputs, tensor.name));
  for (const tensor of bound) {
    const binding = outputs[tensor.name]!;
    const label = `output ${JSON.stringify(tensor.name)}`;
    checkDType(tensor, binding.dtype, label, tensorOfDType(binding.dtype));
    if (tensor.location === 'host' && binding.location === 'device') {
      throw new ArgumentTypeError(
        `Expected a host or pinned tensor for ${label} (TensorRT writes it on the host) but received a device tensor`,
      );
    }
    if (tensor.shape.every((dim) => dim >= 0)) {
      checkElementCount(
        tensor.shape.reduce((product, dim) => product * dim, 1),
        tensor.shape,
        { kind: 'Tensor', elements: binding.elementCount },
        label,
      );
    }
  }
  return bound;
}

/** The I/O tensors tensorrt-node cannot bind (sub-byte types such as int4 and fp4), with why. */
export function unbindableTensors(metadata: EngineMetadata, bindable: readonly string[]): { name: string; reason: string }[] {
  return metadata.tensors
    .filter((tensor) => !bindable.includes(tensor.dtype))
    .map((tensor) => ({
      name: tensor.name,
      reason: `${tensor.mode} ${JSON.stringify(tensor.name)} has dtype ${tensor.dtype}, which tensorrt-node cannot bind`,
    }));
}
