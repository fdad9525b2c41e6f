/**
 * Optimization profiles: for each input with dynamic dims, the smallest, typical and largest shape
 * an engine is built for. The builder validates them against the ONNX model, sessions against the
 * model's inputs, and the tensorrt backend routes each request to a context whose profile holds it.
 */
import type { ProfileBounds } from '../addon/types.js';

export type ProfileSpec = Readonly<Record<string, ProfileBounds>>;

/** Whether every bounded input's shape lies within `profile` (a session's, or an engine profile's inputs). */
export function profileHolds(profile: ProfileSpec, feeds: Readonly<Record<string, { shape: readonly number[] }>>): boolean {
  return Object.entries(profile).every(([name, bounds]) => {
    const shape = feeds[name]?.shape;
    return shape !== undefined && shape.length === bounds.min.length && shape.every((dim, axis) => dim >= bounds.min[axis]! && dim <= bounds.max[axis]!);
  });
}
