// Device selection, device queries and versions of the emulated runtime. Every emulated device
// names itself "tensorrt-node emulated device (no GPU)", reports compute capability 0.0 and a PCI
// domain of ffff, so no report can pass it off as a GPU.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstring>

#include "emulated/cuda/hooks.h"
#include "emulated/cuda/memory.h"
#include "emulated/cuda/state.h"
#include "emulated/cuda/stream.h"

using trt_node::emulated::CurrentThread;
using trt_node::emulated::Enter;
using trt_node::emulated::kDeviceMemoryBytes;
using trt_node::emulated::MemoryKind;
using trt_node::emulated::MemoryRegistry;
using trt_node::emulated::Runtime;
using trt_node::emulated::UseContext;

namespace {

constexpr int kClockRateKHz = 1'000'000;
constexpr int kMemoryBusWidthBits = 64;

int AttributeValue(cudaDeviceAttr attribute, int device) {
  switch (attribute) {
    case cudaDevAttrMaxThreadsPerBlock:
      return 1024;
    case cudaDevAttrWarpSize:
      return 32;
    case cudaDevAttrClockRate:
    case cudaDevAttrMemoryClockRate:
      return kClockRateKHz;
    case cudaDevAttrMultiProcessorCount:
      return 1;
    case cudaDevAttrCanMapHostMemory:
    case cudaDevAttrUnifiedAddressing:
    case cudaDevAttrMemoryPoolsSupported:
      return 1;
    case cudaDevAttrAsyncEngineCount:
      return 2;
    case cudaDevAttrGlobalMemoryBusWidth:
      return kMemoryBusWidthBits;
    case cudaDevAttrPciDomainId:
      return 0xffff;
    case cudaDevAttrPciBusId:
      return 0xee;
    case cudaDevAttrPciDeviceId:
      return device;
    default:
      return 0;  // compute capability 0.0, integrated 0, and every other attribute: not a GPU
  }
}

// cuCtxGetCurrent, as returned by cudaGetDriverEntryPointByVersion: a context is current on a thread
// after cudaSetDevice or after a call that needed one, as in CUDA.
int EmulatedCtxGetCurrent(void** context) {
  static char tokens[trt_node::emulated::kMaxDevices];
  if (context == nullptr) return 1;  // CUDA_ERROR_INVALID_VALUE
  const auto& thread = CurrentThread();
  *context = thread.contextBound ? static_cast<void*>(&tokens[thread.device]) : nullptr;
  return 0;
}

}  // namespace

extern "C" const char* trtnodeEmulatedDeviceName(void) { return "tensorrt-node emulated device (no GPU)"; }

cudaError_t CUDARTAPI cudaRuntimeGetVersion(int* version) {
  if (version == nullptr) return cudaErrorInvalidValue;
  *version = CUDART_VERSION;
  return cudaSuccess;
}

