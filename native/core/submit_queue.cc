#include "core/submit_queue.h"

#include <utility>

#include "core/error.h"

namespace trt_node {

SubmitQueue::SubmitQueue(const std::string& name, MakeFence makeFence, SerialThread::Task onThreadStart)
    : makeFence_(std::move(makeFence)),
      completionThread_(name + "-done", onThreadStart),
      submitThread_(name + "-submit", onThreadStart) {}

SubmitQueue::~SubmitQueue() { Shutdown(); }

bool SubmitQueue::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

void SubmitQueue::Submit(Enqueue enqueue, Done done) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) throw NativeError("ERR_DISPOSED", "The stream was disposed and accepts no more work");
  inFlight_.fetch_add(1, std::memory_order_acq_rel);
  // Posting under the lock keeps submission order identical to Submit() order across callers.
  // The job travels whole to the completion thread: whatever `enqueue` captured (buffers, TensorRT
  // contexts) is in use by the GPU until the fence completes, so it is released only after `done`.
  auto job = std::make_shared<Job>(Job{std::move(enqueue), std::move(done)});
  submitThread_.Post([this, job = std::move(job)]() mutable {
    std::exception_ptr error;
    try {
      job->enqueue();
    } catch (...) {
      error = std::current_exception();
    }
    // Fence even after a failed enqueue: part of the job may be on the GPU already.
    std::shared_ptr<Fence> fence;
    try {
      fence = makeFence_();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
    completionThread_.Post([this, fence = std::move(fence), error, job = std::move(job)]() mutable {
      if (fence) {
        try {
          fence->Wait();
        } catch (...) {
          if (!error) error = std::current_exception();
        }
        fence.reset();  // return the event to its pool before reporting
      }
      try {
        job->done(error);
      } catch (...) {
      }
      // Release what the job kept alive (`done` first, then the enqueue's captures: the GPU is done
      // with them) before it counts as finished.
      job.reset();
      inFlight_.fetch_sub(1, std::memory_order_acq_rel);
    });
  });
}

void SubmitQueue::Close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  closed_ = true;
  // The completion thread may close only after the submit thread forwarded every job to it.
  submitThread_.Post([this] { completionThread_.Close(); });
  submitThread_.Close();
}

void SubmitQueue::Shutdown() {
  Close();
  submitThread_.Join();
  completionThread_.Join();
}

}  // namespace trt_node
