/**
 * Optimization profiles (`options.profiles`): for each dynamic input, the smallest, typical and
 * largest shape a TensorRT engine is built for. The session checks them against the model when it is
 * created and checks every request against them on every backend, so a request the tensorrt backend
 * would refuse is refused the same way on cpu (ERR_SHAPE), and moving a service between hosts
 * changes no behaviour.
 */
import type { TensorInfo, TensorMap } from '../core/tensors.js';
import { profileHolds, type ProfileSpec } from '../tensorrt/profiles.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../core/errors.js';
import { closestMatch, describeValue, expectOptions } from '../core/validate.js';

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function dims(value: unknown, name: string, info: TensorInfo): number[] {
  if (!Array.isArray(value)) throw new ArgumentTypeError(`Expected an array of ${info.shape.length} dims for ${name} but received ${describeValue(value)}`);
  if (value.length !== info.shape.length) throw new ArgumentRangeError(`Expected ${info.shape.length} dims (model shape ${formatShape(info.shape)}) for ${name} but received ${formatShape(value as number[])}`, ErrorCode.SHAPE);
  value.forEach((dim, axis) => {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) throw new ArgumentRangeError(`Expected non-negative integers for ${name} but received ${describeValue(dim)} at dim ${axis}`, ErrorCode.SHAPE);
    const fixed = info.shape[axis]!;
    if (fixed >= 0 && dim !== fixed) throw new ArgumentRangeError(`Expected ${fixed} at dim ${axis} (model shape ${formatShape(info.shape)}) for ${name} but received ${formatShape(value as number[])}`, ErrorCode.SHAPE);
  });
  return value as number[];
}

/** Checks `options.profiles` against the model's inputs; returns them frozen (undefined when not given). */
export function validateProfiles(profiles: unknown, inputs: readonly TensorInfo[]): readonly ProfileSpec[] | undefined {
  if (profiles === undefined) return undefined;
  if (!Array.isArray(profiles) || profiles.length === 0) throw new ArgumentTypeError(`Expected a non-empty array of profiles for options.profiles but received ${describeValue(profiles)}`);
  const dynamic = inputs.filter((info) => info.shape.some((dim) => dim < 0));
  return Object.freeze(
    profiles.map((profile, index) => {
      const spec = expectOptions<ProfileSpec>(profile, `options.profiles[${index}]`) as ProfileSpec;
      for (const name of Object.keys(spec)) {
        if (dynamic.some((info) => info.name === name)) continue;
        const hint = closestMatch(name, dynamic.map((info) => info.name));
        throw new ArgumentRangeError(
          `Expected only inputs with dynamic dims (${dynamic.map((info) => JSON.stringify(info.name)).join(', ') || 'none'}) in options.profiles[${index}] but received ${JSON.stringify(name)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`,
        );
      }
      const checked: Record<string, ProfileSpec[string]> = {};
      for (const info of dynamic) {
        const base = `options.profiles[${index}].${info.name}`;
        const bounds = spec[info.name];
        if (bounds === undefined) throw new ArgumentTypeError(`Expected { min, opt, max } for ${base} (every dynamic input needs bounds in every profile) but received undefined`);
        const { min, opt, max } = expectOptions<{ min: number[]; opt: number[]; max: number[] }>(bounds, base);
        const checkedBounds = { min: dims(min, `${base}.min`, info), opt: dims(opt, `${base}.opt`, info), max: dims(max, `${base}.max`, info) };
        checkedBounds.min.forEach((low, axis) => {
          const typical = checkedBounds.opt[axis]!;
          const high = checkedBounds.max[axis]!;
          if (!(low <= typical && typical <= high)) {
            throw new ArgumentRangeError(`Expected min <= opt <= max at every dim for ${base} but received min ${formatShape(checkedBounds.min)}, opt ${formatShape(checkedBounds.opt)}, max ${formatShape(checkedBounds.max)}`, ErrorCode.SHAPE);
          }
        });
        checked[info.name] = Object.freeze(checkedBounds);
      }
      return Object.freeze(checked);
    }),
  );
}

/** Throws ERR_SHAPE unless the feeds' shapes lie within one profile. */
export function checkProfiles(profiles: readonly ProfileSpec[] | undefined, feeds: TensorMap): void {
  if (!profiles || profiles.some((profile) => profileHolds(profile, feeds))) return;
  const received = Object.keys(profiles[0]!)
    .map((name) => `${name} ${formatShape(feeds[name]!.shape)}`)
    .join(', ');
  const ranges = profiles
    .map((profile, index) => `profile ${index}: ${Object.entries(profile).map(([name, bounds]) => `${name} ${formatShape(bounds.min)} to ${formatShape(bounds.max)}`).join(', ')}`)
    .join('; ');
  throw new ArgumentRangeError(`Expected shapes within one of options.profiles (${ranges}) for feeds but received ${received}`, ErrorCode.SHAPE);
}

/** The largest dim 0 any profile allows for every input in it (Infinity without profiles). */
export function profileMaxBatch(profiles: readonly ProfileSpec[] | undefined): number {
  if (!profiles) return Infinity;
  return Math.max(...profiles.map((profile) => Math.min(...Object.values(profile).map((bounds) => bounds.max[0] ?? Infinity))));
}
