// Per-run phase timings, as trtexec reports them: Enqueue Time from the host clock of the submit
// thread, H2D Latency, GPU Compute Time and D2H Latency from CUDA events recorded between the
// phases. Event times become host times through an anchor: an origin event whose host time is
// known (recorded on an idle stream and polled), so t(event) = anchor.hostMs + elapsed(origin,
// event), as trtexec pairs its GPU and CPU start times. Durations are taken between neighbouring
// events (cudaEventElapsedTime is a float in ms: precise over short spans only), and the anchor is
// renewed every few seconds while the stream is idle.
#pragma once

#include <cuda_runtime_api.h>

#include <array>
#include <memory>
#include <mutex>
#include <vector>

namespace trt_node::trt {

// Host times (ms on CLOCK_MONOTONIC, see core/monotonic_clock.h) of one run's phases. Without
// transfers the H2D phase is empty (h2dStart == h2dEnd == computeStart), and likewise D2H.
struct PhaseTimes {
  double enqueueStartMs = 0;
  double enqueueEndMs = 0;
  double h2dStartMs = 0;
  double h2dEndMs = 0;
  double computeStartMs = 0;
  double computeEndMs = 0;
  double d2hStartMs = 0;
  double d2hEndMs = 0;
};

// Elapsed times read from the events, in ms.
struct EventOffsets {
  double originToStart = 0;
  double startToH2dEnd = 0;
  double startToComputeEnd = 0;
  double startToEnd = 0;
};

// Pure arithmetic, unit-tested: phases never overlap or run backwards even when float rounding of
// cudaEventElapsedTime would make them (each boundary is clamped to the one before it).
PhaseTimes ToPhaseTimes(double anchorHostMs, const EventOffsets& offsets, double enqueueStartMs, double enqueueEndMs);

// Timing-enabled events, reused across runs (creating events per run would cost more than small runs).
class TimingEventPool : public std::enable_shared_from_this<TimingEventPool> {
 public:
  explicit TimingEventPool(int device) : device_(device) {}
  ~TimingEventPool();
  TimingEventPool(const TimingEventPool&) = delete;
  TimingEventPool& operator=(const TimingEventPool&) = delete;

  cudaEvent_t Take();  // throws NativeError
  void Return(cudaEvent_t event);
  int device() const noexcept { return device_; }

 private:
  int device_;
  std::mutex mutex_;
  std::vector<cudaEvent_t> free_;
};

struct TimingAnchor {
  cudaEvent_t origin = nullptr;
  double hostMs = 0;
  std::shared_ptr<TimingEventPool> pool;
  ~TimingAnchor();
};

// One run's events. Marks are recorded on the submit thread; Resolve() runs once the stream
// completed them (on any thread).
class RunTimer {
 public:
  RunTimer(std::shared_ptr<TimingEventPool> pool, std::shared_ptr<TimingAnchor> anchor);
  ~RunTimer();
  RunTimer(const RunTimer&) = delete;
  RunTimer& operator=(const RunTimer&) = delete;

  enum Mark { kStart = 0, kH2dEnd = 1, kComputeEnd = 2, kEnd = 3 };
  void Record(Mark mark, cudaStream_t stream);
  void SetEnqueueTimes(double startMs, double endMs) {
    enqueueStartMs_ = startMs;
    enqueueEndMs_ = endMs;
  }
  PhaseTimes Resolve() const;  // throws NativeError when an event is not complete

 private:
  std::shared_ptr<TimingEventPool> pool_;
  std::shared_ptr<TimingAnchor> anchor_;
  std::array<cudaEvent_t, 4> events_{};
  double enqueueStartMs_ = 0;
  double enqueueEndMs_ = 0;
};

// The anchor for runs on one stream (submit thread only).
class TimingClock {
 public:
  explicit TimingClock(std::shared_ptr<TimingEventPool> pool) : pool_(std::move(pool)) {}
  // The current anchor; a new one first when there is none, or when the old one is older than
  // kRenewAfterMs and the stream is idle (renewing waits for the stream, so never while it is busy).
  std::shared_ptr<TimingAnchor> Anchor(cudaStream_t stream);
  const std::shared_ptr<TimingEventPool>& pool() const noexcept { return pool_; }

  static constexpr double kRenewAfterMs = 5000;

 private:
  std::shared_ptr<TimingEventPool> pool_;
  std::shared_ptr<TimingAnchor> anchor_;
};

}  // namespace trt_node::trt
