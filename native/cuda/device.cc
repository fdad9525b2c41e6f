#include "cuda/device.h"

#include <cuda_runtime_api.h>

#include "cuda/cuda_error.h"
#include "cuda/device_health.h"
#include "cuda/runtime_probe.h"

namespace trt_node::cuda {
namespace {

// cuCtxGetCurrent from the driver, found through the runtime (the addon never links libcuda): the
// runtime API cannot tell "device 0 is current" from "no context is current".
using CtxGetCurrentFn = int (*)(void** context);  // CUresult cuCtxGetCurrent(CUcontext*)

CtxGetCurrentFn CtxGetCurrent() {
  static const CtxGetCurrentFn function = []() -> CtxGetCurrentFn {
    void* symbol = nullptr;
    cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
    if (cudaGetDriverEntryPointByVersion("cuCtxGetCurrent", &symbol, 12000, cudaEnableDefault, &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess) {
      cudaGetLastError();
      return nullptr;
    }
    return reinterpret_cast<CtxGetCurrentFn>(symbol);
  }();
  return function;
}

// True when the driver cannot say: restoring is then what the code did before.
bool ContextIsCurrent() {
  const CtxGetCurrentFn function = CtxGetCurrent();
  if (function == nullptr) return true;
  void* context = nullptr;
  return function(&context) != 0 || context != nullptr;
}

int Attribute(cudaDeviceAttr attribute, int device) {
  int value = 0;
  CudaCheck(cudaDeviceGetAttribute(&value, attribute, device), "cudaDeviceGetAttribute");
  return value;
}

}  // namespace

int DeviceCount() {
  int count = 0;
  CudaCheck(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
  if (count == 0) throw CudaFailure(cudaErrorNoDevice, "cudaGetDeviceCount");
  return count;
}

void RequireDevice(int index, const char* what) {
  const int count = DeviceCount();
  if (index < 0 || index >= count) {
    throw NativeError("ERR_INVALID_ARGUMENT",
                      "Expected an integer between 0 and " + std::to_string(count - 1) + " for " + what +
                          " but received " + std::to_string(index) + " of type number",
                      ErrorKind::kRange);
  }
}

DeviceProperties QueryDevice(int index) {
  RequireDevice(index, "device");
  cudaDeviceProp props{};
  CudaCheck(cudaGetDeviceProperties(&props, index), "cudaGetDeviceProperties");
  DeviceProperties device;
  device.index = index;
  device.name = props.name;
  device.uuid = FormatUuid(reinterpret_cast<const unsigned char*>(props.uuid.bytes));
  device.computeMajor = props.major;
  device.computeMinor = props.minor;
  device.multiProcessorCount = props.multiProcessorCount;
  device.totalMemoryBytes = props.totalGlobalMem;
  device.memoryBusWidthBits = props.memoryBusWidth;
  device.l2CacheBytes = props.l2CacheSize;
  device.asyncEngineCount = props.asyncEngineCount;
  device.integrated = props.integrated != 0;
  device.canMapHostMemory = props.canMapHostMemory != 0;
  device.unifiedAddressing = props.unifiedAddressing != 0;
  device.clockRateKHz = Attribute(cudaDevAttrClockRate, index);
  device.memoryClockRateKHz = Attribute(cudaDevAttrMemoryClockRate, index);
  device.memoryPoolsSupported = Attribute(cudaDevAttrMemoryPoolsSupported, index) != 0;
  char busId[32] = {0};
  CudaCheck(cudaDeviceGetPCIBusId(busId, sizeof(busId), index), "cudaDeviceGetPCIBusId");
  device.pciBusId = busId;
  return device;
}

MemoryInfo QueryMemory(int index) {
  RequireDevice(index, "device");
  ScopedDevice scoped(index);
  size_t freeBytes = 0;
  size_t totalBytes = 0;
  CudaCheck(cudaMemGetInfo(&freeBytes, &totalBytes), "cudaMemGetInfo");
  return MemoryInfo{freeBytes, totalBytes};
}

StreamPriorityRange QueryStreamPriorityRange(int index) {
  RequireDevice(index, "device");
  ScopedDevice scoped(index);
  StreamPriorityRange range;
  CudaCheck(cudaDeviceGetStreamPriorityRange(&range.least, &range.greatest), "cudaDeviceGetStreamPriorityRange");
  return range;
}

ScopedDevice::ScopedDevice(int device) {
  RequireUsableDevice(device);
  restore_ = ContextIsCurrent();
  CudaCheck(cudaGetDevice(&previous_), "cudaGetDevice");
  if (previous_ != device) CudaCheck(cudaSetDevice(device), "cudaSetDevice");
}

ScopedDevice::~ScopedDevice() {
  // With no context current before, cudaGetDevice said 0 by default: "restoring" device 0 would
  // create a context there (hundreds of MB on GPU 0 for work on GPU N). Leave the device selected.
  if (!restore_) return;
  int current = -1;
  if (cudaGetDevice(&current) == cudaSuccess && current != previous_) cudaSetDevice(previous_);
  cudaGetLastError();
}

void SelectDevice(int device) {
  RequireUsableDevice(device);
  CudaCheck(cudaSetDevice(device), "cudaSetDevice");
}

PointerKind KindOfPointer(const void* pointer) {
  cudaPointerAttributes attributes{};
  CudaCheck(cudaPointerGetAttributes(&attributes, pointer), "cudaPointerGetAttributes");
  switch (attributes.type) {
    case cudaMemoryTypeHost:
      return PointerKind::kPinned;
    case cudaMemoryTypeDevice:
      return PointerKind::kDevice;
    case cudaMemoryTypeManaged:
      return PointerKind::kManaged;
    case cudaMemoryTypeUnregistered:
      break;
  }
  return PointerKind::kPageable;
}

const char* PointerKindName(PointerKind kind) noexcept {
  switch (kind) {
    case PointerKind::kPinned:
      return "pinned";
    case PointerKind::kDevice:
      return "device";
    case PointerKind::kManaged:
      return "managed";
    case PointerKind::kPageable:
      break;
  }
  return "pageable";
}

}  // namespace trt_node::cuda
