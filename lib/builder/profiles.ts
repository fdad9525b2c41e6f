/**
 * Optimization profiles for engine builds, validated against the ONNX model's input shapes before
 * any native call (by the one profile validator, tensorrt/profiles.ts), then put in the native
 * builder's form.
 *
 * Accepted forms: one profile `{ images: { min, opt, max } }`, or several `[{ ... }, { ... }]`.
 */
import { ArgumentRangeError, ErrorCode } from '../core/errors.js';
import { parseShapeFlags as parseShapeBounds } from '../core/shape-spec.js';
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
      // For callers that name the option otherwise (the CLI's --shape NAME:MIN/OPT/MAX).
      {
        details: {
          option: 'profiles',
          problem: 'missing',
          model: modelName,
          inputs: dynamicInputs.map((input) => ({
            name: input.name,
            shape: (input.shape ?? []).map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : -1)),
            dims: formatModelShape(input.shape ?? []),
          })),
        },
      },
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
 * `--shape` values (the one grammar, core/shape-spec.ts) as one profile: `images:1x3x640x640/8x3x640x640/32x3x640x640`
 * gives min/opt/max, a concrete shape `images:1x3x640x640` a profile of that one shape.
 */
export function parseShapeFlags(flags: readonly string[]): Record<string, ProfileBounds> {
  return parseShapeBounds(flags)?.bounds ?? {};
}
