// CUDA status codes become trt_node::NativeError here, and nowhere else: one mapping from
// cudaError_t to the stable codes of the JavaScript error family, with the CUDA name attached
// (error.cudaError = { code, name } in JavaScript).
#pragma once

#include <cuda_runtime_api.h>

#include <string_view>

#include "core/error.h"

namespace trt_node::cuda {

struct CudaErrorClass {
  const char* code;  // "ERR_CUDA_DRIVER", ...
  ErrorKind kind;
};

// 35 cudaErrorInsufficientDriver -> ERR_CUDA_DRIVER, 100 cudaErrorNoDevice -> ERR_NO_CUDA_DEVICE,
// 2 cudaErrorMemoryAllocation -> ERR_OUT_OF_MEMORY, 101 cudaErrorInvalidDevice -> ERR_INVALID_ARGUMENT
// (a RangeError: a device index out of range), the sticky errors (700, 719, ...: see
// device_health.h) -> ERR_CUDA_STICKY, anything else -> ERR_CUDA.
CudaErrorClass ClassifyCudaError(int status) noexcept;

// "<operation> failed: <cudaGetErrorString> (<cudaGetErrorName>, error <n>)", plus a pointer to
// `doctor` for driver and device problems. Clears the calling thread's last error where CUDA allows
// (sticky errors, such as a missing driver or a failed kernel, stay: CUDA offers no way to clear them).
// A sticky error also marks the calling thread's current device lost (cuda/device_health.h).
NativeError CudaFailure(cudaError_t status, std::string_view operation);

inline void CudaCheck(cudaError_t status, std::string_view operation) {
  if (status != cudaSuccess) throw CudaFailure(status, operation);
}

}  // namespace trt_node::cuda
