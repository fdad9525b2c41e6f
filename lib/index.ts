/**
 * tensorrt-node: NVIDIA TensorRT and CUDA for Node.js.
 * The public API; everything else in lib/ is an implementation detail.
 */
export * from './errors.js';
export { capabilities, type Capabilities, type CapabilitiesOptions, type DeviceInfo, type Problem } from './capabilities.js';
export { packageVersion as version } from './native.js';
export type { BuildInfo } from './native.js';
export { Engine, type EngineLoadOptions } from './engine.js';
export {
  ExecutionContext,
  type ContextOptions,
  type RunOptions as ContextRunOptions,
  type RunResult,
  type BoundOutput,
  type LayerProfile,
  type LayerProfileOptions,
  type LayerTime,
  type CudaGraphStatus,
} from './execution-context.js';
export type { RunInput, RunInputs } from './run-bindings.js';
export type { RunTiming } from './run-timing.js';
export { setTensorRTLogger, logSeverities, type LogSeverity, type TensorRTLogger, type TensorRTLogMessage, type TensorRTLoggerOptions } from './tensorrt-log.js';
export type { EngineMetadata, EngineTensorInfo, EngineProfile, ProfileBounds } from './engine-metadata.js';
export { diagnoseEngineLoadFailure, type EngineIncompatibility } from './engine-diagnosis.js';
export * from './dtypes.js';
export {
  EngineCache,
  cacheKey,
  hashFile,
  CacheWarning,
  defaultCacheDirectory,
  ENGINE_BUILD_OPTION_NAMES,
  NON_ENGINE_BUILD_OPTION_NAMES,
  type EngineCacheOptions,
  type CacheKey,
  type CacheKeyParts,
  type CacheEntryInfo,
  type CacheWarningReason,
  type TimingCacheFile,
  type BuiltEngine,
  type GetOrBuildResult,
} from './cache.js';
import { allocationStats, createEvent, createStream, defaultStream, deviceCount, devices, isAvailable, memoryInfo, streamPriorityRange } from './cuda.js';
import { convertFloat, memset, preprocessImage } from './preprocess.js';
/** CUDA devices, streams, events and GPU operations (lib/cuda.ts); internals stay out of it. */
export const cuda = Object.freeze({ isAvailable, deviceCount, devices, memoryInfo, streamPriorityRange, allocationStats, createStream, createEvent, defaultStream, preprocessImage, convertFloat, memset });
export { CudaStream, CudaEvent, type CudaDevice, type StreamOptions, type EventOptions } from './cuda.js';
export { Tensor, copy, tensorLocations, type TensorLocation, type TensorOptions, type FromArrayOptions, type CopyOptions } from './tensor.js';
export { preprocessImage, preprocessImageCpu, imagePreprocessParams, convertFloat, memset, type ImagePreprocessOptions, type ImagePreprocessParams } from './preprocess.js';
export type { Backend, BackendKind, RunOptions as BackendRunOptions, Runner, TensorInfo, TensorMap } from './backends/backend.js';
export { CpuBackend, createCpuBackend, type CpuBackendOptions } from './backends/cpu.js';
export { createTensorRTBackend } from './backends/tensorrt.js';
export type { TensorRTBackendOptions } from './backends/tensorrt-factory.js';
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
export { buildEngine, type BuildEngineOptions, type BuildEngineResult, type EngineBuildReport } from './build/build-engine.js';
export type { BuildProgressEvent } from './build/progress.js';
export type { ProfileSpec, ShapeBounds } from './build/profiles.js';
export { checkPrecisionApplied, countLayerPrecisions, type LayerPrecisionCounts, type Precision } from './build/precision-check.js';
export {
  InferenceSession,
  createSession,
  Batcher,
  Binding,
  formatPrometheus,
  registerBackendFactory,
  type DisposeOptions,
  type SessionOptions,
  type ModelInput,
  type BatcherOptions,
  type BindingOptions,
  type BindingRunOptions,
  type SessionMetricsSnapshot,
  type HistogramSnapshot,
  type AnySignature,
  type Feeds,
  type FeedValue,
  type ModelSignature,
  type PlainValues,
  type Results,
  type SessionRunOptions,
  type BackendFactory,
  type BackendRequest,
  type BackendChoice,
  type SessionModel,
} from './session.js';
export { BackendGroup } from './backends/group.js';
