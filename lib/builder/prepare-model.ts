/**
 * Writes the requested precision into the ONNX graph, since TensorRT 11 has no FP16/INT8 builder
 * flags: FP16 autocast, or INT8 Q/DQ from calibration (data, or a saved calibration table). A model
 * that already carries the precision (float16 tensors, Q/DQ nodes) is built as it is.
 *
 * It also describes each transform for the engine cache key, so that a cache hit needs no
 * transform at all: calibration given as data (a folder, generated samples, a table) is described
 * by a hash of that data; calibration given as an iterable can only be described by its result, so
 * it is calibrated first.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TransformStep } from '../cache/key.js';
import { ArgumentTypeError } from '../core/errors.js';
import { packageVersion } from '../addon/loader.js';
import { calibrate, type CalibrateOptions } from '../precision/calibrate.js';
import type { CalibrationSource } from '../precision/calibration-data.js';
import { loadCalibrationTable, type CalibrationTable } from '../onnx/calibration-table.js';
import { convertToFp16, type Fp16Options, type Fp16Report } from '../onnx/fp16.js';
import type { InspectReport } from '../onnx/inspect.js';
import type { OnnxModel } from '../onnx/model.js';
import { quantizeInt8, type QuantizeOptions, type QuantizeReport } from '../precision/quantize.js';
import type { Precision } from './precision-check.js';

/**
 * INT8 options of buildEngine: quantizeInt8's, minus what buildEngine passes itself.
 * @inline
 */
export type Int8BuildOptions = Omit<QuantizeOptions, 'signal' | 'onProgress' | 'calibration' | 'calibrationTable'>;

/** How buildEngine writes the precision into the graph before building. */
export interface PrecisionOptions {
  /** INT8: the samples to calibrate on (a folder of .npy/.json feeds, `{ random: N }`, or an iterable of feeds). */
  calibration?: CalibrationSource;
  /** INT8: a calibration table (or the path of its JSON file) to use instead of calibrating. */
  calibrationTable?: CalibrationTable | string;
  /** FP16: options of the FP16 autocast (`convertToFp16`). */
  fp16?: Fp16Options;
  /** INT8: options of the quantization (`quantizeInt8`): calibration method, quantized op types, ... */
  int8?: Int8BuildOptions;
  /** Stops the build (calibration, then TensorRT at its next step) with ERR_ABORTED. */
  signal?: AbortSignal;
  /** Called as calibration batches complete (INT8 only). */
  onCalibrationProgress?: CalibrateOptions['onProgress'];
}

export interface TransformPlan {
  /** For the cache key (stable across runs for the same inputs). */
  steps: TransformStep[];
  /** A calibration table already computed while planning (iterable calibration sources). */
  table?: CalibrationTable;
}

export interface PreparedModel {
  model: OnnxModel;
  fp16?: Fp16Report;
  int8?: QuantizeReport;
  table?: CalibrationTable;
  /** The model carried the precision already; nothing was transformed. */
  asGiven: boolean;
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A stable JSON hash of a calibration table (key order independent). */
function hashTable(table: CalibrationTable): string {
  const sorted = Object.fromEntries(Object.entries(table.tensors).sort(([a], [b]) => a.localeCompare(b)));
  return sha256(JSON.stringify({ method: table.method, percentile: table.percentile ?? null, tensors: sorted }));
}

/** Hash of a calibration folder's files (names and contents). */
async function hashFolder(folder: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of (await readdir(folder)).sort()) {
    hash
      .update(name)
      .update('\0')
      .update(await readFile(join(folder, name)))
      .update('\0');
  }
  return hash.digest('hex');
}

function alreadyInPrecision(precision: Precision, report: InspectReport): boolean {
  if (precision === 'fp16') return report.precision.float16Tensors > 0;
  if (precision === 'int8') return report.precision.quantizeLinear > 0 || report.precision.dequantizeLinear > 0;
  return true;
}

/** The cheap checks of planTransforms, to run before anything slow: INT8 needs calibration data or a table. */
export function checkPrecisionInputs(report: InspectReport, precision: Precision, options: PrecisionOptions): void {
  if (precision !== 'int8' || alreadyInPrecision(precision, report)) return;
  if (options.calibration === undefined && options.calibrationTable === undefined) {
    throw new ArgumentTypeError(
      'Expected calibration data (options.calibration) or a calibration table (options.calibrationTable) for precision "int8" but received neither; a model that already has QuantizeLinear/DequantizeLinear nodes needs neither',
    );
  }
}

/** What the transform will be, for the cache key; computed without transforming (except for iterable calibration). */
export async function planTransforms(
  model: OnnxModel,
  report: InspectReport,
  precision: Precision,
  options: PrecisionOptions,
): Promise<TransformPlan> {
  checkPrecisionInputs(report, precision, options);
  if (alreadyInPrecision(precision, report)) return { steps: [] };
  if (precision === 'fp16') return { steps: [{ name: 'fp16-autocast', version: packageVersion, options: { ...options.fp16 } }] };

  const int8 = { ...options.int8 };
  // Threads of the calibration runner do not change the quantized model: keep them out of the key.
  const { cpu: _cpu, ...int8Key } = int8;
  if (options.calibrationTable !== undefined) {
    const table =
      typeof options.calibrationTable === 'string'
        ? await loadCalibrationTable(options.calibrationTable)
        : options.calibrationTable;
    return {
      steps: [{ name: 'int8-qdq', version: packageVersion, options: { ...int8Key, calibrationTable: hashTable(table) } }],
      table,
    };
  }
  const source = options.calibration!;
  if (typeof source === 'string') {
    return {
      steps: [
        { name: 'int8-qdq', version: packageVersion, options: { ...int8Key, calibrationFolder: await hashFolder(source) } },
      ],
    };
  }
  if (typeof source === 'object' && source !== null && 'random' in source) {
    return { steps: [{ name: 'int8-qdq', version: packageVersion, options: { ...int8Key, calibrationRandom: { ...source } } }] };
  }
  // An iterable can be read only once and says nothing about its contents: calibrate now and key on the result.
  const table = await calibrate(model, source, {
    method: int8.method,
    percentile: int8.percentile,
    opTypes: int8.opTypes,
    shapes: int8.shapes,
    cpu: int8.cpu,
    signal: options.signal,
    onProgress: options.onCalibrationProgress,
  });
  return {
    steps: [{ name: 'int8-qdq', version: packageVersion, options: { ...int8Key, calibrationTable: hashTable(table) } }],
    table,
  };
}

/** Applies the planned transform. */
export async function applyTransforms(
  model: OnnxModel,
  precision: Precision,
  plan: TransformPlan,
  options: PrecisionOptions,
): Promise<PreparedModel> {
  if (plan.steps.length === 0) return { model, asGiven: true };
  if (precision === 'fp16') {
    const { model: converted, report } = convertToFp16(model, options.fp16);
    return { model: converted, fp16: report, asGiven: false };
  }
  const calibration = plan.table ? { calibrationTable: plan.table } : { calibration: options.calibration };
  const {
    model: quantized,
    report,
    table,
  } = await quantizeInt8(model, {
    ...options.int8,
    ...calibration,
    signal: options.signal,
    onProgress: options.onCalibrationProgress,
  });
  return { model: quantized, int8: report, table, asGiven: false };
}
