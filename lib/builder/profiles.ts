/**
 * Optimization profiles for engine builds, validated against the ONNX model's input shapes before
 * any native call (by the one profile validator, tensorrt/profiles.ts), then put in the native
 * builder's form.
 *
 * Accepted forms: one profile `{ images: { min, opt, max } }`, or several `[{ ... }, { ... }]`.
 */
import { ArgumentRangeError, ErrorCode } from '../core/errors.js';
import type { TensorSummary } from '../onnx/inspect.js';
import type { NativeBuildOptions, ProfileBounds } from '../addon/types.js';
import { formatModelShape, isDynamicInput, validateProfileList } from '../tensorrt/profiles.js';

/** What the native builder takes: per profile, one entry per bounded input. */
export type NativeProfiles = NonNullable<NativeBuildOptions['profiles']>;

/** Validates `profiles` against the model's inputs and returns them in the native builder's form. */
export function resolveProfiles(profiles: unknown, inputs: readonly TensorSummary[], modelName: string): NativeProfiles {
  const list: unknown[] = profiles === undefined ? [] : Array.isArray(profiles) ? profiles : [profiles];
  if (list.length === 0) {
    const dynamicInputs = inputs.filter(isDynamicInput);
    if (dynamicInputs.length === 0) return [];
    throw new ArgumentRangeError(
      `${modelName} has dynamic input${dynamicInputs.length > 1 ? 's' : ''} ${dynamicInputs.map((input) => `${JSON.stringify(input.name)} ${formatModelShape(input.shape ?? [])}`).join(', ')}: give options.profiles with min/opt/max shapes, e.g. { ${JSON.stringify(dynamicInputs[0]!.name)}: { min: [...], opt: [...], max: [...] } }`,
      ErrorCode.SHAPE,
    );
  }
  const where = (index: number) => (Array.isArray(profiles) ? `options.profiles[${index}]` : 'options.profiles');
  return validateProfileList(list, inputs, where).map((profile) =>
    Object.entries(profile).map(([input, { min, opt, max, values }]) => ({
      input,
      min: [...min],
      opt: [...opt],
      max: [...max],
      ...(values ? { values: { min: [...values.min], opt: [...values.opt], max: [...values.max] } } : {}),
    })),
  );
}

/**
 * Parses the CLI form `input:min/opt/max` where each shape is `1x3x640x640`, e.g.
 * `images:1x3x640x640/8x3x640x640/32x3x640x640`. Several --shapes flags make one profile.
 */
export function parseShapeFlags(flags: readonly string[]): Record<string, ProfileBounds> {
  const profile: Record<string, ProfileBounds> = {};
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
