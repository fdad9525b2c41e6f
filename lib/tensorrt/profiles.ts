/**
 * Optimization profiles: for each input with dynamic dims, the smallest, typical and largest shape
 * an engine is built for. One validator checks them against a model's inputs, for the builder (the
 * ONNX model's inputs) and for sessions (the backend's inputs) alike, and the tensorrt backend routes
 * each request to a context whose profile holds it.
 */
import type { ProfileBounds } from '../addon/types.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../core/errors.js';
import { checkInputName } from '../core/feeds.js';
import { describeValue } from '../core/validate.js';

/**
 * One optimization profile: bounds per dynamic input, by input name.
 *
 * @example
 * ```ts
 * const profile: ProfileSpec = { x: { min: [1, 3, 320, 320], opt: [4, 3, 640, 640], max: [8, 3, 960, 960] } };
 * ```
 */
export type ProfileSpec = Readonly<Record<string, ProfileBounds>>;

/** An input as profiles see it: a dim that is not a non-negative number (-1, null, "batch") is dynamic. */
export interface ProfileInput {
  name: string;
  /** null when the model does not say (any rank). */
  shape: readonly (number | string | null)[] | null;
}

/** `[batch, 3, 640, 640]`; an unknown dim is `?`. */
export function formatModelShape(shape: readonly unknown[]): string {
  return `[${shape.map((dim) => (dim === null ? '?' : String(dim))).join(', ')}]`;
}

function isFixed(dim: unknown): dim is number {
  return typeof dim === 'number' && dim >= 0;
}

export function isDynamicInput(input: ProfileInput): boolean {
  return input.shape === null || !input.shape.every(isFixed);
}

function checkDims(value: unknown, name: string): number[] {
  if (!Array.isArray(value))
    throw new ArgumentTypeError(
      `Expected an array of dimensions for ${name} but received ${describeValue(value)}`,
      ErrorCode.SHAPE,
    );
  value.forEach((dim, axis) => {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new ArgumentRangeError(
        `Expected a non-negative integer for ${name}[${axis}] but received ${describeValue(dim)}`,
        ErrorCode.SHAPE,
      );
    }
  });
  return value as number[];
}

function checkIntegers(value: unknown, name: string): number[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'number' || !Number.isSafeInteger(item))) {
    throw new ArgumentTypeError(`Expected an array of integers for ${name} but received ${describeValue(value)}`);
  }
  return value as number[];
}

/** The bounds of a shape-tensor input's values: integer lists of one length with min <= opt <= max. */
function checkShapeValues(value: unknown, name: string): NonNullable<ProfileBounds['values']> {
  if (typeof value !== 'object' || value === null)
    throw new ArgumentTypeError(`Expected { min, opt, max } for ${name} but received ${describeValue(value)}`);
  const { min, opt, max } = value as Record<string, unknown>;
  const bounds = {
    min: checkIntegers(min, `${name}.min`),
    opt: checkIntegers(opt, `${name}.opt`),
    max: checkIntegers(max, `${name}.max`),
  };
  if (bounds.opt.length !== bounds.min.length || bounds.max.length !== bounds.min.length) {
    throw new ArgumentRangeError(
      `Expected as many values in ${name}.min, .opt and .max but received ${bounds.min.length}, ${bounds.opt.length} and ${bounds.max.length}`,
      ErrorCode.SHAPE,
    );
  }
  bounds.min.forEach((_, index) => {
    if (!(bounds.min[index]! <= bounds.opt[index]! && bounds.opt[index]! <= bounds.max[index]!)) {
      throw new ArgumentRangeError(
        `Expected min <= opt <= max for every value of ${name} but value ${index} has min ${bounds.min[index]}, opt ${bounds.opt[index]}, max ${bounds.max[index]}`,
        ErrorCode.SHAPE,
      );
    }
  });
  return Object.freeze({
    min: Object.freeze([...bounds.min]),
    opt: Object.freeze([...bounds.opt]),
    max: Object.freeze([...bounds.max]),
  });
}

