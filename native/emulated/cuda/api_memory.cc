// Allocation, copies and memsets of the emulated runtime. Device and pinned memory are both host
// memory from MemoryRegistry (unified addressing: a pinned pointer is its own device pointer). Copies
// and memsets run on the stream's worker and check their ranges there, when it matters: memory freed
// in the meantime is an illegal address (sticky 700), as it would be on a GPU.
#include <cuda_runtime_api.h>

#include <cstring>
#include <memory>
#include <string>

#include "emulated/cuda/memory.h"
#include "emulated/cuda/state.h"
#include "emulated/cuda/stream.h"

using trt_node::emulated::AccessCheck;
using trt_node::emulated::Allocation;
using trt_node::emulated::CurrentThread;
using trt_node::emulated::Enter;
using trt_node::emulated::FindStream;
using trt_node::emulated::MemoryKind;
using trt_node::emulated::MemoryRegistry;
using trt_node::emulated::Operation;
using trt_node::emulated::OperationContext;
using trt_node::emulated::RefuseDuringCapture;
using trt_node::emulated::Runtime;
using trt_node::emulated::UseContext;

namespace trt_node::emulated {

// A failed check of a running operation: counted, said on stderr and made the device's sticky error.
cudaError_t Violation(const OperationContext& context, const std::string& operation, const AccessCheck& check) {
  DeviceState& device = Runtime::Get().device(context.device);
  device.memoryViolations.fetch_add(1);
  device.Poison(check.status, operation + " on stream " + std::to_string(context.streamId) + ": " + check.why);
  return check.status;
}

}  // namespace trt_node::emulated

namespace {

using trt_node::emulated::Violation;

bool Quarantined(const void* pointer) {
  Allocation allocation;
  return MemoryRegistry::Get().Lookup(pointer, &allocation) && allocation.freed;
}

std::shared_ptr<Operation> CopyOperation(void* dst, const void* src, size_t bytes, const char* name) {
  auto operation = std::make_shared<Operation>();
  operation->name = name;
  operation->run = [dst, src, bytes, name](const OperationContext& context) {
    MemoryRegistry& registry = MemoryRegistry::Get();
    AccessCheck check = registry.Check(src, bytes, false, context.device, "its source");
    if (check.status == cudaSuccess) check = registry.Check(dst, bytes, false, context.device, "its destination");
    if (check.status != cudaSuccess) return Violation(context, name, check);
    std::memmove(dst, src, bytes);
    return cudaSuccess;
  };
  return operation;
}

std::shared_ptr<Operation> MemsetOperation(void* dst, int value, size_t bytes, const char* name) {
  auto operation = std::make_shared<Operation>();
  operation->name = name;
  operation->run = [dst, value, bytes, name](const OperationContext& context) {
    const AccessCheck check = MemoryRegistry::Get().Check(dst, bytes, true, context.device, "its destination");
    if (check.status != cudaSuccess) return Violation(context, name, check);
    std::memset(dst, value, bytes);
    return cudaSuccess;
  };
  return operation;
}

cudaError_t SubmitAndWait(const std::shared_ptr<Operation>& operation) {
  std::shared_ptr<CUstream_st> stream = FindStream(nullptr);
  if (!stream) return cudaErrorInvalidDevice;
  const cudaError_t submitted = stream->Submit(operation);
  if (submitted != cudaSuccess) return submitted;
  return stream->Synchronize();
}

}  // namespace

cudaError_t CUDARTAPI cudaMalloc(void** devPtr, size_t size) {
  return Enter("cudaMalloc", [&] {
    if (devPtr == nullptr) return cudaErrorInvalidValue;
    if (cudaError_t status = UseContext(); status != cudaSuccess) return status;
    if (cudaError_t refused = RefuseDuringCapture(); refused != cudaSuccess) return refused;
    *devPtr = nullptr;
    if (size == 0) return cudaSuccess;
    *devPtr = MemoryRegistry::Get().Allocate(size, MemoryKind::kDevice, CurrentThread().device);
    Runtime::Get().NoteResourceCreated();
    return cudaSuccess;
  });
}

