// RAII over a CUDA event. Events block (rather than spin) when a host thread synchronizes on them,
// and record timing only when asked (timing costs a little on every record).
#pragma once

#include <cuda_runtime_api.h>

namespace trt_node::cuda {

class Event {
 public:
  Event(int device, bool timing);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  Event(Event&&) = delete;
  Event& operator=(Event&&) = delete;

  cudaEvent_t get() const noexcept { return event_; }
  int device() const noexcept { return device_; }
  bool timing() const noexcept { return timing_; }

  void Record(cudaStream_t stream);
  // True once the GPU reached the event (or it was never recorded); throws when the work before it failed.
  bool Query() const;
  // Milliseconds between two completed timing events (CUDA's resolution is about 0.5 us).
  static float ElapsedMilliseconds(const Event& start, const Event& end);

 private:
  int device_;
  bool timing_;
  cudaEvent_t event_ = nullptr;
};

}  // namespace trt_node::cuda
