/**
 * Calibration: runs the float32 model on the cpu backend with the activations to quantize exposed
 * as extra outputs, feeds every sample's values into one histogram per tensor, and returns the
 * amax of each tensor by the chosen method as a CalibrationTable.
 */
import { createCpuBackend, type CpuBackendOptions } from '../backends/cpu/backend.js';
import { abortError } from '../core/abort.js';
import { ArgumentRangeError, ArgumentTypeError, withCallerStack } from '../core/errors.js';
import { describeValue, expectNumber, expectOneOf, expectOptions, rejectUnknownOptions } from '../core/validate.js';
import { calibrationSamples, checkCalibrationSource, concreteShape, type CalibrationSource } from './calibration-data.js';
import { type InputShapes } from '../core/shape-spec.js';
import { CALIBRATION_FORMAT, type CalibrationTable } from '../onnx/calibration-table.js';
import { exposeTensors } from '../onnx/expose.js';
import { AbsHistogram, type CalibrationMethod } from '../onnx/histogram.js';
import { expectOnnxModel, type OnnxModel } from '../onnx/model.js';
import { DEFAULT_QUANTIZED_OPS, planQuantization } from '../onnx/quantize-plan.js';
import { samplePaths } from '../onnx/feeds-folder.js';
import type { SearchProgress } from './search.js';

/** Progress of a long step, for CLIs and UIs. */
export interface Progress {
  /** calibrate: samples; quantize: writing Q/DQ; accuracy: the accuracy-targeted search (details in `search`). */
  phase: 'calibrate' | 'quantize' | 'accuracy';
  done: number;
  /** null when the source does not say how many samples it has. */
  total: number | null;
  search?: SearchProgress;
}

/** Options of {@link calibrate}. */
export interface CalibrateOptions {
  /** How amax is chosen (default "percentile", which measured best on PP-OCR; see docs/onnx-and-precision.md). */
  method?: CalibrationMethod;
  /** For "percentile" (default 99.99). */
  percentile?: number;
  /** Tensors to calibrate (default: the activation inputs of `opTypes` nodes). */
  tensors?: readonly string[];
  /** Op types whose activation inputs are calibrated when `tensors` is not given (default Conv, ConvTranspose, Gemm, MatMul). */
  opTypes?: readonly string[];
  /** Concrete shapes for dynamic inputs when data is generated ({ random: N }). */
  shapes?: InputShapes;
  /** Options of the cpu backend that runs the model. */
  cpu?: CpuBackendOptions;
  /** Stops calibration between samples with ERR_ABORTED. */
  signal?: AbortSignal;
  /** Called before the first sample and after each one. */
  onProgress?: (progress: Progress) => void;
}

export const calibrateOptionKeys = [
  'method',
  'percentile',
  'tensors',
  'opTypes',
  'shapes',
  'cpu',
  'signal',
  'onProgress',
] as const;

export function stringArray(value: unknown, name: string): string[] {
  if (!Array.isArray(value))
    throw new ArgumentTypeError(`Expected an array of strings for ${name} but received ${describeValue(value)}`);
  for (const [index, item] of value.entries())
    if (typeof item !== 'string')
      throw new ArgumentTypeError(`Expected a string for ${name}[${index}] but received ${describeValue(item)}`);
  return value as string[];
}

function sampleCount(source: CalibrationSource): Promise<number | null> | number | null {
  if (typeof source === 'string') return samplePaths(source).then((paths) => paths.length);
  if (typeof source === 'object' && 'random' in source) return source.random;
  if (Array.isArray(source)) return source.length;
  return null;
}

/**
 * Calibrates `model` on `source` and returns the amax table: runs the FP32 model on the cpu backend
 * with the activations to quantize exposed as outputs, and chooses each tensor's clipping threshold
 * with `method` (`max`, `percentile` (default, 99.99), `entropy` (KL divergence, as TensorRT's
 * entropy calibrator) or `mse`). Needs onnxruntime-node.
 */
export async function calibrate(
  model: OnnxModel,
  source: CalibrationSource,
  options?: CalibrateOptions,
): Promise<CalibrationTable> {
  const graph = expectOnnxModel(model).proto.graph!;
  const opts = expectOptions<CalibrateOptions>(options);
  rejectUnknownOptions(opts, calibrateOptionKeys);
  const method =
    opts.method === undefined
      ? 'percentile'
      : expectOneOf(opts.method, 'options.method', ['max', 'percentile', 'entropy', 'mse'] as const);
  const percentile =
    opts.percentile === undefined ? 99.99 : expectNumber(opts.percentile, 'options.percentile', { min: 50, max: 100 });
  checkCalibrationSource(source, 'calibration');
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal))
    throw new ArgumentTypeError(`Expected an AbortSignal for options.signal but received ${describeValue(opts.signal)}`);
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function')
    throw new ArgumentTypeError(`Expected a function for options.onProgress but received ${describeValue(opts.onProgress)}`);
  const tensors =
    opts.tensors !== undefined
      ? stringArray(opts.tensors, 'options.tensors')
      : planQuantization(
          graph,
          new Set(opts.opTypes === undefined ? DEFAULT_QUANTIZED_OPS : stringArray(opts.opTypes, 'options.opTypes')),
          new Set(),
        ).activations;
  if (tensors.length === 0)
    throw new ArgumentRangeError(
      `Expected at least one tensor to calibrate in ${model.source} but received none (no quantizable nodes)`,
    );

  return withCallerStack(async () => {
    const total = await sampleCount(source);
    const backend = await createCpuBackend(exposeTensors(model, tensors), opts.cpu);
    try {
      if (typeof source === 'object' && 'random' in source)
        for (const input of backend.inputs) concreteShape(input, opts.shapes, 'options.shapes');
      const histograms = new Map(tensors.map((name) => [name, new AbsHistogram()]));
      const maxima = new Map(tensors.map((name) => [name, 0]));
      let done = 0;
      opts.onProgress?.({ phase: 'calibrate', done, total });
      for await (const feeds of calibrationSamples(source, backend.inputs, opts.shapes)) {
        if (opts.signal?.aborted) throw abortError('Calibration', opts.signal);
        const outputs = await backend.run(feeds, { outputs: tensors, signal: opts.signal });
        for (const name of tensors) {
          const values = outputs[name]!.data as Float32Array;
          if (method === 'max') {
            let max = maxima.get(name)!;
            for (let index = 0; index < values.length; index++) {
              const magnitude = Math.abs(values[index]!);
              if (magnitude > max && Number.isFinite(magnitude)) max = magnitude;
            }
            maxima.set(name, max);
          } else {
            histograms.get(name)!.add(values);
          }
        }
        done++;
        opts.onProgress?.({ phase: 'calibrate', done, total });
        // Yield to the event loop between samples: histogramming is done on this thread.
        await new Promise((resolve) => setImmediate(resolve));
      }
      const table: CalibrationTable = {
        format: CALIBRATION_FORMAT,
        version: 1,
        method,
        samples: done,
        model: model.source,
        tensors: {},
      };
      if (method === 'percentile') table.percentile = percentile;
      for (const name of tensors) {
        if (method === 'max') {
          const max = maxima.get(name)!;
          table.tensors[name] = { amax: max, max };
        } else {
          const histogram = histograms.get(name)!;
          table.tensors[name] = { amax: histogram.amax(method, percentile), max: histogram.max };
        }
      }
      return table;
    } finally {
      await backend.dispose();
    }
  });
}
