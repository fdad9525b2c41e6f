#include "cuda/device_health.h"

#include <array>
#include <mutex>
#include <string>

namespace trt_node::cuda {
namespace {

constexpr int kTrackedDevices = 64;

struct Health {
  std::mutex mutex;
  std::array<std::optional<CudaErrorInfo>, kTrackedDevices> lost;
};

Health& State() {
  static Health* health = new Health();  // process-wide like the CUDA context it describes; never destroyed
  return *health;
}

}  // namespace

bool IsStickyCudaError(int status) noexcept {
  switch (status) {
    case 226:  // cudaErrorContained
    case 700:  // cudaErrorIllegalAddress
    case 702:  // cudaErrorLaunchTimeout
    case 710:  // cudaErrorAssert
    case 714:  // cudaErrorHardwareStackError
    case 715:  // cudaErrorIllegalInstruction
    case 716:  // cudaErrorMisalignedAddress
    case 717:  // cudaErrorInvalidAddressSpace
    case 718:  // cudaErrorInvalidPc
    case 719:  // cudaErrorLaunchFailure
    case 721:  // cudaErrorTensorMemoryLeak
    case 810:  // cudaErrorMpsClientTerminated
    case 911:  // cudaErrorExternalDevice
      return true;
    default:
      return false;
  }
}

void MarkDeviceLost(int device, const CudaErrorInfo& error) noexcept {
  if (device < 0 || device >= kTrackedDevices) return;
  try {
    Health& health = State();
    std::lock_guard<std::mutex> lock(health.mutex);
    if (!health.lost[device]) health.lost[device] = error;
  } catch (...) {
    // Out of memory for the name: the next call on the device reports the sticky error itself.
  }
}

std::optional<CudaErrorInfo> DeviceLostTo(int device) {
  if (device < 0 || device >= kTrackedDevices) return std::nullopt;
  Health& health = State();
  std::lock_guard<std::mutex> lock(health.mutex);
  return health.lost[device];
}

void RequireUsableDevice(int device) {
  const std::optional<CudaErrorInfo> lost = DeviceLostTo(device);
  if (!lost) return;
  NativeError error("ERR_CUDA_STICKY", "CUDA device " + std::to_string(device) + " is unusable: it hit " + lost->name +
                                           " (error " + std::to_string(lost->code) +
                                           ") earlier in this process, a sticky error CUDA cannot recover from. "
                                           "Restart the process to use this GPU again");
  error.withCudaError(lost->code, lost->name);
  throw error;
}

}  // namespace trt_node::cuda
