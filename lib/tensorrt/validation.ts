/**
 * Checks a run's inputs against an engine's metadata in TypeScript, before anything is enqueued:
 * names (saying which exist), missing and extra inputs, dtypes, ranks, static dimensions, the
 * optimization profile's bounds, and element counts. Native code re-checks cheaply.
 */
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../core/errors.js';
import type { EngineMetadata, EngineTensorInfo } from '../addon/types.js';
import { closestMatch, describeValue } from '../core/validate.js';

/** What validation needs to know about one input: its dtype, shape and, when known, element count. */
export interface FeedDescription {
  dtype: string;
  shape: readonly number[];
  /** Elements actually supplied (data length); checked against the shape when given. */
  elementCount?: number;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function engineInputs(metadata: EngineMetadata): EngineTensorInfo[] {
  return metadata.tensors.filter((tensor) => tensor.mode === 'input');
}

export function engineOutputs(metadata: EngineMetadata): EngineTensorInfo[] {
  return metadata.tensors.filter((tensor) => tensor.mode === 'output');
}

/** Throws unless `feeds` names exactly the engine's inputs. */
export function checkFeedNames(metadata: EngineMetadata, names: readonly string[]): void {
  const inputs = engineInputs(metadata).map((tensor) => tensor.name);
  for (const name of names) {
    if (inputs.includes(name)) continue;
    const hint = closestMatch(name, inputs);
    throw new ArgumentRangeError(
      `Unknown input ${JSON.stringify(name)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}; the engine's inputs are: ${inputs.join(', ')}`,
      ErrorCode.INVALID_ARGUMENT,
      { details: { input: name, inputs } },
    );
  }
  const missing = inputs.filter((name) => !names.includes(name));
  if (missing.length > 0) {
    throw new ArgumentRangeError(`Missing input${missing.length > 1 ? 's' : ''} ${missing.map((name) => JSON.stringify(name)).join(', ')}; the engine's inputs are: ${inputs.join(', ')}`, ErrorCode.INVALID_ARGUMENT, {
      details: { missing, inputs },
    });
  }
}

/** Throws unless `feed` fits input `tensor` under optimization profile `profileIndex`. */
export function checkFeed(metadata: EngineMetadata, profileIndex: number, tensor: EngineTensorInfo, feed: FeedDescription): void {
  const label = `input ${JSON.stringify(tensor.name)}`;
  if (feed.dtype !== tensor.dtype) {
    throw new ArgumentTypeError(`Expected ${tensor.dtype} data for ${label} but received ${feed.dtype}`, ErrorCode.DTYPE);
  }
  const shape = feed.shape;
  if (!Array.isArray(shape)) throw new ArgumentTypeError(`Expected an array of dimensions for the shape of ${label} but received ${describeValue(shape)}`, ErrorCode.SHAPE);
  if (shape.length !== tensor.shape.length) {
    throw new ArgumentRangeError(`Expected a shape of rank ${tensor.shape.length} for ${label} (${formatShape(tensor.shape)}) but received ${formatShape(shape)}`, ErrorCode.SHAPE);
  }
  shape.forEach((dim, axis) => {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new ArgumentRangeError(`Expected a non-negative integer for dimension ${axis} of ${label} but received ${describeValue(dim)}`, ErrorCode.SHAPE);
    }
    const fixed = tensor.shape[axis]!;
    if (fixed >= 0 && dim !== fixed) {
      throw new ArgumentRangeError(`Expected dimension ${axis} of ${label} to be ${fixed} (engine shape ${formatShape(tensor.shape)}) but received ${formatShape(shape)}`, ErrorCode.SHAPE);
    }
  });
  const bounds = metadata.profiles[profileIndex]?.inputs[tensor.name];
  if (bounds) {
    shape.forEach((dim, axis) => {
      const min = bounds.min[axis]!;
      const max = bounds.max[axis]!;
      if (dim < min || dim > max) {
        throw new ArgumentRangeError(
          `Shape ${formatShape(shape)} of ${label} is outside optimization profile ${profileIndex}: dimension ${axis} must be between ${min} and ${max} (profile min ${formatShape(bounds.min)}, max ${formatShape(bounds.max)})`,
          ErrorCode.SHAPE,
          { details: { input: tensor.name, profile: profileIndex, min: bounds.min, opt: bounds.opt, max: bounds.max } },
        );
      }
    });
  }
  if (feed.elementCount !== undefined) {
    const expected = shape.reduce((product, dim) => product * dim, 1);
    if (feed.elementCount !== expected) {
      throw new ArgumentRangeError(`Expected ${expected} elements for ${label} of shape ${formatShape(shape)} but received ${feed.elementCount}`, ErrorCode.SHAPE);
    }
  }
}

