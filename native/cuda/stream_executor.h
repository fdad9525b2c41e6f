// StreamExecutor: a CUDA stream plus the SubmitQueue (core/submit_queue.h) that feeds it. This is
// the completion mechanism every asynchronous GPU operation goes through (copies, kernels, and
// TensorRT's enqueueV3):
//
//   executor->Submit(
//       [=](cudaStream_t stream) { context->enqueueV3(stream); },   // submit thread: enqueue only
//       [=](std::exception_ptr error) { ... });                      // completion thread, once
//
// - Jobs run in submission order on the stream's own submit thread (never a libuv pool thread),
//   which has the stream's device selected. One stream = one ordered, never interleaved sequence.
// - After each job the submit thread records a pooled event; the completion thread waits for it
//   (a short spin on cudaEventQuery for low latency, then a blocking cudaEventSynchronize), and only
//   then calls `done`. Errors raised by the enqueue, and asynchronous GPU errors reported by the
//   event, both reach `done` as NativeError with the cudaError attached.
// - Everything a job touches must be kept alive by the job itself (capture shared_ptrs): `done` is
//   the first moment the GPU no longer uses it.
// From JavaScript, use napi/cuda_submit.h (SubmitToStream), which turns `done` into a settled promise.
#pragma once

#include <cuda_runtime_api.h>

#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/submit_queue.h"
#include "cuda/stream.h"

namespace trt_node::cuda {

class StreamExecutor {
 public:
  using Enqueue = std::function<void(cudaStream_t stream)>;
  using Done = SubmitQueue::Done;

  // How long the completion thread polls an event before it blocks on it. Polling wakes up within a
  // few microseconds of the GPU finishing; blocking costs a thread wake-up but no CPU.
  static constexpr int kDefaultSpinMicroseconds = 100;

  StreamExecutor(int device, int priority);
  ~StreamExecutor();  // Shutdown(): waits for submitted work (environment teardown and the releaser thread only)
  StreamExecutor(const StreamExecutor&) = delete;
  StreamExecutor& operator=(const StreamExecutor&) = delete;
  StreamExecutor(StreamExecutor&&) = delete;
  StreamExecutor& operator=(StreamExecutor&&) = delete;

  // Throws NativeError ERR_DISPOSED after Close(). `done` must not throw.
  void Submit(Enqueue enqueue, Done done);
  void Close() { queue_.Close(); }
  void Shutdown() { queue_.Shutdown(); }
  bool closed() const { return queue_.closed(); }
  size_t inFlight() const noexcept { return queue_.inFlight(); }

  int device() const noexcept { return stream_->device(); }
  int priority() const noexcept { return stream_->priority(); }
  cudaStream_t stream() const noexcept { return stream_->get(); }
  // Shared with stream-ordered device allocations, which free themselves in this stream's order.
  const std::shared_ptr<Stream>& sharedStream() const noexcept { return stream_; }
  SubmitQueue& queue() noexcept { return queue_; }

 private:
  class EventPool;
  class EventFence;

  std::shared_ptr<Stream> stream_;
  std::shared_ptr<EventPool> events_;  // outlives the queue: fences hand their events back to it
  SubmitQueue queue_;                  // last: its threads stop before the members above go
};

}  // namespace trt_node::cuda
