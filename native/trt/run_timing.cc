#include "trt/run_timing.h"

#include <algorithm>

#include "core/monotonic_clock.h"
#include "cuda/cuda_error.h"
#include "cuda/device.h"

namespace trt_node::trt {

PhaseTimes ToPhaseTimes(double anchorHostMs, const EventOffsets& offsets, double enqueueStartMs, double enqueueEndMs) {
  PhaseTimes times;
  times.enqueueStartMs = enqueueStartMs;
  times.enqueueEndMs = std::max(enqueueStartMs, enqueueEndMs);
  // The GPU cannot start a run's work before the host enqueued it: the anchor maps with a small
  // error (the polling interval), which must not make the GPU appear to run ahead of the host.
  times.h2dStartMs = std::max(anchorHostMs + offsets.originToStart, enqueueStartMs);
  times.h2dEndMs = times.h2dStartMs + std::max(0.0, offsets.startToH2dEnd);
  times.computeStartMs = times.h2dEndMs;
  times.computeEndMs = std::max(times.computeStartMs, times.h2dStartMs + offsets.startToComputeEnd);
  times.d2hStartMs = times.computeEndMs;
  times.d2hEndMs = std::max(times.d2hStartMs, times.h2dStartMs + offsets.startToEnd);
  return times;
}

TimingEventPool::~TimingEventPool() {
  for (cudaEvent_t event : free_) cudaEventDestroy(event);
  cudaGetLastError();
}

cudaEvent_t TimingEventPool::Take() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!free_.empty()) {
      cudaEvent_t event = free_.back();
      free_.pop_back();
      return event;
    }
  }
  cuda::ScopedDevice device(device_);
  cudaEvent_t event = nullptr;
  // Timing enabled, no blocking sync: nobody waits on these, they are only read after completion.
  cuda::CudaCheck(cudaEventCreateWithFlags(&event, cudaEventDefault), "cudaEventCreateWithFlags");
  return event;
}

void TimingEventPool::Return(cudaEvent_t event) {
  if (event == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  free_.push_back(event);
}

TimingAnchor::~TimingAnchor() {
  if (pool) pool->Return(origin);
}

RunTimer::RunTimer(std::shared_ptr<TimingEventPool> pool, std::shared_ptr<TimingAnchor> anchor)
    : pool_(std::move(pool)), anchor_(std::move(anchor)) {
  try {
    for (cudaEvent_t& event : events_) event = pool_->Take();
  } catch (...) {
    for (cudaEvent_t event : events_) pool_->Return(event);
    throw;
  }
}

RunTimer::~RunTimer() {
  for (cudaEvent_t event : events_) pool_->Return(event);
}

void RunTimer::Record(Mark mark, cudaStream_t stream) {
  cuda::CudaCheck(cudaEventRecord(events_[mark], stream), "cudaEventRecord");
}

PhaseTimes RunTimer::Resolve() const {
  cuda::ScopedDevice device(pool_->device());
  auto elapsed = [](cudaEvent_t from, cudaEvent_t to) {
    float milliseconds = 0;
    cuda::CudaCheck(cudaEventElapsedTime(&milliseconds, from, to), "cudaEventElapsedTime");
    return static_cast<double>(milliseconds);
  };
  EventOffsets offsets;
  offsets.originToStart = elapsed(anchor_->origin, events_[kStart]);
  offsets.startToH2dEnd = elapsed(events_[kStart], events_[kH2dEnd]);
  offsets.startToComputeEnd = elapsed(events_[kStart], events_[kComputeEnd]);
  offsets.startToEnd = elapsed(events_[kStart], events_[kEnd]);
  return ToPhaseTimes(anchor_->hostMs, offsets, enqueueStartMs_, enqueueEndMs_);
}

std::shared_ptr<TimingAnchor> TimingClock::Anchor(cudaStream_t stream) {
  const double now = MonotonicMilliseconds();
  if (anchor_) {
    if (now - anchor_->hostMs < kRenewAfterMs) return anchor_;
    const cudaError_t idle = cudaStreamQuery(stream);
    if (idle != cudaSuccess) {
      cudaGetLastError();  // cudaErrorNotReady: busy, keep the old anchor (durations stay exact)
      return anchor_;
    }
  } else {
    // The very first anchor: wait for what the stream already has (once per context).
    cuda::CudaCheck(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  }
  auto anchor = std::make_shared<TimingAnchor>();
  anchor->pool = pool_;
  anchor->origin = pool_->Take();
  cuda::CudaCheck(cudaEventRecord(anchor->origin, stream), "cudaEventRecord");
  // Poll rather than block: a blocking wait wakes up tens of microseconds late, and that delay
  // would shift every GPU time of the next seconds.
  for (;;) {
    const cudaError_t status = cudaEventQuery(anchor->origin);
    if (status == cudaSuccess) break;
    if (status != cudaErrorNotReady) cuda::CudaCheck(status, "cudaEventQuery");
  }
  anchor->hostMs = MonotonicMilliseconds();
  cudaGetLastError();
  anchor_ = std::move(anchor);
  return anchor_;
}

}  // namespace trt_node::trt