/** Validates every feed of a run; returns the inputs in engine order. */
export function checkFeeds(metadata: EngineMetadata, profileIndex: number, feeds: Readonly<Record<string, FeedDescription>>): EngineTensorInfo[] {
  if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds)) {
    throw new ArgumentTypeError(`Expected an object mapping input names to tensors for feeds but received ${describeValue(feeds)}`);
  }
  if (!Number.isSafeInteger(profileIndex) || profileIndex < 0 || (metadata.profiles.length > 0 && profileIndex >= metadata.profiles.length)) {
    throw new ArgumentRangeError(`Expected an optimization profile between 0 and ${Math.max(0, metadata.profiles.length - 1)} for profile but received ${describeValue(profileIndex)}`);
  }
  checkFeedNames(metadata, Object.keys(feeds));
  const inputs = engineInputs(metadata);
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
export function checkOutputBindings(metadata: EngineMetadata, outputs: Readonly<Record<string, OutputBindingDescription>>): EngineTensorInfo[] {
  if (typeof outputs !== 'object' || outputs === null || Array.isArray(outputs)) {
    throw new ArgumentTypeError(`Expected an object mapping output names to tensors for options.outputTensors but received ${describeValue(outputs)}`);
  }
  const names = engineOutputs(metadata).map((tensor) => tensor.name);
  for (const name of Object.keys(outputs)) {
    if (names.includes(name)) continue;
    const hint = closestMatch(name, names);
    throw new ArgumentRangeError(
      `Unknown output ${JSON.stringify(name)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}; the engine's outputs are: ${names.join(', ')}`,
      ErrorCode.INVALID_ARGUMENT,
      { details: { output: name, outputs: names } },
    );
  }
  const bound = engineOutputs(metadata).filter((tensor) => Object.hasOwn(outputs, tensor.name));
  for (const tensor of bound) {
    const binding = outputs[tensor.name]!;
    const label = `output ${JSON.stringify(tensor.name)}`;
    if (binding.dtype !== tensor.dtype) {
      throw new ArgumentTypeError(`Expected a ${tensor.dtype} tensor for ${label} but received a ${binding.dtype} tensor`, ErrorCode.DTYPE);
    }
    if (tensor.location === 'host' && binding.location === 'device') {
      throw new ArgumentTypeError(`Expected a host or pinned tensor for ${label} (TensorRT writes it on the host) but received a device tensor`);
    }
    if (tensor.shape.every((dim) => dim >= 0)) {
      const expected = tensor.shape.reduce((product, dim) => product * dim, 1);
      if (binding.elementCount !== expected) {
        throw new ArgumentRangeError(`Expected a tensor of ${expected} elements for ${label} (shape ${formatShape(tensor.shape)}) but received a tensor of ${binding.elementCount} elements`, ErrorCode.SHAPE);
      }
    }
  }
  return bound;
}

/** The I/O tensors tensorrt-node cannot bind (sub-byte types such as int4 and fp4), with why. */
export function unbindableTensors(metadata: EngineMetadata, bindable: readonly string[]): { name: string; reason: string }[] {
  return metadata.tensors
    .filter((tensor) => !bindable.includes(tensor.dtype))
    .map((tensor) => ({ name: tensor.name, reason: `${tensor.mode} ${JSON.stringify(tensor.name)} has dtype ${tensor.dtype}, which tensorrt-node cannot bind` }));
}
