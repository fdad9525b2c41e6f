/**
 * tensorrt-node: NVIDIA TensorRT and CUDA for Node.js.
 * The public API; everything else in lib/ is an implementation detail.
 */
export * from './errors.js';
export { capabilities, type Capabilities, type CapabilitiesOptions, type DeviceInfo, type Problem } from './capabilities.js';
export { packageVersion as version } from './native.js';
export type { BuildInfo } from './native.js';
export type { Backend, BackendKind, RunOptions, Runner, TensorInfo, TensorMap } from './backends/backend.js';
export { CpuBackend, createCpuBackend, type CpuBackendOptions } from './backends/cpu.js';
export { parseModel, readModel, serializeModel, writeModel, cloneModel, type OnnxModel, type ReadModelOptions, type WriteModelOptions } from './onnx/model.js';
export { inspect, formatInspectReport, type InspectReport } from './onnx/inspect.js';
export { convertToFp16, DEFAULT_FP16_BLOCKED_OPS, type Fp16Options, type Fp16Report } from './onnx/fp16.js';
export { quantizeInt8, type QuantizeOptions, type QuantizeReport } from './onnx/quantize.js';
export { DEFAULT_QUANTIZED_OPS } from './onnx/quantize-plan.js';
export { calibrate, type CalibrateOptions, type Progress } from './onnx/calibrate.js';
export { loadCalibrationTable, saveCalibrationTable, type CalibrationTable } from './onnx/calibration-table.js';
export type { CalibrationSource, InputShapes, RandomCalibration } from './onnx/calibration-data.js';
export type { CalibrationMethod } from './onnx/histogram.js';
export { compare, type CompareOptions, type CompareReport, type OutputComparison } from './onnx/compare.js';