// cudaFree waits for the device to finish its work first, as CUDA does.
cudaError_t CUDARTAPI cudaFree(void* devPtr) {
  return Enter("cudaFree", [&] {
    if (devPtr == nullptr) return cudaSuccess;
    if (cudaError_t refused = RefuseDuringCapture(); refused != cudaSuccess) return refused;
    Allocation allocation;
    if (MemoryRegistry::Get().Find(devPtr, MemoryKind::kDevice, &allocation) != cudaSuccess) {
      return cudaErrorInvalidValue;
    }
    trt_node::emulated::SynchronizeDevice(allocation.device);
    return MemoryRegistry::Get().Free(devPtr, MemoryKind::kDevice, "cudaFree");
  });
}

// The memory is usable at once on `stream` (and, after an event, elsewhere); CUDA's pools are not
// modelled: each allocation is fresh, so stale pointers never alias new memory.
cudaError_t CUDARTAPI cudaMallocAsync(void** devPtr, size_t size, cudaStream_t hStream) {
  return Enter("cudaMallocAsync", [&] {
    if (devPtr == nullptr) return cudaErrorInvalidValue;
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    if (cudaError_t status = Runtime::Get().InitContext(stream->device()); status != cudaSuccess) return status;
    if (stream->captureStatus() != cudaStreamCaptureStatusNone) {
      stream->InvalidateCapture();  // graph memory nodes are not emulated
      return cudaErrorStreamCaptureUnsupported;
    }
    *devPtr = nullptr;
    if (size == 0) return cudaSuccess;
    *devPtr = MemoryRegistry::Get().Allocate(size, MemoryKind::kDevice, stream->device());
    Runtime::Get().NoteResourceCreated();
    return cudaSuccess;
  });
}

// Frees when the stream's worker gets there, not before and without waiting for any other stream:
// work on another stream that still reads the memory then touches freed memory (and is caught).
cudaError_t CUDARTAPI cudaFreeAsync(void* devPtr, cudaStream_t hStream) {
  return Enter("cudaFreeAsync", [&] {
    if (devPtr == nullptr) return cudaSuccess;
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    if (MemoryRegistry::Get().Find(devPtr, MemoryKind::kDevice, nullptr) != cudaSuccess) return cudaErrorInvalidValue;
    if (stream->captureStatus() != cudaStreamCaptureStatusNone) {
      stream->InvalidateCapture();
      return cudaErrorStreamCaptureUnsupported;
    }
    auto operation = std::make_shared<Operation>();
    operation->name = "cudaFreeAsync";
    operation->work = false;
    operation->run = [devPtr](const OperationContext&) {
      MemoryRegistry::Get().Free(devPtr, MemoryKind::kDevice, "cudaFreeAsync");
      return cudaSuccess;
    };
    return stream->Submit(std::move(operation));
  });
}

