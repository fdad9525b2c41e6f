/**
 * Calibration tables: the amax of every calibrated activation tensor, as JSON that can be saved
 * and reused (quantizing again with other options, or on another machine, without re-running the
 * calibration data).
 *
 * {
 *   "format": "tensorrt-node-calibration", "version": 1,
 *   "method": "entropy", "percentile": 99.99, "samples": 32, "model": "det.onnx",
 *   "tensors": { "conv1_input": { "amax": 2.51, "max": 3.9 }, ... }
 * }
 */
import { NotRegularFileError, readUserFile } from '../core/file-io.js';
import { ArgumentRangeError, ArgumentTypeError, ErrorCode, OnnxError } from '../core/errors.js';
import { describeValue } from '../core/validate.js';
import { writeFileAtomic } from '../core/atomic-write.js';
import type { CalibrationMethod } from './histogram.js';

export const CALIBRATION_FORMAT = 'tensorrt-node-calibration';

/** The calibration of one activation tensor. */
export interface TensorCalibration {
  /** The clipping threshold the method chose; the INT8 scale is amax / 127. */
  amax: number;
  /** The largest |x| observed. */
  max: number;
}

/**
 * A calibration table: the clipping threshold (amax) of every quantized activation, as JSON
 * (`format: "tensorrt-node-calibration"`). Quantizing again with a saved table gives the same model
 * byte for byte.
 */
export interface CalibrationTable {
  format: typeof CALIBRATION_FORMAT;
  version: 1;
  method: CalibrationMethod;
  /** For method "percentile". */
  percentile?: number;
  samples: number;
  /** Where the calibrated model came from (informational). */
  model?: string;
  tensors: Record<string, TensorCalibration>;
}

function invalid(source: string, why: string): ArgumentRangeError {
  return new ArgumentRangeError(
    `Expected a calibration table (format "${CALIBRATION_FORMAT}", version 1) for ${source} but received ${why}`,
  );
}

/** Checks a parsed table; `source` names it in messages. */
export function parseCalibrationTable(value: unknown, source = 'calibration table'): CalibrationTable {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(source, describeValue(value));
  const table = value as Partial<CalibrationTable>;
  if (table.format !== CALIBRATION_FORMAT) throw invalid(source, `format ${describeValue(table.format)}`);
  if (table.version !== 1) throw invalid(source, `version ${describeValue(table.version)}`);
  if (table.method !== 'max' && table.method !== 'percentile' && table.method !== 'entropy' && table.method !== 'mse')
    throw invalid(source, `method ${describeValue(table.method)}`);
  if (typeof table.samples !== 'number' || !Number.isSafeInteger(table.samples) || table.samples < 1)
    throw invalid(source, `samples ${describeValue(table.samples)}`);
  if (typeof table.tensors !== 'object' || table.tensors === null || Array.isArray(table.tensors))
    throw invalid(source, `tensors ${describeValue(table.tensors)}`);
  for (const [name, entry] of Object.entries(table.tensors)) {
    const { amax, max } = (entry ?? {}) as Partial<TensorCalibration>;
    if (
      typeof amax !== 'number' ||
      !Number.isFinite(amax) ||
      amax < 0 ||
      typeof max !== 'number' ||
      !Number.isFinite(max) ||
      max < 0
    ) {
      throw invalid(
        source,
        `tensor ${JSON.stringify(name)} with ${JSON.stringify(entry)} (amax and max must be finite and >= 0)`,
      );
    }
  }
  return table as CalibrationTable;
}

/** Checks `table` and writes it as JSON to `path` atomically (temporary file + rename). */
export async function saveCalibrationTable(table: CalibrationTable, path: string): Promise<void> {
  if (typeof path !== 'string' || path.length === 0)
    throw new ArgumentTypeError(`Expected a file path for path but received ${describeValue(path)}`);
  parseCalibrationTable(table, 'table');
  await writeFileAtomic(path, `${JSON.stringify(table, null, 2)}\n`, { errorClass: OnnxError });
}

/** Reads and checks a calibration table; ERR_IO when unreadable, ERR_INVALID_ARGUMENT when it is not one. */
export async function loadCalibrationTable(path: string): Promise<CalibrationTable> {
  let text: string;
  try {
    text = (await readUserFile(path)).toString('utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const received =
      error instanceof NotRegularFileError ? error.kind : code === 'ENOENT' ? 'a path that does not exist' : String(code);
    throw new OnnxError(ErrorCode.IO, `Expected a readable calibration table at ${path} but received ${received}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid(path, `text that is not JSON (${(error as Error).message})`);
  }
  return parseCalibrationTable(parsed, path);
}
