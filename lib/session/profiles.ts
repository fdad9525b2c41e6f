/**
 * Optimization profiles (`options.profiles`): for each dynamic input, the smallest, typical and
 * largest shape a TensorRT engine is built for. The session checks them against the model when it is
 * created and checks every request against them on every backend, so a request the tensorrt backend
 * would refuse is refused the same way on cpu (ERR_SHAPE), and moving a service between hosts
 * changes no behaviour.
 */
import type { TensorInfo, TensorMap } from '../core/tensors.js';
import { profileHolds, validateProfileList, type ProfileSpec } from '../tensorrt/profiles.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from '../core/errors.js';
import { describeValue } from '../core/validate.js';

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Checks `options.profiles` against the model's inputs; returns them frozen (undefined when not given). */
export function validateProfiles(profiles: unknown, inputs: readonly TensorInfo[]): readonly ProfileSpec[] | undefined {
  if (profiles === undefined) return undefined;
  if (!Array.isArray(profiles) || profiles.length === 0)
    throw new ArgumentTypeError(
      `Expected a non-empty array of profiles for options.profiles but received ${describeValue(profiles)}`,
    );
  return Object.freeze(validateProfileList(profiles, inputs, (index) => `options.profiles[${index}]`));
}

/** Throws ERR_SHAPE unless the feeds' shapes lie within one profile. */
export function checkProfiles(profiles: readonly ProfileSpec[] | undefined, feeds: TensorMap): void {
  if (!profiles || profiles.some((profile) => profileHolds(profile, feeds))) return;
  const received = Object.keys(profiles[0]!)
    .map((name) => `${name} ${formatShape(feeds[name]!.shape)}`)
    .join(', ');
  const ranges = profiles
    .map(
      (profile, index) =>
        `profile ${index}: ${Object.entries(profile)
          .map(([name, bounds]) => `${name} ${formatShape(bounds.min)} to ${formatShape(bounds.max)}`)
          .join(', ')}`,
    )
    .join('; ');
  throw new ArgumentRangeError(
    `Expected shapes within one of options.profiles (${ranges}) for feeds but received ${received}`,
    ErrorCode.SHAPE,
  );
}

/** The largest dim 0 any profile allows for every input in it (Infinity without profiles). */
export function profileMaxBatch(profiles: readonly ProfileSpec[] | undefined): number {
  if (!profiles) return Infinity;
  return Math.max(...profiles.map((profile) => Math.min(...Object.values(profile).map((bounds) => bounds.max[0] ?? Infinity))));
}
