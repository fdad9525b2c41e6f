/**
 * Checks a run's inputs against an engine's metadata in TypeScript, before anything is enqueued:
 * names (saying which exist), missing and extra inputs, dtypes, ranks, static dimensions, the
 * optimization profile's bounds, and element counts. Native code re-checks cheaply.
 */
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from './errors.js';
import type { EngineMetadata, EngineTensorInfo } from './engine-metadata.js';
import { closestMatch, describeValue } from './validate.js';

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
