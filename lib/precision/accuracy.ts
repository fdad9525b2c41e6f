/**
 * Accuracy targets for mixed precision: what a converted or quantized model must keep of the
 * float32 model's outputs (cosine similarity, largest absolute difference) on a set of samples, and
 * the probe that measures candidates against float32 outputs computed once.
 */
import { createCpuBackend, type CpuBackendOptions } from '../backends/cpu/backend.js';
import type { InputShapes } from '../core/shape-spec.js';
import type { TensorMap } from '../core/tensors.js';
import { ArgumentRangeError, ArgumentTypeError } from '../core/errors.js';
import { describeValue, expectInteger, expectNumber, expectOptions, rejectUnknownOptions } from '../core/validate.js';
import { emulateFloat16Storage } from '../onnx/fp16-emulation.js';
import type { OnnxModel } from '../onnx/model.js';
import { calibrationSamples, checkCalibrationSource, concreteShape, type CalibrationSource } from './calibration-data.js';
import { compare } from './compare.js';

/** What a mixed-precision search must keep of the float32 model's outputs. */
export interface AccuracyTarget {
  /** Lowest cosine similarity any output may have against the float32 model, over all samples (e.g. 0.9995). */
  minCosine?: number;
  /** Largest absolute difference any output element may have. */
  maxAbs?: number;
  /**
   * The samples the target is measured on: feeds, a folder of .npy/.json, or { random: N } (dynamic
   * inputs then need `shapes`). quantizeInt8 uses its calibration data when this is absent.
   */
  samples?: CalibrationSource;
  /** Time the search may take, in milliseconds (default 600000); the best result found by then is returned. */
  maxTimeMs?: number;
}

/** Accuracy of a candidate against the float32 model. */
export interface AccuracyMeasure {
  /** The lowest cosine similarity of any output. */
  cosine: number;
  /** The largest absolute difference of any output element. */
  maxAbs: number;
  outputs: { name: string; cosine: number; maxAbsError: number }[];
}

export const DEFAULT_SEARCH_TIME_MS = 600_000;

/** Checks an accuracy target (not its samples' contents) before any work starts. */
export function checkAccuracyTarget(
  value: unknown,
  name: string,
  { samplesRequired }: { samplesRequired: boolean },
): AccuracyTarget {
  const target = expectOptions<AccuracyTarget>(value, name);
  rejectUnknownOptions(target, ['minCosine', 'maxAbs', 'samples', 'maxTimeMs'], name);
  if (target.minCosine === undefined && target.maxAbs === undefined) {
    throw new ArgumentTypeError(`Expected minCosine and/or maxAbs in ${name} but received ${describeValue(value)}`);
  }
  if (target.minCosine !== undefined) expectNumber(target.minCosine, `${name}.minCosine`, { min: -1, max: 1 });
  if (target.maxAbs !== undefined) expectNumber(target.maxAbs, `${name}.maxAbs`, { min: 0 });
  if (target.maxTimeMs !== undefined) expectInteger(target.maxTimeMs, `${name}.maxTimeMs`, { min: 1 });
  if (target.samples !== undefined) checkCalibrationSource(target.samples, `${name}.samples`);
  else if (samplesRequired)
    throw new ArgumentTypeError(`Expected samples (a folder, feeds or { random: N }) in ${name}.samples but received none`);
  return target;
}

export function meetsTarget(measure: AccuracyMeasure, target: AccuracyTarget): boolean {
  if (target.minCosine !== undefined && !(measure.cosine >= target.minCosine)) return false;
  if (target.maxAbs !== undefined && !(measure.maxAbs <= target.maxAbs)) return false;
  return true;
}

/** "cosine 0.99962 >= 0.9995, max abs 1.2e-3" for reports and progress. */
export function describeMeasure(measure: AccuracyMeasure, target?: AccuracyTarget): string {
  const cosine = `cosine ${measure.cosine.toFixed(6)}${target?.minCosine !== undefined ? ` (target >= ${target.minCosine})` : ''}`;
  const abs = `max abs ${measure.maxAbs.toExponential(2)}${target?.maxAbs !== undefined ? ` (target <= ${target.maxAbs})` : ''}`;
  return `${cosine}, ${abs}`;
}

/**
 * Runs candidates on fixed samples and measures them against the float32 model's outputs, which
 * are computed once. Samples are held in memory for the whole search.
 */
export class AccuracyProbe {
  private constructor(
    readonly samples: readonly TensorMap[],
    readonly reference: ReadonlyMap<TensorMap, TensorMap>,
    readonly outputs: readonly string[],
    readonly cpu: CpuBackendOptions | undefined,
  ) {}

  /** Loads the samples and runs the float32 model on each. */
  static async create(
    model: OnnxModel,
    source: CalibrationSource,
    options: { shapes?: InputShapes; cpu?: CpuBackendOptions; signal?: AbortSignal; context: string },
  ): Promise<AccuracyProbe> {
    const backend = await createCpuBackend(model, options.cpu);
    try {
      if (typeof source === 'object' && source !== null && 'random' in source)
        for (const input of backend.inputs) concreteShape(input, options.shapes, `${options.context} (random samples)`);
      const samples: TensorMap[] = [];
      const reference = new Map<TensorMap, TensorMap>();
      for await (const feeds of calibrationSamples(source, backend.inputs, options.shapes)) {
        options.signal?.throwIfAborted();
        samples.push(feeds);
        reference.set(feeds, await backend.run(feeds, { signal: options.signal }));
      }
      const floatOutputs = backend.outputs
        .filter((output) => output.dtype === 'float32' || output.dtype === 'float16' || output.dtype === 'float64')
        .map((output) => output.name);
      if (floatOutputs.length === 0)
        throw new ArgumentRangeError(
          `Expected a model with float outputs to measure accuracy on (${options.context}) but received ${model.source}, whose outputs are ${backend.outputs.map((output) => output.dtype).join(', ')}`,
        );
      return new AccuracyProbe(samples, reference, floatOutputs, options.cpu);
    } finally {
      await backend.dispose();
    }
  }

  /**
   * The candidate's accuracy on the samples (it runs on the cpu backend). With `float16`, its
   * float16 activations are rounded as a float16 engine rounds them (see onnx/fp16-emulation.ts).
   */
  async measure(candidate: OnnxModel, { float16 = false } = {}): Promise<AccuracyMeasure> {
    const reference = async (feeds: Readonly<TensorMap>) => this.reference.get(feeds as TensorMap)!;
    const runnable = float16 ? emulateFloat16Storage(candidate) : candidate;
    const cpu = float16 ? { ...this.cpu, graphOptimizationLevel: 'disabled' as const } : this.cpu;
    // Tolerances do not matter here: only the cosine and the largest difference are used.
    const report = await compare(reference, runnable, this.samples, { outputs: this.outputs, cpu });
    // compare() leaves NaN/Inf out of its figures; here a NaN or Inf the reference does not have fails any target.
    const outputs = report.outputs.map((output) => {
      const extraNonFinite = output.candidate.nan + output.candidate.inf > output.reference.nan + output.reference.inf;
      return {
        name: output.name,
        cosine: extraNonFinite ? 0 : output.cosine,
        maxAbsError: extraNonFinite ? Infinity : output.maxAbsError,
      };
    });
    return {
      cosine: Math.min(...outputs.map((output) => output.cosine)),
      maxAbs: Math.max(...outputs.map((output) => output.maxAbsError)),
      outputs,
    };
  }
}
