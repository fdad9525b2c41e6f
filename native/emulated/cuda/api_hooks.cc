// The trtnodeEmulated* test hooks (hooks.h) and the kernel launch the emulated kernels use.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "emulated/cuda/hooks.h"
#include "emulated/cuda/memory.h"
#include "emulated/cuda/state.h"
#include "emulated/cuda/stream.h"

using trt_node::emulated::AccessCheck;
using trt_node::emulated::DeviceState;
using trt_node::emulated::Enter;
using trt_node::emulated::FindStream;
using trt_node::emulated::kMaxDevices;
using trt_node::emulated::MemoryKind;
using trt_node::emulated::MemoryRegistry;
using trt_node::emulated::Operation;
using trt_node::emulated::OperationContext;
using trt_node::emulated::Runtime;

namespace trt_node::emulated {
cudaError_t Violation(const OperationContext& context, const std::string& operation, const AccessCheck& check);
}  // namespace trt_node::emulated

namespace {

int64_t DeviceCounter(const DeviceState& device, const std::string& name) {
  if (name == "contextsCreated") return device.contextsCreated.load();
  if (name == "operationsExecuted") return device.operationsExecuted.load();
  if (name == "hostFunctionsExecuted") return device.hostFunctionsExecuted.load();
  if (name == "graphLaunches") return device.graphLaunches.load();
  if (name == "memoryViolations") return device.memoryViolations.load();
  if (name == "liveStreams") return device.liveStreams.load();
  if (name == "liveEvents") return device.liveEvents.load();
  if (name == "liveGraphs") return device.liveGraphs.load();
  if (name == "liveGraphExecs") return device.liveGraphExecs.load();
  if (name == "stickyError") return device.stickyError.load();
  return -1;
}

}  // namespace

extern "C" {

int trtnodeEmulatedSetDeviceCount(int count) { return Runtime::Get().SetDeviceCount(count); }

int64_t trtnodeEmulatedCounter(const char* name, int device) {
  if (name == nullptr) return -1;
  Runtime& runtime = Runtime::Get();
  if (device >= runtime.deviceCount()) return -1;
  const std::string counter = name;
  MemoryRegistry& memory = MemoryRegistry::Get();
  if (counter == "liveDeviceAllocations") return memory.liveCount(MemoryKind::kDevice, device);
  if (counter == "liveDeviceBytes") return memory.liveBytes(MemoryKind::kDevice, device);
  if (counter == "livePinnedAllocations") return memory.liveCount(MemoryKind::kPinned, device);
  if (counter == "livePinnedBytes") return memory.liveBytes(MemoryKind::kPinned, device);
  if (device >= 0) return DeviceCounter(runtime.device(device), counter);
  int64_t total = 0;
  for (int index = 0; index < kMaxDevices; ++index) {
    const int64_t value = DeviceCounter(runtime.device(index), counter);
    if (value < 0) return -1;
    total = counter == "stickyError" ? (total != 0 ? total : value) : total + value;
  }
  return total;
}

int64_t trtnodeEmulatedStreamOperations(cudaStream_t stream) {
  std::shared_ptr<CUstream_st> found = FindStream(stream);
  return found ? found->executed() : -1;
}

int trtnodeEmulatedFailOperation(int device, int error, uint64_t nth) {
  Runtime& runtime = Runtime::Get();
  if (!runtime.ValidDevice(device)) return cudaErrorInvalidDevice;
  DeviceState& state = runtime.device(device);
  std::lock_guard<std::mutex> lock(state.failureMutex);
  if (error == 0 || nth == 0) {
    state.failAtOperation = 0;
    return cudaSuccess;
  }
  state.failAtOperation = static_cast<uint64_t>(state.operationsExecuted.load()) + nth;
  state.failWith = static_cast<cudaError_t>(error);
  return cudaSuccess;
}

int trtnodeEmulatedFailCall(const char* api, int error, uint64_t nth) {
  if (api == nullptr) return cudaErrorInvalidValue;
  Runtime::Get().FailCall(api, static_cast<cudaError_t>(error), nth);
  return cudaSuccess;
}

void trtnodeEmulatedSetLatencyMicroseconds(int64_t microseconds) {
  Runtime::Get().SetLatencyMicroseconds(microseconds);
}

cudaError_t trtnodeEmulatedLaunchKernel(cudaStream_t hStream, const char* name, TrtnodeEmulatedKernelBody body,
                                        const void* params, size_t paramsBytes, const TrtnodeEmulatedAccess* accesses,
                                        size_t accessCount) {
  return Enter("trtnodeEmulatedLaunchKernel", [&] {
    if (body == nullptr || (paramsBytes > 0 && params == nullptr) || (accessCount > 0 && accesses == nullptr)) {
      return cudaErrorInvalidValue;
    }
    std::shared_ptr<CUstream_st> stream = FindStream(hStream);
    if (!stream) return cudaErrorInvalidResourceHandle;
    if (cudaError_t sticky = Runtime::Get().device(stream->device()).sticky(); sticky != cudaSuccess) return sticky;
    // The arguments are copied now, as a launch does: the caller's struct may go right after.
    auto storage = std::make_shared<std::vector<std::max_align_t>>((paramsBytes + sizeof(std::max_align_t) - 1) /
                                                                   sizeof(std::max_align_t));
    if (paramsBytes > 0) std::memcpy(storage->data(), params, paramsBytes);
    std::vector<TrtnodeEmulatedAccess> ranges(accesses, accesses + accessCount);
    auto operation = std::make_shared<Operation>();
    operation->name = std::string("kernel ") + (name != nullptr ? name : "(unnamed)");
    operation->run = [body, storage, ranges = std::move(ranges),
                      label = operation->name](const OperationContext& context) {
      for (const TrtnodeEmulatedAccess& range : ranges) {
        const AccessCheck check = MemoryRegistry::Get().Check(range.address, range.bytes, true, context.device,
                                                              range.write ? "its output" : "its input");
        if (check.status != cudaSuccess) return trt_node::emulated::Violation(context, label, check);
      }
      body(storage->data());
      return cudaSuccess;
    };
    return stream->Submit(std::move(operation));
  });
}

}  // extern "C"
