// Devices lost to a sticky CUDA error. After cudaErrorIllegalAddress (700), cudaErrorLaunchFailure
// (719) and the other errors CUDA documents as "the process must be terminated and relaunched",
// every later call on that device fails with the same error. Rather than letting each caller find
// out (queueing work, allocating, waiting), the first failure marks the device lost process-wide and
// work aimed at it is refused at once with ERR_CUDA_STICKY and a message that says what to do.
#pragma once

#include <optional>

#include "core/error.h"

namespace trt_node::cuda {

// CUDA's sticky errors (driver_types.h of CUDA 13: the ones after which the process must restart).
bool IsStickyCudaError(int status) noexcept;

// Records that `device` hit sticky `error` (the first one per device is kept). Thread-safe.
void MarkDeviceLost(int device, const CudaErrorInfo& error) noexcept;
std::optional<CudaErrorInfo> DeviceLostTo(int device);

// Throws ERR_CUDA_STICKY (with the original cudaError) when `device` was lost.
void RequireUsableDevice(int device);

}  // namespace trt_node::cuda
