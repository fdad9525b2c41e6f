// Process-wide state of the emulated CUDA device: the devices (contexts, sticky errors, injected
// failures, counters), the per-thread runtime state (current device, last error) and the one entry
// helper every API function goes through. EMULATION, NOT A GPU (see hooks.h).
#pragma once

#include <cuda_runtime_api.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

struct CUstream_st;

namespace trt_node::emulated {

inline constexpr int kMaxDevices = 8;
inline constexpr uint64_t kDeviceMemoryBytes = 8ull << 30;  // what cudaMemGetInfo reports as total

// Errors after which CUDA cannot continue in this process ("the process must be terminated and
// relaunched", driver_types.h of CUDA 13).
bool IsSticky(cudaError_t error) noexcept;

struct DeviceState {
  std::once_flag context;
  std::atomic<int64_t> contextsCreated{0};
  std::atomic<int> stickyError{cudaSuccess};
  std::atomic<int64_t> operationsExecuted{0};
  std::atomic<int64_t> hostFunctionsExecuted{0};
  std::atomic<int64_t> graphLaunches{0};
  std::atomic<int64_t> memoryViolations{0};
  std::atomic<int64_t> liveStreams{0};
  std::atomic<int64_t> liveEvents{0};
  std::atomic<int64_t> liveGraphs{0};
  std::atomic<int64_t> liveGraphExecs{0};

  std::mutex failureMutex;
  uint64_t failAtOperation = 0;  // value of operationsExecuted that fails; 0: none
  cudaError_t failWith = cudaSuccess;

  cudaError_t sticky() const noexcept { return static_cast<cudaError_t>(stickyError.load()); }
  // Sets the sticky error (the first one wins) and says so on stderr: a dead device is worth a line.
  void Poison(cudaError_t error, const std::string& why);
  // The injected failure due at this operation, if any (counts the operation).
  cudaError_t CountOperation();
};

class Runtime {
 public:
  static Runtime& Get();  // immortal: stream workers may outlive static destruction

  int deviceCount() const noexcept { return deviceCount_.load(); }
  cudaError_t SetDeviceCount(int count);
  DeviceState& device(int index) { return devices_[static_cast<size_t>(index)]; }
  bool ValidDevice(int index) const noexcept { return index >= 0 && index < deviceCount(); }

  // Makes the primary context of `device` exist (counted once); fails with the device's sticky error.
  cudaError_t InitContext(int device);

  int64_t latencyMicroseconds() const noexcept { return latencyMicroseconds_.load(); }
  void SetLatencyMicroseconds(int64_t value) noexcept { latencyMicroseconds_.store(value < 0 ? 0 : value); }

  void FailCall(const std::string& api, cudaError_t error, uint64_t nth);
  cudaError_t TakeCallFailure(const char* api);

  // Handles (streams, events, allocations) ever created: device count changes are refused after that.
  void NoteResourceCreated() noexcept { resourcesCreated_.store(true); }

 private:
  Runtime();
  std::atomic<int> deviceCount_{1};
  std::array<DeviceState, kMaxDevices> devices_;
  std::atomic<int64_t> latencyMicroseconds_{0};
  std::atomic<bool> resourcesCreated_{false};
  std::mutex callFailuresMutex_;
  struct CallFailure {
    uint64_t remaining;
    cudaError_t error;
  };
  std::map<std::string, CallFailure> callFailures_;
  std::atomic<bool> anyCallFailure_{false};
};

// What the runtime keeps per host thread.
struct ThreadState {
  int device = 0;             // cudaGetDevice: 0 until cudaSetDevice, like CUDA
  bool contextBound = false;  // a context is current on this thread (cuCtxGetCurrent != NULL)
  cudaError_t lastError = cudaSuccess;
  bool inHostFunction = false;  // CUDA forbids runtime calls from host functions
  // Captures this thread began in global or thread-local mode: while one is open, calls that may
  // synchronize implicitly are refused and invalidate it (modelled per thread for both modes).
  std::vector<std::weak_ptr<CUstream_st>> captures;
};
ThreadState& CurrentThread() noexcept;

// Records `status` as the thread's last error (not cudaErrorNotReady, which is an answer) and returns it.
cudaError_t Report(cudaError_t status) noexcept;

// The current device's context, created on first use as CUDA does; its sticky error once poisoned.
cudaError_t UseContext() noexcept;

// The entry of every API function: refuses calls from host functions, applies injected call
// failures, turns exceptions into CUDA errors and records the outcome as the last error.
template <typename Body>
cudaError_t Enter(const char* api, Body&& body) noexcept {
  ThreadState& thread = CurrentThread();
  if (thread.inHostFunction) return Report(cudaErrorNotPermitted);
  if (cudaError_t injected = Runtime::Get().TakeCallFailure(api); injected != cudaSuccess) return Report(injected);
  cudaError_t status = cudaSuccess;
  try {
    status = body();
  } catch (const std::bad_alloc&) {
    status = cudaErrorMemoryAllocation;
  } catch (...) {
    status = cudaErrorUnknown;
  }
  return Report(status);
}

// One diagnostic line on stderr, always prefixed so that nobody mistakes it for a GPU's.
void Diagnose(const std::string& message);

}  // namespace trt_node::emulated
