/**
 * The input shapes a bench point runs with, and the optimization profile TensorRT needs for them:
 * the model's fixed dims, `--shape` for its other dynamic dims, and the point's batch for a dynamic
 * leading dim.
 */
import { extname } from 'node:path';
import type { InputShapes } from '../core/shape-spec.js';
import type { ProfileSpec } from '../tensorrt/profiles.js';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import type { SweepPoint } from './target.js';

interface InputDescription {
  name: string;
  /** -1 where dynamic. */
  shape: readonly number[];
}

/**
 * The shape every input has at `batch`: the model's fixed dims, --shape for the dynamic ones, and
 * `batch` for a dynamic leading dim. A model with other dynamic dims needs --shape.
 */
export function benchShapes(inputs: readonly InputDescription[], batch: number, shapes: InputShapes | undefined, model: string): Record<string, number[]> {
  const unknown = Object.keys(shapes ?? {}).filter((name) => !inputs.some((input) => input.name === name));
  if (unknown.length > 0) {
    throw new TensorRTNodeError(ErrorCode.INVALID_ARGUMENT, `Expected --shape for inputs of ${model} (${inputs.map((input) => JSON.stringify(input.name)).join(', ')}) but received ${unknown.map((name) => JSON.stringify(name)).join(', ')}`);
  }
  const result: Record<string, number[]> = {};
  for (const input of inputs) {
    const given = shapes?.[input.name];
    if (given !== undefined && (given.length !== input.shape.length || given.some((dim, axis) => input.shape[axis]! >= 0 && dim !== input.shape[axis]))) {
      throw new TensorRTNodeError(ErrorCode.SHAPE, `Expected --shape ${input.name}:... matching [${input.shape.join(', ')}] for ${model} but received [${given.join(', ')}]`);
    }
    const shape = input.shape.map((dim, axis) => (axis === 0 && dim === -1 ? batch : dim >= 0 ? dim : (given?.[axis] ?? -1)));
    if (shape.some((dim) => dim < 0)) {
      throw new TensorRTNodeError(ErrorCode.NOT_SUPPORTED, `Cannot benchmark ${model}: input "${input.name}" [${input.shape.join(', ')}] has dynamic dims beyond the batch dim; give their size with --shape ${input.name}:${input.shape.map((dim) => (dim < 0 ? 'N' : dim)).join('x')}`);
    }
    if (input.shape[0] !== -1 && batch !== 1) {
      throw new TensorRTNodeError(ErrorCode.NOT_SUPPORTED, `Cannot benchmark ${model} at batch ${batch}: input "${input.name}" has a fixed leading dim [${input.shape.join(', ')}]`);
    }
    result[input.name] = shape;
  }
  return result;
}

/**
 * TensorRT needs optimization profiles for dynamic inputs: the point's shapes as opt, with a leading
 * dim from 1 to the largest batch the point sends (the batcher stacks up to batch x concurrency).
 */
export async function tensorrtProfiles(model: string, point: SweepPoint, shapes: InputShapes | undefined): Promise<ProfileSpec[] | undefined> {
  if (extname(model).toLowerCase() !== '.onnx') return undefined; // an engine carries its own
  const { readModel } = await import('../onnx/model.js');
  const { inspect } = await import('../onnx/inspect.js');
  const report = await inspect(await readModel(model));
  const inputs = report.inputs.map((input) => ({ name: input.name, shape: (input.shape ?? []).map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : -1)) }));
  const dynamic = inputs.filter((input) => input.shape.some((dim) => dim < 0));
  if (dynamic.length === 0) return undefined;
  const opt = benchShapes(inputs, point.batch, shapes, model);
  const largest = point.batcher ? point.batch * point.concurrency : point.batch;
  const profile: Record<string, { min: number[]; opt: number[]; max: number[] }> = {};
  for (const input of dynamic) {
    const shape = opt[input.name]!;
    const leadingDynamic = input.shape[0] === -1;
    profile[input.name] = { min: leadingDynamic ? [1, ...shape.slice(1)] : shape, opt: shape, max: leadingDynamic ? [largest, ...shape.slice(1)] : shape };
  }
  return [profile];
}
