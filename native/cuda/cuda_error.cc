#include "cuda/cuda_error.h"

#include <string>

#include "cuda/device_health.h"

namespace trt_node::cuda {

CudaErrorClass ClassifyCudaError(int status) noexcept {
  if (IsStickyCudaError(status)) return {"ERR_CUDA_STICKY", ErrorKind::kGeneric};
  switch (status) {
    case cudaErrorInsufficientDriver:
      return {"ERR_CUDA_DRIVER", ErrorKind::kGeneric};
    case cudaErrorNoDevice:
      return {"ERR_NO_CUDA_DEVICE", ErrorKind::kGeneric};
    case cudaErrorMemoryAllocation:
      return {"ERR_OUT_OF_MEMORY", ErrorKind::kGeneric};
    case cudaErrorInvalidDevice:
      return {"ERR_INVALID_ARGUMENT", ErrorKind::kRange};
    default:
      return {"ERR_CUDA", ErrorKind::kGeneric};
  }
}

NativeError CudaFailure(cudaError_t status, std::string_view operation) {
  const CudaErrorClass errorClass = ClassifyCudaError(status);
  const char* name = cudaGetErrorName(status);
  std::string message = std::string(operation) + " failed: " + cudaGetErrorString(status) + " (" + name + ", error " +
                        std::to_string(static_cast<int>(status)) + ")";
  if (status == cudaErrorInsufficientDriver || status == cudaErrorNoDevice) {
    message += "; run `npx tensorrt-node doctor` for the fix";
  }
  cudaGetLastError();  // reset the per-thread last error so the next call starts clean
  if (IsStickyCudaError(status)) {
    // The error belongs to the device this thread works on (stream threads select theirs for good).
    int device = -1;
    if (cudaGetDevice(&device) == cudaSuccess) {
      MarkDeviceLost(device, CudaErrorInfo{static_cast<int>(status), name});
      message += ". This sticky error leaves CUDA device " + std::to_string(device) +
                 " unusable until the process restarts; work for it is refused from now on";
    }
    cudaGetLastError();
  }
  NativeError error(errorClass.code, message, errorClass.kind);
  error.withCudaError(static_cast<int>(status), name);
  return error;
}

}  // namespace trt_node::cuda
