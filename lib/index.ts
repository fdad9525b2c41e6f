/// <reference types="node" preserve="true" />
/**
 * tensorrt-node: NVIDIA TensorRT and CUDA for Node.js. This is the public API, listed name by name;
 * everything else in lib/ is an implementation detail. The toolkits have entries of their own:
 * `tensorrt-node/onnx` (graph tooling), `tensorrt-node/precision` (calibration, INT8, comparison)
 * and `tensorrt-node/bench` (the benchmark harness).
 *
 * @module tensorrt-node
 */
import {
  allocationStats,
  createEvent,
  createStream,
  defaultStream,
  deviceCount,
  devices,
  isAvailable,
  memoryInfo,
  streamPriorityRange,
} from './cuda/index.js';
import { convertFloat, memset, preprocessImage } from './cuda/index.js';

// Errors and plain data.
export {
  ErrorCode,
  TensorRTNodeError,
  CudaError,
  TensorRTError,
  OnnxError,
  AbortError,
  NativeLoadError,
  ArgumentTypeError,
  ArgumentRangeError,
  isTensorRTNodeError,
  type CudaErrorInfo,
  type ErrorFields,
  type NativeLoadAttempt,
  dtypes,
  dtypeSize,
  float32ToFloat16Bits,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  bfloat16BitsToFloat32,
  toFloat16Array,
  fromFloat16Array,
  toBfloat16Array,
  fromBfloat16Array,
  type DType,
  type DTypeArrayMap,
  type TypedArrayFor,
  type Float16ArrayLike,
  type AnyTypedArray,
  type HostTensor,
  type TensorInfo,
  type TensorMap,
  type InputShapes,
  precisions,
  type Precision,
} from './core/index.js';

// What this machine and build can do.
export {
  capabilities,
  packageVersion as version,
  type Capabilities,
  type CapabilitiesOptions,
  type DeviceInfo,
  type Problem,
  type BuildInfo,
  type CudaDiagnosis,
  type CudaProblemKind,
} from './addon/index.js';
export type { BuildProgressEvent, EngineMetadata, EngineProfile, EngineTensorInfo, ProfileBounds } from './addon/index.js';

/**
 * CUDA devices, streams, events and GPU operations on tensors.
 * @namespace
 */
export const cuda = Object.freeze({
  /** True when CUDA is compiled in, a driver is installed and at least one device is visible. Never throws. */
  isAvailable,
  /** Number of visible CUDA devices. */
  deviceCount,
  /** Every visible device: name, UUID, compute capability, SMs, memory, clocks, PCI bus id, bandwidth. */
  devices,
  /** Free and total memory of a device right now. */
  memoryInfo,
  /** Stream priorities of a device: `greatest` (numerically smallest) runs first; `least` is the default. */
  streamPriorityRange,
  /** Live pinned and device allocations of this process (every tensor not yet freed). */
  allocationStats,
  /** A new CUDA stream with its own submit and completion threads; reuse it. */
  createStream,
  /** A new CUDA event, for timing (`elapsedTime`) and for ordering streams (`waitFor`). */
  createEvent,
  /** The stream operations use when given none: one per device, created on first use. */
  defaultStream,
  /** uint8 HWC/NHWC images to float32/float16 NCHW with per-channel mean/std: a CUDA kernel on pinned/device tensors, the bit-exact CPU code on host tensors. */
  preprocessImage,
  /** float32 to float16 or back (round to nearest even) between tensors: on the GPU, or the CPU for host tensors. */
  convertFloat,
  /** Sets every byte of a tensor to a value (0-255), ordered on a stream for pinned and device tensors. */
  memset,
});
export {
  CudaStream,
  CudaEvent,
  Tensor,
  copy,
  tensorLocations,
  preprocessImageCpu,
  imagePreprocessParams,
  type CudaDevice,
  type StreamOptions,
  type EventOptions,
  type TensorLocation,
  type TensorOptions,
  type FromArrayOptions,
  type CopyOptions,
  type ImagePreprocessOptions,
  type ImagePreprocessParams,
} from './cuda/index.js';

// The TensorRT runtime.
export {
  Engine,
  ExecutionContext,
  setTensorRTLogger,
  logSeverities,
  type EngineLoadOptions,
  type ContextOptions,
  type ContextFeed,
  type ContextFeeds,
  type ContextRunOptions,
  type ContextRunResult,
  type BoundOutput,
  type LayerProfile,
  type LayerProfileOptions,
  type LayerTime,
  type CudaGraphStatus,
  type RunTiming,
  type ProfileSpec,
  type LogSeverity,
  type TensorRTLogger,
  type TensorRTLogMessage,
  type TensorRTLoggerOptions,
  type EngineIncompatibility,
} from './tensorrt/index.js';

// Building engines, and the engine cache.
export {
  buildEngine,
  checkPrecisionApplied,
  countLayerPrecisions,
  type BuildEngineOptions,
  type BuildEngineResult,
  type EngineBuildReport,
  type LayerPrecisionCounts,
} from './builder/index.js';
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

// Backends, and sessions over them.
export {
  BackendGroup,
  CpuBackend,
  createCpuBackend,
  createTensorRTBackend,
  type Backend,
  type BackendKind,
  type BackendRunOptions,
  type BoundTensors,
  type Runner,
  type CpuBackendOptions,
} from './backends/index.js';
export {
  InferenceSession,
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
  type TensorLike,
  type BackendFactory,
  type BackendRequest,
  type BackendChoice,
  type SessionModel,
  type TensorRTBackendOptions,
} from './session/index.js';

// Serving: a model repository over the Open Inference Protocol (also `tensorrt-node/serve`).
export {
  InferenceServer,
  type ServeOptions,
  type ServedFile,
  type ServerUrls,
  type ServerLimits,
  type CloseResult,
  type ModelConfig,
  type ModelDefaults,
  type BatcherConfig,
  type Logger,
  type LogLevel,
} from './serve/index.js';
