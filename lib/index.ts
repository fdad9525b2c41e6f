/**
 * tensorrt-node: NVIDIA TensorRT and CUDA for Node.js.
 * The public API; everything else in lib/ is an implementation detail.
 */
export * from './core/errors.js';
export { capabilities, type Capabilities, type CapabilitiesOptions, type DeviceInfo, type Problem } from './addon/capabilities.js';
export { packageVersion as version } from './addon/loader.js';
export type { BuildInfo } from './addon/types.js';
export { Engine, type EngineLoadOptions } from './tensorrt/engine.js';
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
} from './tensorrt/execution-context.js';
export type { RunInput, RunInputs } from './tensorrt/bindings.js';
export type { RunTiming } from './tensorrt/timing.js';
export { setTensorRTLogger, logSeverities, type LogSeverity, type TensorRTLogger, type TensorRTLogMessage, type TensorRTLoggerOptions } from './tensorrt/log.js';
export type { EngineMetadata, EngineTensorInfo, EngineProfile, ProfileBounds } from './addon/types.js';
export { diagnoseEngineLoadFailure, type EngineIncompatibility } from './tensorrt/diagnosis.js';
export * from './core/dtypes.js';
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
} from './cache/index.js';
import { allocationStats, createEvent, createStream, defaultStream, deviceCount, devices, isAvailable, memoryInfo, streamPriorityRange } from './cuda/runtime.js';
import { convertFloat, memset, preprocessImage } from './cuda/preprocess.js';
/** CUDA devices, streams, events and GPU operations (lib/cuda.ts); internals stay out of it. */
export const cuda = Object.freeze({ isAvailable, deviceCount, devices, memoryInfo, streamPriorityRange, allocationStats, createStream, createEvent, defaultStream, preprocessImage, convertFloat, memset });
export { CudaStream, CudaEvent, type CudaDevice, type StreamOptions, type EventOptions } from './cuda/runtime.js';
export { Tensor, copy, tensorLocations, type TensorLocation, type TensorOptions, type FromArrayOptions, type CopyOptions } from './cuda/tensor.js';
export { preprocessImage, preprocessImageCpu, imagePreprocessParams, convertFloat, memset, type ImagePreprocessOptions, type ImagePreprocessParams } from './cuda/preprocess.js';
export type { Backend, BackendKind, RunOptions as BackendRunOptions, Runner, TensorInfo, TensorMap } from './backends/backend.js';
export { CpuBackend, createCpuBackend, type CpuBackendOptions } from './backends/cpu/backend.js';
export { createTensorRTBackend } from './backends/tensorrt/backend.js';
export type { TensorRTBackendOptions } from './session/factories/tensorrt.js';
export { parseModel, readModel, serializeModel, writeModel, cloneModel, type OnnxModel, type ReadModelOptions, type WriteModelOptions } from './onnx/model.js';
export { inspect, formatInspectReport, type InspectReport } from './onnx/inspect.js';
export { convertToFp16, DEFAULT_FP16_BLOCKED_OPS, type Fp16Options, type Fp16Report } from './onnx/fp16.js';
export { quantizeInt8, type QuantizeOptions, type QuantizeReport } from './precision/quantize.js';
export { DEFAULT_QUANTIZED_OPS } from './onnx/quantize-plan.js';
export { calibrate, type CalibrateOptions, type Progress } from './precision/calibrate.js';
export { loadCalibrationTable, saveCalibrationTable, type CalibrationTable } from './onnx/calibration-table.js';
export type { CalibrationSource, InputShapes, RandomCalibration } from './precision/calibration-data.js';
export type { CalibrationMethod } from './onnx/histogram.js';
export { compare, type CompareOptions, type CompareReport, type OutputComparison } from './precision/compare.js';
export { buildEngine, type BuildEngineOptions, type BuildEngineResult, type EngineBuildReport } from './builder/build-engine.js';
export type { BuildProgressEvent } from './builder/progress.js';
export type { ProfileSpec, ShapeBounds } from './builder/profiles.js';
export { checkPrecisionApplied, countLayerPrecisions, type LayerPrecisionCounts, type Precision } from './builder/precision-check.js';
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
} from './session/inference-session.js';
export { BackendGroup } from './backends/group.js';
