/**
 * Calibration data: where the samples come from (an iterable of feeds, a folder of .npy/.json
 * tensors, or generated data) and their validation against the model's inputs.
 */
import type { TensorInfo, TensorMap } from '../core/tensors.js';
import type { InputShapes } from '../core/shape-spec.js';
import { validateFeeds } from '../core/feeds.js';
import { allocateTypedArray, float32ToFloat16Bits, type HostTensor } from '../core/dtypes.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../core/errors.js';
import {
  closestMatch,
  describeValue,
  expectInteger,
  expectNumber,
  expectOptions,
  rejectUnknownOptions,
} from '../core/validate.js';
import { readSamplesFolder } from '../onnx/feeds-folder.js';
import { createRandom } from '../onnx/random.js';

/** Generated samples: `count` feeds of seeded uniform values in [low, high) (integers for integer inputs). */
export interface RandomCalibration {
  random: number;
  seed?: number;
  low?: number;
  high?: number;
}

/** Any of: feeds objects (sync or async iterable), a folder path, or generated data. */
export type CalibrationSource = Iterable<TensorMap> | AsyncIterable<TensorMap> | string | RandomCalibration;

/**
 * What a shapes error is about, for callers that name the option otherwise (the CLI's `--shape`):
 * `option` is always 'shapes'; `problem` is missing, mismatch or not-positive-integers.
 */
function shapeDetails(
  problem: 'missing' | 'mismatch' | 'not-positive-integers',
  input: TensorInfo,
  received: unknown,
): Record<string, unknown> {
  return {
    option: 'shapes',
    problem,
    input: input.name,
    modelShape: [...input.shape],
    ...(received === undefined ? {} : { received }),
  };
}

/** Checks that every name in `shapes` is an input of the model (a misspelt name would otherwise be ignored). */
function checkShapeNames(inputs: readonly TensorInfo[], shapes: InputShapes | undefined, where: string): void {
  for (const name of Object.keys(shapes ?? {})) {
    if (inputs.some((input) => input.name === name)) continue;
    const error = new ArgumentRangeError(
      `Expected only input names of the model (${inputs.map((input) => JSON.stringify(input.name)).join(', ')}) in ${where} but received ${JSON.stringify(name)}`,
      ErrorCode.INVALID_ARGUMENT,
      {
        details: { option: 'shapes', problem: 'unknown-input', input: name, inputs: inputs.map((input) => input.name) },
      },
    );
    const hint = closestMatch(
      name,
      inputs.map((input) => input.name),
    );
    if (hint) error.message += ` (did you mean ${JSON.stringify(hint)}?)`;
    throw error;
  }
}

/** The shape of `input` with dynamic dims taken from `shapes` (required when any dim is dynamic). */
export function concreteShape(input: TensorInfo, shapes: InputShapes | undefined, context: string): number[] {
  const given = shapes?.[input.name];
  if (given !== undefined) {
    if (!Array.isArray(given) || given.some((dim) => !Number.isSafeInteger(dim) || dim < 1)) {
      throw new ArgumentTypeError(
        `Expected an array of positive integers for shapes["${input.name}"] but received ${describeValue(given)}`,
        ErrorCode.INVALID_ARGUMENT,
        {
          details: shapeDetails('not-positive-integers', input, given),
        },
      );
    }
    if (given.length !== input.shape.length || given.some((dim, axis) => input.shape[axis]! >= 0 && input.shape[axis] !== dim)) {
      throw new ArgumentRangeError(
        `Expected a shape matching [${input.shape.join(', ')}] for shapes["${input.name}"] but received [${given.join(', ')}]`,
        ErrorCode.SHAPE,
        { details: shapeDetails('mismatch', input, given) },
      );
    }
    return [...given];
  }
  if (input.shape.some((dim) => dim < 0)) {
    throw new ArgumentRangeError(
      `Expected a concrete shape for input "${input.name}" in ${context} (its dims are [${input.shape.join(', ')}]) but received none; pass ${context}: { "${input.name}": [...] }`,
      ErrorCode.INVALID_ARGUMENT,
      {
        details: shapeDetails('missing', input, undefined),
      },
    );
  }
  return [...input.shape];
}

