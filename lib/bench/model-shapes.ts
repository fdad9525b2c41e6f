/**
 * The input shapes a bench point runs with, and the optimization profile TensorRT needs for them:
 * the model's fixed dims, `--shape` for its other dynamic dims, and the point's batch for a dynamic
 * leading dim.
 */
import { extname } from 'node:path';
import type { InputShapes } from '../core/shape-spec.js';
import type { ProfileSpec } from '../tensorrt/profiles.js';
import { ArgumentRangeError, ErrorCode } from '../core/errors.js';
import { shapeTemplate } from '../core/shape-spec.js';
import { closestMatch } from '../core/validate.js';
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
export function benchShapes(
  inputs: readonly InputDescription[],
  batch: number,
  shapes: InputShapes | undefined,
  model: string,
): Record<string, number[]> {
  const unknown = Object.keys(shapes ?? {}).filter((name) => !inputs.some((input) => input.name === name));
  if (unknown.length > 0) {
    const hint = closestMatch(
      unknown[0]!,
      inputs.map((input) => input.name),
    );
    throw new ArgumentRangeError(
      `Expected --shape for inputs of ${model} (${inputs.map((input) => JSON.stringify(input.name)).join(', ')}) but received ${unknown.map((name) => JSON.stringify(name)).join(', ')}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`,
      ErrorCode.INVALID_ARGUMENT,
      {
        details: { flag: '--shape', inputs: inputs.map((input) => input.name), received: unknown },
      },
    );
  }
  const result: Record<string, number[]> = {};
  for (const input of inputs) {
    const given = shapes?.[input.name];
    if (
      given !== undefined &&
      (given.length !== input.shape.length || given.some((dim, axis) => input.shape[axis]! >= 0 && dim !== input.shape[axis]))
    ) {
      throw new ArgumentRangeError(
        `Expected --shape ${shapeTemplate(input.name, input.shape)} (each N a size) for input ${JSON.stringify(input.name)} of ${model} [${input.shape.join(', ')}] but received ${input.name}:${given.join('x')}`,
        ErrorCode.SHAPE,
        {
          details: { flag: '--shape', input: input.name, modelShape: [...input.shape], received: [...given] },
        },
      );
    }
    const shape = input.shape.map((dim, axis) => (axis === 0 && dim === -1 ? batch : dim >= 0 ? dim : (given?.[axis] ?? -1)));
    if (shape.some((dim) => dim < 0)) {
      throw new ArgumentRangeError(
        `Expected --shape ${shapeTemplate(input.name, input.shape)} (each N a size; a dynamic leading dim follows --batch) for input ${JSON.stringify(input.name)} of ${model}, whose dims [${input.shape.join(', ')}] are dynamic beyond the batch dim, but received none`,
        ErrorCode.INVALID_ARGUMENT,
        { details: { flag: '--shape', input: input.name, modelShape: [...input.shape] } },
      );
    }
    if (input.shape[0] !== -1 && batch !== 1) {
      throw new ArgumentRangeError(
        `Expected --batch 1 for ${model}, whose input ${JSON.stringify(input.name)} has a fixed leading dim [${input.shape.join(', ')}], but received ${batch}`,
        ErrorCode.INVALID_ARGUMENT,
        {
          details: { flag: '--batch', input: input.name, modelShape: [...input.shape], received: batch },
        },
      );
    }
    result[input.name] = shape;
  }
  return result;
}

/** The inputs of an ONNX model as benchShapes reads them (-1 where dynamic); null for engines, whose inputs only TensorRT can read. */
async function modelInputShapes(model: string): Promise<InputDescription[] | null> {
  if (extname(model).toLowerCase() !== '.onnx') return null;
  const { readModel } = await import('../onnx/model.js');
  const { inspect } = await import('../onnx/inspect.js');
  const report = await inspect(await readModel(model));
  return report.inputs.map((input) => ({
    name: input.name,
    shape: (input.shape ?? []).map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : -1)),
  }));
}

/**
 * Checks --shape and --batch against an ONNX model before anything runs, so that a missing --shape
 * is an argument error (exit 2) naming the flag, not a sweep of failed runs.
 */
export async function checkBenchShapes(
  model: string,
  batches: readonly number[],
  shapes: InputShapes | undefined,
): Promise<void> {
  // A model that cannot be read is each run's failure to report (with the loader's own error), not an argument error.
  const inputs = await modelInputShapes(model).catch(() => null);
  if (inputs === null) return;
  for (const batch of batches) benchShapes(inputs, batch, shapes, model);
}

/**
 * TensorRT needs optimization profiles for dynamic inputs: the point's shapes as opt, with a leading
 * dim from 1 to the largest batch the point sends (the batcher stacks up to batch x concurrency).
 */
export async function tensorrtProfiles(
  model: string,
  point: SweepPoint,
  shapes: InputShapes | undefined,
): Promise<ProfileSpec[] | undefined> {
  if (extname(model).toLowerCase() !== '.onnx') return undefined; // an engine carries its own
  const inputs = (await modelInputShapes(model))!;
  const dynamic = inputs.filter((input) => input.shape.some((dim) => dim < 0));
  if (dynamic.length === 0) return undefined;
  const opt = benchShapes(inputs, point.batch, shapes, model);
  const largest = point.batcher ? point.batch * point.concurrency : point.batch;
  const profile: Record<string, { min: number[]; opt: number[]; max: number[] }> = {};
  for (const input of dynamic) {
    const shape = opt[input.name]!;
    const leadingDynamic = input.shape[0] === -1;
    profile[input.name] = {
      min: leadingDynamic ? [1, ...shape.slice(1)] : shape,
      opt: shape,
      max: leadingDynamic ? [largest, ...shape.slice(1)] : shape,
    };
  }
  return [profile];
}
