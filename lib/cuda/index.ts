/**
 * lib/cuda: CUDA from TypeScript: devices, streams, events, tensors in host, pinned or device memory,
 * copies, and the preprocessing and conversion kernels. Public as the `cuda` namespace plus the
 * Tensor and stream classes.
 */
export {
  isAvailable,
  deviceCount,
  devices,
  memoryInfo,
  streamPriorityRange,
  allocationStats,
  type CudaDevice,
} from './devices.js';
export {
  CudaStream,
  CudaEvent,
  createStream,
  createEvent,
  defaultStream,
  type StreamOptions,
  type EventOptions,
} from './streams.js';
export {
  Tensor,
  copy,
  tensorLocations,
  type TensorLocation,
  type TensorOptions,
  type FromArrayOptions,
  type CopyOptions,
} from './tensor.js';
export {
  preprocessImage,
  preprocessImageCpu,
  imagePreprocessParams,
  convertFloat,
  memset,
  type ImagePreprocessOptions,
  type ImagePreprocessParams,
} from './preprocess.js';