function checkBounds(bounds: unknown, input: ProfileInput, at: string): ProfileBounds {
  if (typeof bounds !== 'object' || bounds === null)
    throw new ArgumentTypeError(`Expected { min, opt, max } for ${at} but received ${describeValue(bounds)}`);
  const { min, opt, max, values } = bounds as Record<string, unknown>;
  const checked = { min: checkDims(min, `${at}.min`), opt: checkDims(opt, `${at}.opt`), max: checkDims(max, `${at}.max`) };
  const modelShape = input.shape;
  for (const key of ['min', 'opt', 'max'] as const) {
    if (modelShape !== null && checked[key].length !== modelShape.length) {
      throw new ArgumentRangeError(
        `Expected ${modelShape.length} dimensions for ${at}.${key} (input shape ${formatModelShape(modelShape)}) but received ${formatModelShape(checked[key])}`,
        ErrorCode.SHAPE,
      );
    }
  }
  checked.min.forEach((_, axis) => {
    const fixed = modelShape?.[axis];
    for (const key of ['min', 'opt', 'max'] as const) {
      if (isFixed(fixed) && checked[key][axis] !== fixed) {
        throw new ArgumentRangeError(
          `Expected dimension ${axis} of ${at}.${key} to be ${fixed}, as the model fixes it (input shape ${formatModelShape(modelShape!)}), but received ${formatModelShape(checked[key])}`,
          ErrorCode.SHAPE,
        );
      }
    }
    if (!(checked.min[axis]! <= checked.opt[axis]! && checked.opt[axis]! <= checked.max[axis]!)) {
      throw new ArgumentRangeError(
        `Expected min <= opt <= max in every dimension of ${at} but dimension ${axis} has min ${checked.min[axis]}, opt ${checked.opt[axis]}, max ${checked.max[axis]}`,
        ErrorCode.SHAPE,
      );
    }
  });
  const frozen = {
    min: Object.freeze([...checked.min]),
    opt: Object.freeze([...checked.opt]),
    max: Object.freeze([...checked.max]),
  };
  return Object.freeze(values === undefined ? frozen : { ...frozen, values: checkShapeValues(values, `${at}.values`) });
}

/**
 * Checks each of `profiles` against the model's `inputs`: it names only inputs of the model, bounds
 * every dynamic one, and each bound is min/opt/max shapes of the input's rank that keep its fixed
 * dims, with min <= opt <= max in every dimension. `where(index)` names a profile in messages
 * (`options.profiles[1]`). Returns frozen copies, inputs in the order the caller gave them.
 */
export function validateProfileList(
  profiles: readonly unknown[],
  inputs: readonly ProfileInput[],
  where: (index: number) => string,
): ProfileSpec[] {
  const dynamicInputs = inputs.filter(isDynamicInput);
  return profiles.map((profile, index) => {
    const at = where(index);
    if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) {
      throw new ArgumentTypeError(
        `Expected an object mapping input names to { min, opt, max } for ${at} but received ${describeValue(profile)}`,
      );
    }
    for (const name of Object.keys(profile)) checkInputName(inputs, name, at);
    const missing = dynamicInputs.filter((input) => !Object.hasOwn(profile, input.name));
    if (missing.length > 0) {
      throw new ArgumentRangeError(
        `Expected bounds for every dynamic input in ${at} but received none for ${missing.map((input) => `${JSON.stringify(input.name)} ${formatModelShape(input.shape ?? [])}`).join(', ')}`,
        ErrorCode.SHAPE,
      );
    }
    const checked: Record<string, ProfileBounds> = {};
    for (const [name, bounds] of Object.entries(profile as Record<string, unknown>))
      checked[name] = checkBounds(
        bounds,
        inputs.find((input) => input.name === name)!,
        `${at}.${name}`,
      );
    return Object.freeze(checked);
  });
}

/** Whether every bounded input's shape lies within `profile` (a session's, or an engine profile's inputs). */
export function profileHolds(profile: ProfileSpec, feeds: Readonly<Record<string, { shape: readonly number[] }>>): boolean {
  return Object.entries(profile).every(([name, bounds]) => {
    const shape = feeds[name]?.shape;
    return (
      shape !== undefined &&
      shape.length === bounds.min.length &&
      shape.every((dim, axis) => dim >= bounds.min[axis]! && dim <= bounds.max[axis]!)
    );
  });
}
