#include "emulated/cuda/state.h"

#include <cstdio>
#include <cstdlib>

namespace trt_node::emulated {

bool IsSticky(cudaError_t error) noexcept {
  switch (static_cast<int>(error)) {
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

void Diagnose(const std::string& message) {
  std::fprintf(stderr, "tensorrt-node emulated device (no GPU): %s\n", message.c_str());
}

void DeviceState::Poison(cudaError_t error, const std::string& why) {
  int expected = cudaSuccess;
  if (stickyError.compare_exchange_strong(expected, error)) {
    Diagnose(std::string(cudaGetErrorName(error)) +
             " (sticky: the device is unusable until the process exits): " + why);
  }
}

cudaError_t DeviceState::CountOperation() {
  const uint64_t count = static_cast<uint64_t>(operationsExecuted.fetch_add(1) + 1);
  std::lock_guard<std::mutex> lock(failureMutex);
  if (failAtOperation != 0 && count == failAtOperation) {
    failAtOperation = 0;
    return failWith;
  }
  return cudaSuccess;
}

namespace {

int EnvironmentInt(const char* name, int fallback, int low, int high) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < low || value > high) return fallback;
  return static_cast<int>(value);
}

}  // namespace

Runtime::Runtime() {
  deviceCount_.store(EnvironmentInt("TRTNODE_EMULATED_DEVICE_COUNT", 1, 1, kMaxDevices));
  latencyMicroseconds_.store(EnvironmentInt("TRTNODE_EMULATED_LATENCY_US", 0, 0, 10'000'000));
}

Runtime& Runtime::Get() {
  static Runtime* runtime = new Runtime();  // never destroyed: detached stream workers may still run at exit
  return *runtime;
}

cudaError_t Runtime::SetDeviceCount(int count) {
  if (count < 1 || count > kMaxDevices || resourcesCreated_.load()) return cudaErrorInvalidValue;
  deviceCount_.store(count);
  return cudaSuccess;
}

cudaError_t Runtime::InitContext(int index) {
  if (!ValidDevice(index)) return cudaErrorInvalidDevice;
  DeviceState& state = device(index);
  std::call_once(state.context, [&state] { state.contextsCreated.fetch_add(1); });
  return state.sticky();
}

void Runtime::FailCall(const std::string& api, cudaError_t error, uint64_t nth) {
  std::lock_guard<std::mutex> lock(callFailuresMutex_);
  if (error == cudaSuccess || nth == 0) {
    callFailures_.erase(api);
  } else {
    callFailures_[api] = CallFailure{nth, error};
  }
  anyCallFailure_.store(!callFailures_.empty());
}

cudaError_t Runtime::TakeCallFailure(const char* api) {
  if (!anyCallFailure_.load(std::memory_order_relaxed)) return cudaSuccess;
  std::lock_guard<std::mutex> lock(callFailuresMutex_);
  auto found = callFailures_.find(api);
  if (found == callFailures_.end() || --found->second.remaining > 0) return cudaSuccess;
  const cudaError_t error = found->second.error;
  callFailures_.erase(found);
  anyCallFailure_.store(!callFailures_.empty());
  return error;
}

ThreadState& CurrentThread() noexcept {
  thread_local ThreadState state;
  return state;
}

cudaError_t Report(cudaError_t status) noexcept {
  if (status != cudaSuccess && status != cudaErrorNotReady) CurrentThread().lastError = status;
  return status;
}

cudaError_t UseContext() noexcept {
  ThreadState& thread = CurrentThread();
  const cudaError_t status = Runtime::Get().InitContext(thread.device);
  if (status == cudaSuccess || IsSticky(status)) thread.contextBound = true;
  return status;
}

}  // namespace trt_node::emulated