cudaError_t CUDARTAPI cudaHostAlloc(void** pHost, size_t size, unsigned int flags) {
  return Enter("cudaHostAlloc", [&] {
    if (pHost == nullptr) return cudaErrorInvalidValue;
    if (cudaError_t status = UseContext(); status != cudaSuccess) return status;
    if (cudaError_t refused = RefuseDuringCapture(); refused != cudaSuccess) return refused;
    *pHost = nullptr;
    if (size == 0) return cudaSuccess;
    *pHost = MemoryRegistry::Get().Allocate(size, MemoryKind::kPinned, CurrentThread().device);
    Runtime::Get().NoteResourceCreated();
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaMallocHost(void** ptr, size_t size) { return cudaHostAlloc(ptr, size, cudaHostAllocDefault); }

// Like CUDA, freeing pinned memory waits for the work of every device first.
cudaError_t CUDARTAPI cudaFreeHost(void* ptr) {
  return Enter("cudaFreeHost", [&] {
    if (ptr == nullptr) return cudaSuccess;
    if (cudaError_t refused = RefuseDuringCapture(); refused != cudaSuccess) return refused;
    if (MemoryRegistry::Get().Find(ptr, MemoryKind::kPinned, nullptr) != cudaSuccess) return cudaErrorInvalidValue;
    trt_node::emulated::SynchronizeDevice(-1);
    return MemoryRegistry::Get().Free(ptr, MemoryKind::kPinned, "cudaFreeHost");
  });
}

cudaError_t CUDARTAPI cudaHostGetDevicePointer(void** pDevice, void* pHost, unsigned int flags) {
  return Enter("cudaHostGetDevicePointer", [&] {
    if (pDevice == nullptr) return cudaErrorInvalidValue;
    Allocation allocation;
    if (!MemoryRegistry::Get().Lookup(pHost, &allocation) || allocation.freed ||
        allocation.kind != MemoryKind::kPinned) {
      return cudaErrorInvalidValue;
    }
    *pDevice = pHost;  // unified addressing
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaPointerGetAttributes(cudaPointerAttributes* attributes, const void* ptr) {
  return Enter("cudaPointerGetAttributes", [&] {
    if (attributes == nullptr) return cudaErrorInvalidValue;
    std::memset(attributes, 0, sizeof(*attributes));
    attributes->type = cudaMemoryTypeUnregistered;
    attributes->device = -2;
    Allocation allocation;
    if (MemoryRegistry::Get().Lookup(ptr, &allocation) && !allocation.freed) {
      const bool device = allocation.kind == MemoryKind::kDevice;
      attributes->type = device ? cudaMemoryTypeDevice : cudaMemoryTypeHost;
      attributes->device = allocation.device;
      attributes->devicePointer = const_cast<void*>(ptr);
      attributes->hostPointer = device ? nullptr : const_cast<void*>(ptr);
    }
    return cudaSuccess;
  });
}

cudaError_t CUDARTAPI cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind,
                                      cudaStream_t hStream) {
  return Enter("cudaMemcpyAsync", [&] {
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    if (cudaError_t sticky = Runtime::Get().device(stream->device()).sticky(); sticky != cudaSuccess) return sticky;
    if (count == 0) return cudaSuccess;
    if (dst == nullptr || src == nullptr || Quarantined(dst) || Quarantined(src)) return cudaErrorInvalidValue;
    // Even pageable memory is read when the worker gets there (CUDA "might" copy it synchronously;
    // code that relies on that is caught here).
    return stream->Submit(CopyOperation(dst, src, count, "cudaMemcpyAsync"));
  });
}

cudaError_t CUDARTAPI cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  return Enter("cudaMemcpy", [&] {
    if (cudaError_t status = UseContext(); status != cudaSuccess) return status;
    if (cudaError_t refused = RefuseDuringCapture(); refused != cudaSuccess) return refused;
    if (count == 0) return cudaSuccess;
    if (dst == nullptr || src == nullptr || Quarantined(dst) || Quarantined(src)) return cudaErrorInvalidValue;
    return SubmitAndWait(CopyOperation(dst, src, count, "cudaMemcpy"));
  });
}

cudaError_t CUDARTAPI cudaMemsetAsync(void* devPtr, int value, size_t count, cudaStream_t hStream) {
  return Enter("cudaMemsetAsync", [&] {
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    if (cudaError_t sticky = Runtime::Get().device(stream->device()).sticky(); sticky != cudaSuccess) return sticky;
    if (count == 0) return cudaSuccess;
    Allocation allocation;
    if (!MemoryRegistry::Get().Lookup(devPtr, &allocation) || allocation.freed) return cudaErrorInvalidValue;
    return stream->Submit(MemsetOperation(devPtr, value, count, "cudaMemsetAsync"));
  });
}

cudaError_t CUDARTAPI cudaMemset(void* devPtr, int value, size_t count) {
  return Enter("cudaMemset", [&] {
    if (cudaError_t status = UseContext(); status != cudaSuccess) return status;
    if (cudaError_t refused = RefuseDuringCapture(); refused != cudaSuccess) return refused;
    if (count == 0) return cudaSuccess;
    Allocation allocation;
    if (!MemoryRegistry::Get().Lookup(devPtr, &allocation) || allocation.freed) return cudaErrorInvalidValue;
    return SubmitAndWait(MemsetOperation(devPtr, value, count, "cudaMemset"));
  });
}
