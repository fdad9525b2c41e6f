/**
 * lib/core: what every layer needs and nothing else: the error family, argument validation with one
 * message template, dtypes and their TypedArrays, tensors as plain data, units and durations,
 * precisions, dispose and abort errors, atomic file writes. Imports nothing from other layers.
 */
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
} from './errors.js';
export {
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
} from './dtypes.js';
export type { TensorInfo, TensorMap } from './tensors.js';
export type { InputShapes } from './shape-spec.js';
export { precisions, type Precision } from './precision.js';
