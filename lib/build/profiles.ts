/**
 * Optimization profiles for engine builds, validated against the ONNX model's input shapes before
 * any native call: every dynamic input needs bounds, ranks and fixed dims must match, and
 * min <= opt <= max dimension by dimension.
 *
 * Accepted forms: one profile `{ images: { min, opt, max } }`, or several `[{ ... }, { ... }]`.
 */
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../errors.js';
import type { TensorSummary } from '../onnx/inspect.js';
import { closestMatch, describeValue } from '../validate.js';

export interface ShapeBounds {
  min: readonly number[];
  opt: readonly number[];
  max: readonly number[];
  /**
   * For a shape-tensor input (its values decide other shapes, e.g. Reshape's target shape): the
   * bounds of its values, which TensorRT needs in every profile.
   */
  values?: { min: readonly number[]; opt: readonly number[]; max: readonly number[] };
}

export type ProfileSpec = Readonly<Record<string, ShapeBounds>>;

/** What the native builder takes: per profile, one entry per bounded input. */
export type NativeProfiles = { input: string; min: number[]; opt: number[]; max: number[]; values?: { min: number[]; opt: number[]; max: number[] } }[][];

function formatShape(shape: readonly unknown[]): string {
  return `[${shape.map((dim) => (dim === null ? '?' : String(dim))).join(', ')}]`;
}

function checkDims(value: unknown, name: string): number[] {
  if (!Array.isArray(value)) throw new ArgumentTypeError(`Expected an array of dimensions for ${name} but received ${describeValue(value)}`, ErrorCode.SHAPE);
  value.forEach((dim, axis) => {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new ArgumentRangeError(`Expected a non-negative integer for ${name}[${axis}] but received ${describeValue(dim)}`, ErrorCode.SHAPE);
    }
  });
  return value as number[];
}

function checkShapeValues(value: unknown, name: string): { min: number[]; opt: number[]; max: number[] } {
  if (typeof value !== 'object' || value === null) throw new ArgumentTypeError(`Expected { min, opt, max } for ${name} but received ${describeValue(value)}`);
  const { min, opt, max } = value as Record<string, unknown>;
  const bounds = { min: checkIntegers(min, `${name}.min`), opt: checkIntegers(opt, `${name}.opt`), max: checkIntegers(max, `${name}.max`) };
  if (bounds.opt.length !== bounds.min.length || bounds.max.length !== bounds.min.length) {
    throw new ArgumentRangeError(`Expected as many values in ${name}.min, .opt and .max but received ${bounds.min.length}, ${bounds.opt.length} and ${bounds.max.length}`, ErrorCode.SHAPE);
  }
  bounds.min.forEach((_, index) => {
    if (!(bounds.min[index]! <= bounds.opt[index]! && bounds.opt[index]! <= bounds.max[index]!)) {
      throw new ArgumentRangeError(`Expected min <= opt <= max for every value of ${name} but value ${index} has min ${bounds.min[index]}, opt ${bounds.opt[index]}, max ${bounds.max[index]}`, ErrorCode.SHAPE);
    }
  });
  return bounds;
}

function checkIntegers(value: unknown, name: string): number[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'number' || !Number.isSafeInteger(item))) {
    throw new ArgumentTypeError(`Expected an array of integers for ${name} but received ${describeValue(value)}`);
  }
  return value as number[];
}

function isDynamic(input: TensorSummary): boolean {
  return input.shape === null || input.shape.some((dim) => typeof dim !== 'number' || dim < 0);
}