// The emulation stands in for a driver of the same CUDA version.
cudaError_t CUDARTAPI cudaDriverGetVersion(int* version) {
  if (version == nullptr) return cudaErrorInvalidValue;
  *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t CUDARTAPI cudaGetDeviceCount(int* count) {
  return Enter("cudaGetDeviceCount", [&] {
    if (count == nullptr) return cudaErrorInvalidValue;
    *count = Runtime::Get().deviceCount();
    return cudaSuccess;
  });
}

// Like CUDA 12+: selecting a device initializes its primary context and makes it current.
cudaError_t CUDARTAPI cudaSetDevice(int device) {
  return Enter("cudaSetDevice", [&] {
    if (!Runtime::Get().ValidDevice(device)) return cudaErrorInvalidDevice;
    auto& thread = CurrentThread();
    thread.device = device;
    return UseContext();
  });
}

// Answers without creating a context (0 when nothing was selected), like CUDA.
cudaError_t CUDARTAPI cudaGetDevice(int* device) {
  return Enter("cudaGetDevice", [&] {
    if (device == nullptr) return cudaErrorInvalidValue;
    *device = CurrentThread().device;
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaDeviceGetAttribute(int* value, cudaDeviceAttr attribute, int device) {
  return Enter("cudaDeviceGetAttribute", [&] {
    if (value == nullptr) return cudaErrorInvalidValue;
    if (!Runtime::Get().ValidDevice(device)) return cudaErrorInvalidDevice;
    *value = AttributeValue(attribute, device);
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  return Enter("cudaGetDeviceProperties", [&] {
    if (prop == nullptr) return cudaErrorInvalidValue;
    if (!Runtime::Get().ValidDevice(device)) return cudaErrorInvalidDevice;
    std::memset(prop, 0, sizeof(*prop));
    std::snprintf(prop->name, sizeof(prop->name), "%s", trtnodeEmulatedDeviceName());
    const char uuid[16] = {'t', 'r', 't', 'n', 'o', 'd', 'e', '-',
                           'e', 'm', 'u', 'l', 'a', 't', 'e', static_cast<char>(device)};
    std::memcpy(prop->uuid.bytes, uuid, sizeof(uuid));
    prop->totalGlobalMem = kDeviceMemoryBytes;
    prop->warpSize = 32;
    prop->maxThreadsPerBlock = 1024;
    prop->multiProcessorCount = 1;
    prop->canMapHostMemory = 1;
    prop->unifiedAddressing = 1;
    prop->asyncEngineCount = 2;
    prop->memoryBusWidth = kMemoryBusWidthBits;
    prop->pciDomainID = 0xffff;
    prop->pciBusID = 0xee;
    prop->pciDeviceID = device;
    prop->memoryPoolsSupported = 1;
    prop->streamPrioritiesSupported = 1;
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaDeviceGetPCIBusId(char* pciBusId, int len, int device) {
  return Enter("cudaDeviceGetPCIBusId", [&] {
    if (pciBusId == nullptr || len <= 0) return cudaErrorInvalidValue;
    if (!Runtime::Get().ValidDevice(device)) return cudaErrorInvalidDevice;
    std::snprintf(pciBusId, static_cast<size_t>(len), "ffff:ee:%02x.0", device);
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaDeviceGetStreamPriorityRange(int* leastPriority, int* greatestPriority) {
  return Enter("cudaDeviceGetStreamPriorityRange", [&] {
    if (cudaError_t status = UseContext(); status != cudaSuccess) return status;
    if (leastPriority != nullptr) *leastPriority = 0;
    if (greatestPriority != nullptr) *greatestPriority = -5;
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaMemGetInfo(size_t* freeBytes, size_t* totalBytes) {
  return Enter("cudaMemGetInfo", [&] {
    if (cudaError_t status = UseContext(); status != cudaSuccess) return status;
    const int64_t used = MemoryRegistry::Get().liveBytes(MemoryKind::kDevice, CurrentThread().device);
    if (totalBytes != nullptr) *totalBytes = kDeviceMemoryBytes;
    if (freeBytes != nullptr) {
      *freeBytes =
          used >= static_cast<int64_t>(kDeviceMemoryBytes) ? 0 : kDeviceMemoryBytes - static_cast<size_t>(used);
    }
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaDeviceSynchronize(void) {
  return Enter("cudaDeviceSynchronize", [&] {
    if (cudaError_t status = UseContext(); status != cudaSuccess) return status;
    if (cudaError_t refused = trt_node::emulated::RefuseDuringCapture(); refused != cudaSuccess) return refused;
    return trt_node::emulated::SynchronizeDevice(CurrentThread().device);
  });
}

// Only cuCtxGetCurrent is offered (tensorrt-node asks whether a context is current before it
// restores a device); every other driver symbol is reported missing.
cudaError_t CUDARTAPI cudaGetDriverEntryPointByVersion(const char* symbol, void** funcPtr, unsigned int cudaVersion,
                                                       unsigned long long flags,
                                                       cudaDriverEntryPointQueryResult* driverStatus) {
  return Enter("cudaGetDriverEntryPointByVersion", [&] {
    if (symbol == nullptr || funcPtr == nullptr) return cudaErrorInvalidValue;
    if (std::strcmp(symbol, "cuCtxGetCurrent") == 0) {
      *funcPtr = reinterpret_cast<void*>(&EmulatedCtxGetCurrent);
      if (driverStatus != nullptr) *driverStatus = cudaDriverEntryPointSuccess;
      return cudaSuccess;
    }
    *funcPtr = nullptr;
    if (driverStatus != nullptr) *driverStatus = cudaDriverEntryPointSymbolNotFound;
    return cudaSuccess;  // as CUDA: the answer is in driverStatus
  });
}