/** Seeded feeds for `inputs`. */
export function* generateFeeds(
  inputs: readonly TensorInfo[],
  options: RandomCalibration,
  shapes?: InputShapes,
): Generator<TensorMap> {
  checkShapeNames(inputs, shapes, 'options.shapes');
  const random = createRandom(options.seed ?? 1);
  const low = options.low ?? -1;
  const high = options.high ?? 1;
  for (let sample = 0; sample < options.random; sample++) {
    const feeds: TensorMap = {};
    for (const input of inputs) {
      const shape = concreteShape(input, shapes, 'options.shapes');
      const count = shape.reduce((product, dim) => product * dim, 1);
      const data = allocateTypedArray(input.dtype, count);
      for (let index = 0; index < count; index++) {
        const value = random.uniform(low, high);
        if (input.dtype === 'float32' || input.dtype === 'float64') (data as Float32Array)[index] = value;
        else if (input.dtype === 'float16') (data as Uint16Array)[index] = float32ToFloat16Bits(value);
        else if (input.dtype === 'bool') (data as Uint8Array)[index] = value >= (low + high) / 2 ? 1 : 0;
        else if (input.dtype === 'int64') (data as BigInt64Array)[index] = BigInt(Math.floor(value));
        else (data as Int32Array)[index] = Math.floor(value);
      }
      feeds[input.name] = { dtype: input.dtype, shape, data } as HostTensor;
    }
    yield feeds;
  }
}

function isRandom(source: unknown): source is RandomCalibration {
  return (
    typeof source === 'object' &&
    source !== null &&
    'random' in source &&
    !(Symbol.iterator in source) &&
    !(Symbol.asyncIterator in source)
  );
}

/** Checks the form of a calibration source (not its samples) so that errors come before any work. */
export function checkCalibrationSource(source: unknown, name: string): CalibrationSource {
  if (typeof source === 'string') {
    if (source.length === 0)
      throw new ArgumentTypeError(
        `Expected a folder path, feeds or { random: N } for ${name} but received ${describeValue(source)}`,
      );
    return source;
  }
  if (isRandom(source)) {
    const options = expectOptions<RandomCalibration>(source, name);
    rejectUnknownOptions(options, ['random', 'seed', 'low', 'high'], name);
    expectInteger(options.random, `${name}.random`, { min: 0 });
    if (options.random === 0)
      throw new ArgumentRangeError(`Expected at least one calibration sample for ${name}.random but received 0`);
    if (options.seed !== undefined) expectInteger(options.seed, `${name}.seed`);
    const low = options.low === undefined ? -1 : expectNumber(options.low, `${name}.low`);
    const high = options.high === undefined ? 1 : expectNumber(options.high, `${name}.high`);
    if (!(high > low))
      throw new ArgumentRangeError(`Expected ${name}.high to be greater than ${name}.low (${low}) but received ${high}`);
    return source;
  }
  if (typeof source === 'object' && source !== null && (Symbol.iterator in source || Symbol.asyncIterator in source))
    return source as CalibrationSource;
  throw new ArgumentTypeError(
    `Expected a folder path, an (async) iterable of feeds or { random: N } for ${name} but received ${describeValue(source)}`,
  );
}

/**
 * The samples of `source`, each validated against `inputs` (names, dtypes, shapes); throws when the
 * source yields none.
 */
export async function* calibrationSamples(
  source: CalibrationSource,
  inputs: readonly TensorInfo[],
  shapes?: InputShapes,
): AsyncGenerator<TensorMap> {
  const iterable: Iterable<TensorMap> | AsyncIterable<TensorMap> =
    typeof source === 'string'
      ? readSamplesFolder(source, inputs)
      : isRandom(source)
        ? generateFeeds(inputs, source, shapes)
        : source;
  let index = 0;
  for await (const sample of iterable) {
    yield validateFeeds(inputs, sample, `calibration sample ${index} `);
    index++;
  }
  if (index === 0) {
    throw new ArgumentRangeError(
      `Expected at least one calibration sample but received an empty set${typeof source === 'string' ? ` (no .npy/.json samples in ${source})` : ''}`,
    );
  }
}