/** Validates `profiles` against the model's inputs and returns them in the native builder's form. */
export function resolveProfiles(profiles: unknown, inputs: readonly TensorSummary[], modelName: string): NativeProfiles {
  const list: unknown[] = profiles === undefined ? [] : Array.isArray(profiles) ? profiles : [profiles];
  const names = inputs.map((input) => input.name);
  const dynamicInputs = inputs.filter(isDynamic);

  if (list.length === 0) {
    if (dynamicInputs.length === 0) return [];
    throw new ArgumentRangeError(
      `${modelName} has dynamic input${dynamicInputs.length > 1 ? 's' : ''} ${dynamicInputs.map((input) => `${JSON.stringify(input.name)} ${formatShape(input.shape ?? [])}`).join(', ')}: give options.profiles with min/opt/max shapes, e.g. { ${JSON.stringify(dynamicInputs[0]!.name)}: { min: [...], opt: [...], max: [...] } }`,
      ErrorCode.SHAPE,
    );
  }

  return list.map((profile, index) => {
    const where = list.length > 1 || Array.isArray(profiles) ? `options.profiles[${index}]` : 'options.profiles';
    if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) {
      throw new ArgumentTypeError(`Expected an object mapping input names to { min, opt, max } for ${where} but received ${describeValue(profile)}`);
    }
    for (const name of Object.keys(profile)) {
      if (names.includes(name)) continue;
      const hint = closestMatch(name, names);
      throw new ArgumentRangeError(`Unknown input ${JSON.stringify(name)} in ${where}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}; the model's inputs are: ${names.join(', ')}`);
    }
    const missing = dynamicInputs.filter((input) => !(input.name in profile));
    if (missing.length > 0) {
      throw new ArgumentRangeError(`Expected bounds for every dynamic input in ${where} but received none for ${missing.map((input) => `${JSON.stringify(input.name)} ${formatShape(input.shape ?? [])}`).join(', ')}`, ErrorCode.SHAPE);
    }
    return Object.entries(profile as Record<string, unknown>).map(([name, bounds]) => {
      const input = inputs.find((candidate) => candidate.name === name)!;
      const at = `${where}.${name}`;
      if (typeof bounds !== 'object' || bounds === null) throw new ArgumentTypeError(`Expected { min, opt, max } for ${at} but received ${describeValue(bounds)}`);
      const { min, opt, max, values } = bounds as Record<string, unknown>;
      const resolved: NativeProfiles[number][number] = { input: name, min: checkDims(min, `${at}.min`), opt: checkDims(opt, `${at}.opt`), max: checkDims(max, `${at}.max`) };
      if (values !== undefined) resolved.values = checkShapeValues(values, `${at}.values`);
      const modelShape = input.shape;
      for (const key of ['min', 'opt', 'max'] as const) {
        if (modelShape !== null && resolved[key].length !== modelShape.length) {
          throw new ArgumentRangeError(`Expected ${modelShape.length} dimensions for ${at}.${key} (input shape ${formatShape(modelShape)}) but received ${formatShape(resolved[key])}`, ErrorCode.SHAPE);
        }
      }
      resolved.min.forEach((_, axis) => {
        const fixed = modelShape?.[axis];
        for (const key of ['min', 'opt', 'max'] as const) {
          if (typeof fixed === 'number' && fixed >= 0 && resolved[key][axis] !== fixed) {
            throw new ArgumentRangeError(`Expected dimension ${axis} of ${at}.${key} to be ${fixed}, as the model fixes it (input shape ${formatShape(modelShape!)}), but received ${formatShape(resolved[key])}`, ErrorCode.SHAPE);
          }
        }
        if (!(resolved.min[axis]! <= resolved.opt[axis]! && resolved.opt[axis]! <= resolved.max[axis]!)) {
          throw new ArgumentRangeError(`Expected min <= opt <= max in every dimension of ${at} but dimension ${axis} has min ${resolved.min[axis]}, opt ${resolved.opt[axis]}, max ${resolved.max[axis]}`, ErrorCode.SHAPE);
        }
      });
      return resolved;
    });
  });
}

/**
 * Parses the CLI form `input:min/opt/max` where each shape is `1x3x640x640`, e.g.
 * `images:1x3x640x640/8x3x640x640/32x3x640x640`. Several --shapes flags make one profile.
 */
export function parseShapeFlags(flags: readonly string[]): Record<string, ShapeBounds> {
  const profile: Record<string, ShapeBounds> = {};
  for (const flag of flags) {
    const match = /^(.+):(\d+(?:x\d+)*)\/(\d+(?:x\d+)*)\/(\d+(?:x\d+)*)$/.exec(flag);
    if (!match) {
      throw new ArgumentRangeError(`Expected input:min/opt/max with shapes like 1x3x640x640 for --shapes but received ${JSON.stringify(flag)}`);
    }
    const shape = (text: string) => text.split('x').map(Number);
    profile[match[1]!] = { min: shape(match[2]!), opt: shape(match[3]!), max: shape(match[4]!) };
  }
  return profile;
}
