/// <reference types="node" preserve="true" />
/**
 * `tensorrt-node/onnx`: ONNX graph tooling that never runs a model: read and write models (with
 * external data), inspect them for TensorRT, convert them to float16, plan INT8 quantization and
 * store calibration tables. What runs models (calibration, INT8 quantization, comparison) is in
 * `tensorrt-node/precision`.
 *
 * @module tensorrt-node/onnx
 */
export {
  parseModel,
  readModel,
  serializeModel,
  writeModel,
  cloneModel,
  type OnnxModel,
  type ReadModelOptions,
  type WriteModelOptions,
} from './model.js';
export { inspect, formatInspectReport, type InspectReport, type TensorSummary, type TensorRTFinding } from './inspect.js';
export { convertToFp16, DEFAULT_FP16_BLOCKED_OPS, type Fp16Options, type Fp16Report } from './fp16.js';
export { emulateFloat16Storage } from './fp16-emulation.js';
export { DEFAULT_QUANTIZED_OPS } from './quantize-plan.js';
export {
  loadCalibrationTable,
  saveCalibrationTable,
  type CalibrationTable,
  type TensorCalibration,
} from './calibration-table.js';
export type { CalibrationMethod } from './histogram.js';
