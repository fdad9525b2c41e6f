/**
 * Optimization profiles: for each input with dynamic dims, the smallest, typical and largest shape
 * an engine is built for. The builder validates them against the ONNX model, sessions against the
 * model's inputs, and the tensorrt backend routes each request to a context whose profile holds it.
 */

/** The shapes one input may take in an optimization profile: every dim between `min` and `max`, tuned for `opt`. */
export interface ShapeBounds {
  min: readonly number[];
  opt: readonly number[];
  max: readonly number[];
}

/**
 * One optimization profile: bounds per dynamic input, by input name.
 *
 * @example
 * ```ts
 * const profile: ProfileSpec = { x: { min: [1, 3, 320, 320], opt: [4, 3, 640, 640], max: [8, 3, 960, 960] } };
 * ```
 */
export type ProfileSpec = Readonly<Record<string, ShapeBounds>>;

/** Whether every bounded input's shape lies within `profile` (a session's, or an engine profile's inputs). */
export function profileHolds(profile: ProfileSpec, feeds: Readonly<Record<string, { shape: readonly number[] }>>): boolean {
  return Object.entries(profile).every(([name, bounds]) => {
    const shape = feeds[name]?.shape;
    return shape !== undefined && shape.length === bounds.min.length && shape.every((dim, axis) => dim >= bounds.min[axis]! && dim <= bounds.max[axis]!);
  });
}
