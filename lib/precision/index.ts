/// <reference types="node" preserve="true" />
/**
 * `tensorrt-node/precision`: the precision steps that run the model (on the cpu backend, the FP32
 * reference): calibration, INT8 quantization with Q/DQ nodes, accuracy-targeted mixed precision
 * (FP16 and INT8), and comparing a model's outputs with a reference. They sit above the backends
 * because they run models; the pure graph rewrites are in `tensorrt-node/onnx`.
 *
 * @module tensorrt-node/precision
 */
export { calibrate, type CalibrateOptions, type Progress } from './calibrate.js';
export { quantizeInt8, type QuantizeOptions, type QuantizeReport } from './quantize.js';
export {
  compare,
  type CompareOptions,
  type CompareReport,
  type CompareSide,
  type OutputComparison,
  type NonFiniteCounts,
} from './compare.js';
export { convertToFp16WithAccuracy, type Fp16AccuracyOptions, type MixedPrecisionReport } from './mixed-precision.js';
export type { AccuracyTarget, AccuracyMeasure } from './accuracy.js';
export type { SearchProgress } from './search.js';
export type { CalibrationSource, RandomCalibration } from './calibration-data.js';
export type { InputShapes } from '../core/shape-spec.js';
