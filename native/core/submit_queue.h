// SubmitQueue: the ordered two-thread pipeline behind every asynchronous GPU operation.
//
//   caller (JS thread)      submit thread                     completion thread
//   Submit(enqueue, done) -> enqueue(); fence = makeFence()  -> fence->Wait(); done(error)
//
// - One queue serves one CUDA stream (cuda::StreamExecutor supplies an event as the fence), so jobs
//   are enqueued in submission order and never interleaved, and `done` runs in the same order.
// - The submit thread only enqueues (enqueueV3, cudaMemcpyAsync, kernel launches: fast, but not
//   free); the completion thread is the only one that waits for the GPU. Neither is a libuv pool
//   thread, and the caller never blocks: Submit() only appends to a queue.
// - Work enqueued by job N+1 overlaps with the GPU running job N: the submit thread never waits.
// - Everything a job owns (the `enqueue` and `done` functions and what they capture) lives until its
//   `done` has returned: the GPU may use what `enqueue` captured until the fence completes.
// - `done` is called exactly once for every accepted job, with nullptr or the first error raised by
//   `enqueue`, by making the fence, or by waiting on it. When `enqueue` throws after enqueueing part
//   of its work, the queue still waits for that part before calling `done`, so memory the job uses
//   can be released in `done` safely.
// - Close() stops intake without blocking; accepted jobs still run to completion. Shutdown() closes
//   and waits for all of them (environment teardown only: it waits on the GPU).
//
// Plain C++ without CUDA, so the ordering/error/shutdown logic is unit-tested with a host fence.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/serial_thread.h"

namespace trt_node {

class SubmitQueue {
 public:
  // Marks "everything enqueued so far" and lets the completion thread wait for it.
  class Fence {
   public:
    virtual ~Fence() = default;
    // Blocks the completion thread until the marked work finished; throws NativeError when it failed.
    virtual void Wait() = 0;
  };
  using MakeFence = std::function<std::unique_ptr<Fence>()>;
  using Enqueue = std::function<void()>;
  using Done = std::function<void(std::exception_ptr error)>;

  // `onThreadStart` runs first on both threads (CUDA: select the stream's device, a per-thread
  // setting). `name` prefixes the thread names ("<name>-submit", "<name>-done").
  SubmitQueue(const std::string& name, MakeFence makeFence, SerialThread::Task onThreadStart = nullptr);
  ~SubmitQueue();  // Shutdown()

  SubmitQueue(const SubmitQueue&) = delete;
  SubmitQueue& operator=(const SubmitQueue&) = delete;
  SubmitQueue(SubmitQueue&&) = delete;
  SubmitQueue& operator=(SubmitQueue&&) = delete;

  // Accepts a job, or throws NativeError ERR_DISPOSED once the queue is closed (`done` is then never
  // called). `done` must not throw; it runs on the completion thread.
  void Submit(Enqueue enqueue, Done done);
  void Close();     // non-blocking, idempotent
  void Shutdown();  // Close() and wait until every accepted job's `done` has returned; idempotent
  bool closed() const;
  // Accepted jobs whose `done` has not returned yet.
  size_t inFlight() const noexcept { return inFlight_.load(std::memory_order_acquire); }

 private:
  struct Job {
    Enqueue enqueue;
    Done done;
  };

  MakeFence makeFence_;
  std::atomic<size_t> inFlight_{0};
  mutable std::mutex mutex_;
  bool closed_ = false;
  // Destroyed in reverse order: the submit thread (which posts to the completion thread) goes first.
  SerialThread completionThread_;
  SerialThread submitThread_;
};

}  // namespace trt_node
