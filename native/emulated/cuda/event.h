// Emulated events. cudaEventRecord takes a generation number on the calling thread and queues its
// completion on the stream: the event completes when the stream's worker gets there, later than it
// was recorded, as on a GPU. Waits (cudaStreamWaitEvent, cudaEventSynchronize) bind to the latest
// record made before them. EMULATION, NOT A GPU (see hooks.h).
#pragma once

#include <cuda_runtime_api.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

struct CUevent_st : std::enable_shared_from_this<CUevent_st> {
 public:
  CUevent_st(int device, unsigned flags);
  ~CUevent_st();
  CUevent_st(const CUevent_st&) = delete;
  CUevent_st& operator=(const CUevent_st&) = delete;

  int device() const noexcept { return device_; }
  bool timing() const noexcept { return (flags_ & cudaEventDisableTiming) == 0; }

  // Called by cudaEventRecord: the generation the stream will complete.
  uint64_t NextRecord();
  // Called on the stream's worker when it reaches that record.
  void Complete(uint64_t generation, cudaError_t error);
  uint64_t recorded() const;

  // cudaSuccess once the latest record completed (or never recorded), cudaErrorNotReady before, or
  // the error of the work before it.
  cudaError_t Query() const;
  // Blocks until `generation` (the latest record at call time) completed.
  cudaError_t Wait(uint64_t generation) const;
  // The completion time of the latest record; false while it is pending or never recorded.
  bool CompletedAt(std::chrono::steady_clock::time_point* time) const;

 private:
  const int device_;
  const unsigned flags_;
  mutable std::mutex mutex_;
  mutable std::condition_variable completed_;
  uint64_t recorded_ = 0;
  uint64_t completedGeneration_ = 0;
  cudaError_t error_ = cudaSuccess;
  std::chrono::steady_clock::time_point time_{};
};

namespace trt_node::emulated {

std::shared_ptr<CUevent_st> CreateEvent(int device, unsigned flags);
std::shared_ptr<CUevent_st> FindEvent(cudaEvent_t handle);
bool DestroyEvent(cudaEvent_t handle);

}  // namespace trt_node::emulated
